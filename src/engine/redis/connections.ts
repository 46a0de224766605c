/**
 * The two Redis connections a node needs — one for commands and scripts, one in subscriber
 * mode — with the settings that keep a node serving while Redis is away: every command has a
 * timeout, nothing queues while disconnected (calls fail at once with a temporary error), and
 * ioredis reconnects by itself and restores pub/sub subscriptions.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import { EngineUnavailableError } from '../types.js';

export interface RedisConnectionOptions {
  /** redis://[user:password@]host:port/db */
  readonly url: string;
  /** Every command's timeout, and the time to connect at start. */
  readonly timeoutMs: number;
  readonly log: Logger;
}

/** The Lua scripts, read once from scripts/*.lua and run by SHA (EVALSHA, falling back to EVAL). */
const SCRIPTS = {
  canalPublish: { file: 'publish.lua', keys: 3 },
  canalHistory: { file: 'history.lua', keys: 2 },
  canalPresence: { file: 'presence.lua', keys: 3 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

type ScriptRunner = (...args: Array<string | number>) => Promise<unknown>;

function loadScript(file: string): string {
  return readFileSync(new URL(`./scripts/${file}`, import.meta.url), 'utf8');
}

/** Turns whatever ioredis throws into a temporary engine error that says what failed. */
export function unavailable(what: string, err: unknown): EngineUnavailableError {
  if (err instanceof EngineUnavailableError) return err;
  return new EngineUnavailableError(`Redis ${what} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export class RedisConnections {
  readonly command: Redis;
  readonly subscriber: Redis;
  readonly #options: RedisConnectionOptions;
  #started = false;
  /** Set once both connections were ready; before that, errors are kept for the start failure. */
  #connected = false;
  #lastError: Error | undefined;

  constructor(options: RedisConnectionOptions) {
    this.#options = options;
    const connect = (connectionName: string): Redis => new Redis(options.url, {
      connectionName,
      lazyConnect: true,
      commandTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: true,
      // Reconnect forever, backing off to 2 s between attempts.
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
    });
    this.command = connect('canal-commands');
    this.subscriber = connect('canal-subscriber');
    const sources: string[] = [];
    for (const [name, script] of Object.entries(SCRIPTS)) {
      const lua = loadScript(script.file);
      sources.push(lua);
      this.command.defineCommand(name, { numberOfKeys: script.keys, lua });
    }
    // Load the scripts whenever the connection is (re)established, before any call: a Redis that
    // restarted has none, and EVALSHA falling back to EVAL one call at a time could let a later
    // pipelined publish run before an earlier one.
    this.command.on('ready', () => {
      for (const lua of sources) this.command.script('LOAD', lua).catch(() => {});
    });
    let warned = false;
    for (const [role, conn] of [['commands', this.command], ['subscriber', this.subscriber]] as const) {
      conn.on('error', (err: Error) => {
        this.#lastError = err;
        if (!this.#connected) return;
        if (!warned) options.log.warn({ err: err.message, role }, 'Redis connection error; reconnecting');
        warned = true;
      });
      conn.on('ready', () => {
        if (warned) options.log.info({ role }, 'Redis connection restored');
        warned = false;
      });
    }
  }

  /**
   * Connects both connections. Throws EngineUnavailableError (naming the URL, without its
   * password) when Redis does not answer within the timeout.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    try {
      await Promise.all([this.command.connect(), this.subscriber.connect()]);
      this.#connected = true;
    } catch (err) {
      this.command.disconnect();
      this.subscriber.disconnect();
      const cause = this.#lastError ?? (err as Error);
      throw new EngineUnavailableError(`cannot reach Redis at ${redactUrl(this.#options.url)} (${cause.message})`, { cause });
    }
  }

  /** Runs one of the Lua scripts. */
  script(name: ScriptName, ...args: Array<string | number>): Promise<unknown> {
    return ((this.command as unknown as Record<ScriptName, ScriptRunner>)[name])(...args);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.command.quit(), this.subscriber.quit()]);
    this.command.disconnect();
    this.subscriber.disconnect();
  }
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
