/**
 * The two Redis connections a node needs — one for commands and scripts, one in subscriber
 * mode — to one of three set-ups: a single Redis (a URL), a Redis whose master is found and
 * followed through Sentinel, or a Redis Cluster (sharded pub/sub). Settings keep a node serving
 * while Redis is away: every command has a timeout, nothing queues while disconnected (calls fail
 * at once with a temporary error), and ioredis reconnects by itself. Pub/sub subscriptions are
 * restored by the broker, not by ioredis (see RedisBroker), so only channels still wanted are.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import { EngineUnavailableError } from '../types.js';
import { packagePath } from '../../util/package-path.js';

/** A host and port of a sentinel or cluster node. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

/** Where Redis is. */
export type RedisTopology =
  /** One Redis: redis://[user:password@]host:port/db */
  | { readonly kind: 'single'; readonly url: string }
  /** The master named `master`, as the sentinels report it; followed across failovers. */
  | {
    readonly kind: 'sentinel'; readonly sentinels: readonly RedisAddress[]; readonly master: string;
    readonly password?: string; readonly sentinelPassword?: string;
  }
  /** A Redis Cluster (>= 7), found from any of its nodes; publications use sharded pub/sub. */
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisAddress[]; readonly password?: string };

export interface RedisConnectionOptions {
  readonly topology: RedisTopology;
  /** Every command's timeout, and the time to connect at start. */
  readonly timeoutMs: number;
  readonly log: Logger;
}

/** The Lua scripts, read once from scripts/*.lua and run by SHA (EVALSHA, falling back to EVAL). */
const SCRIPTS = {
  canalPublish: { file: 'publish.lua', keys: 3 },
  canalHistory: { file: 'history.lua', keys: 2 },
  canalPresence: { file: 'presence.lua', keys: 3 },
  canalUsers: { file: 'users.lua', keys: 2 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

type ScriptRunner = (...args: Array<string | number>) => Promise<unknown>;

function loadScript(file: string): string {
  return readFileSync(packagePath(import.meta.url, `./scripts/${file}`, `redis-scripts/${file}`), 'utf8');
}

/** Turns whatever ioredis throws into a temporary engine error that says what failed. */
export function unavailable(what: string, err: unknown): EngineUnavailableError {
  if (err instanceof EngineUnavailableError) return err;
  return new EngineUnavailableError(`Redis ${what} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** `host:port` strings (as the config has them) as addresses; throws on a malformed one. */
export function parseAddresses(list: readonly string[]): RedisAddress[] {
  return list.map((s) => {
    const i = s.lastIndexOf(':');
    const port = Number(s.slice(i + 1));
    if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`not a host:port address: ${JSON.stringify(s)}`);
    return { host: s.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port };
  });
}

/** Where the topology points, for messages (no passwords). */
export function describeTopology(t: RedisTopology): string {
  const list = (a: readonly RedisAddress[]): string => a.map((x) => `${x.host}:${x.port}`).join(',');
  switch (t.kind) {
    case 'single': return `Redis at ${redactUrl(t.url)}`;
    case 'sentinel': return `the Redis master "${t.master}" through the sentinels ${list(t.sentinels)}`;
    case 'cluster': return `the Redis Cluster at ${list(t.nodes)}`;
  }
}

/** Connecting waits at least this long, whatever redis_timeout says for commands. */
const MIN_CONNECT_MS = 2000;
/** Starting (every connection ready) waits at least this long: a busy machine or a cluster's discovery takes a few round trips. */
const START_BUDGET_MS = 5000;

export class RedisConnections {
  /**
   * Commands and scripts. With a cluster this is an ioredis Cluster, which has the same command
   * methods and routes each call to the slot of its first key.
   */
  readonly command: Redis;
  /** Pub/sub (SUBSCRIBE, and SSUBSCRIBE with a cluster). */
  readonly subscriber: Redis;
  /** Whether channels use sharded pub/sub (SPUBLISH/SSUBSCRIBE): with a cluster. */
  readonly sharded: boolean;
  readonly #options: RedisConnectionOptions;
  #started = false;
  /** Set when canal ends the connections itself (close, a failed start): an 'end' then is expected. */
  #closing = false;
  /** Set once both connections were ready; before that, errors are kept for the start failure. */
  #connected = false;
  #lastError: Error | undefined;

  constructor(options: RedisConnectionOptions) {
    this.#options = options;
    const topology = options.topology;
    this.sharded = topology.kind === 'cluster';
    const perServer = {
      lazyConnect: true,
      commandTimeout: options.timeoutMs,
      // Connecting (TCP, then the cluster's or the sentinels' discovery) may take longer than a command under load.
      connectTimeout: Math.max(options.timeoutMs, MIN_CONNECT_MS),
      maxRetriesPerRequest: 0,
      // The broker re-subscribes what it still wants (issue 13 item 7: ioredis would restore
      // channels that were given up while Redis was away).
      autoResubscribe: false,
      // A master demoted by a failover answers writes with READONLY: go find the new one.
      reconnectOnError: (err: Error): 1 | false => (err.message.startsWith('READONLY') ? 1 : false),
    };
    const common = {
      ...perServer,
      enableOfflineQueue: false,
      // Reconnect forever, backing off to 2 s between attempts.
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
    };
    const connect = (connectionName: string): Redis => {
      if (topology.kind === 'single') return new Redis(topology.url, { ...common, connectionName });
      if (topology.kind === 'sentinel') {
        const sentinelOptions = {
          ...common,
          connectionName,
          sentinels: topology.sentinels.map((a) => ({ host: a.host, port: a.port })),
          name: topology.master,
          role: 'master' as const,
          sentinelCommandTimeout: options.timeoutMs,
          sentinelRetryStrategy: (times: number) => Math.min(100 * times, 2000),
          // Sentinel announces a new master on +switch-master; reconnect at once rather than
          // waiting for the old master's connection to fail.
          failoverDetector: true,
          ...(topology.password !== undefined ? { password: topology.password } : {}),
          ...(topology.sentinelPassword !== undefined ? { sentinelPassword: topology.sentinelPassword } : {}),
        };
        return new Redis(sentinelOptions);
      }
      const cluster = new Cluster(topology.nodes.map((a) => ({ host: a.host, port: a.port })), {
        lazyConnect: true,
        enableOfflineQueue: false,
        shardedSubscribers: true,
        clusterRetryStrategy: (times: number) => Math.min(100 * times, 2000),
        slotsRefreshTimeout: options.timeoutMs,
        // A node that restarts with the same slots comes back without a topology change.
        clusterNodeRetryStrategy: (times: number) => Math.min(100 * times, 2000),
        retryDelayOnTryAgain: 50,
        retryDelayOnClusterDown: 100,
        redisOptions: { ...perServer, connectionName, ...(topology.password !== undefined ? { password: topology.password } : {}) },
      });
      // Same command surface (RedisCommander); the broker never uses a Redis-only method on it.
      return cluster as unknown as Redis;
    };
    this.command = connect('canal-commands');
    this.subscriber = connect('canal-subscriber');
    const sources: string[] = [];
    for (const [name, script] of Object.entries(SCRIPTS)) {
      const lua = loadScript(script.file);
      sources.push(lua);
      this.command.defineCommand(name, { numberOfKeys: script.keys, lua });
    }
    // Load the scripts whenever a connection is (re)established, before any call: a Redis that
    // restarted (or a replica just promoted) has none, and EVALSHA falling back to EVAL one call
    // at a time could let a later pipelined publish run before an earlier one.
    const load = (conn: Redis): void => {
      for (const lua of sources) conn.script('LOAD', lua).catch(() => {});
    };
    if (this.command instanceof Cluster) {
      const cluster = this.command as Cluster;
      cluster.on('ready', () => {
        for (const node of cluster.nodes('master')) load(node);
      });
      cluster.on('+node', (node: Redis) => {
        node.once('ready', () => load(node));
      });
    } else {
      this.command.on('ready', () => load(this.command));
    }
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
      // ioredis reconnects forever with the retry strategies above, but a connection can still
      // end: a failover announced while it is reconnecting through the sentinels cancels the
      // attempt under way, which then ends the connection for good ("Connection is closed" to
      // every command after). A connection canal did not end is connected again.
      let ends = 0;
      conn.on('end', () => {
        if (this.#closing || !this.#connected) return;
        ends++;
        const delay = Math.min(100 * ends, 2000);
        options.log.warn({ role, delayMs: delay }, 'Redis connection ended; connecting again');
        const timer = setTimeout(() => {
          if (!this.#closing) conn.connect().catch(() => {}); // a failure ends it again: tried again
        }, delay);
        timer.unref();
      });
      conn.on('ready', () => {
        ends = 0;
      });
    }
  }

  /**
   * Connects both connections. Throws EngineUnavailableError (naming where Redis was looked for,
   * without passwords) when Redis does not answer within the timeout.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const timeout = new Promise<never>((_, reject) => {
      const budget = Math.max(this.#options.timeoutMs * 2, START_BUDGET_MS);
      const timer = setTimeout(() => reject(new Error(`no answer within ${budget} ms`)), budget);
      timer.unref();
    });
    try {
      await Promise.race([Promise.all([this.command.connect(), this.subscriber.connect()]), timeout]);
      this.#connected = true;
    } catch (err) {
      this.#closing = true;
      this.command.disconnect();
      this.subscriber.disconnect();
      const cause = this.#lastError ?? (err as Error);
      // A cluster's "Failed to refresh slots cache" hides why each node failed (a wrong password, say).
      const why = (cause as { lastNodeError?: Error }).lastNodeError?.message;
      const message = why === undefined ? cause.message : `${cause.message} ${why}`;
      throw new EngineUnavailableError(`cannot reach ${describeTopology(this.#options.topology)} (${message})`, { cause });
    }
  }

  /** Runs one of the Lua scripts. */
  script(name: ScriptName, ...args: Array<string | number>): Promise<unknown> {
    return ((this.command as unknown as Record<ScriptName, ScriptRunner>)[name])(...args);
  }

  async close(): Promise<void> {
    this.#closing = true;
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
