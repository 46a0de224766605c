/**
 * A canal on Bun for a test on Node: test/helpers/bun-host.ts in a Bun child, built from the
 * test's options, hooks and logger included (they stay in the test's process; see bridge.ts).
 * What a test reaches through `server.canal` crosses too: `publish`, `metrics.text()`,
 * `close()`, and the values known at start (`apiKey`, `tokenSecret`, `node.id`, `node.name`). Anything else of the in-process Canal (its sessions, its hub) is not there: a
 * test that reads it fails at once saying so, and its file must stay on Node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Canal, CanalOptions } from '../../src/canal.js';
import { decode, decodeError, encode, encodeError, type FromHost, type ToHost } from './bridge.js';
import { BUN } from './cli.js';
import { settleLinesWith } from './log-capture.js';

const HOST = fileURLToPath(new URL('./bun-host.ts', import.meta.url));
const HOOKS = ['onConnecting', 'onSubscribe', 'onPublish', 'onRpc', 'onMessage', 'onDisconnect'] as const;

/** A Canal member a test read that does not cross to Bun: a clear failure, not an undefined. */
function missing(path: string): never {
  throw new Error(`server.canal.${path} is not available when canal runs on Bun in a child process (TEST_SERVER_RUNTIME=bun); ` +
    'this test file reads canal\'s in-process state, so it runs on Node only (remove its "@runtimes node bun" line)');
}

/** `target` whose every other property read fails with {@link missing}. */
function strict<T extends object>(target: T, prefix: string): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      if (typeof key === 'symbol' || key in obj || key === 'then') return Reflect.get(obj, key, receiver);
      return missing(`${prefix}${key}`);
    },
  });
}

class HostChild {
  readonly #child: ChildProcess;
  readonly #hooks: Partial<Record<string, (ctx: unknown) => unknown>>;
  readonly #logger: Logger | undefined;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  #nextId = 0;
  #stderr = '';

  constructor(hooks: Partial<Record<string, (ctx: unknown) => unknown>>, logger: Logger | undefined) {
    this.#hooks = hooks;
    this.#logger = logger;
    this.#child = spawn(BUN, [HOST], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'json' });
    this.#child.stderr!.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-4000)));
    this.#child.on('message', (m) => this.#onMessage(m as FromHost));
    this.#child.once('exit', (code, signal) => {
      const err = new Error(`canal on Bun exited (${signal ?? code}) with calls pending: ${this.#stderr}`);
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
    });
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** Starts canal with `options`; resolves with what the host reported. */
  start(options: unknown, logLevel: string | undefined): Promise<Extract<FromHost, { t: 'started' }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`canal on Bun did not start within 20 s: ${this.#stderr}`)), 20_000);
      const onMessage = (m: FromHost): void => {
        if (m.t !== 'started' && m.t !== 'startFailed') return;
        clearTimeout(timer);
        this.#child.off('message', onMessage);
        if (m.t === 'started') resolve(m);
        else reject(decodeError(m.error));
      };
      this.#child.on('message', onMessage);
      this.#child.once('exit', (code) => reject(new Error(`canal on Bun exited (${code}) before it listened: ${this.#stderr}`)));
      this.#send({ t: 'start', options: encode(options), hooks: Object.keys(this.#hooks), ...(logLevel !== undefined ? { logLevel } : {}) });
    });
  }

  call(method: Extract<ToHost, { t: 'call' }>['method'], args: unknown[]): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error(`canal on Bun is not running: ${this.#stderr}`));
    const id = ++this.#nextId;
    this.#send({ t: 'call', id, method, args: encode(args) as unknown[] });
    return new Promise((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
  }

  /** Closes canal, then ends the child (killed if it lingers). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.#child, 'exit');
    try {
      await this.call('close', []);
    } finally {
      if (this.#child.connected) this.#child.disconnect();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  }

  #send(message: ToHost): void {
    this.#child.send(message);
  }

  #onMessage(m: FromHost): void {
    if (m.t === 'reply') {
      const w = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (m.ok) w?.resolve(decode(m.value));
      else w?.reject(decodeError(m.value));
    } else if (m.t === 'hook') {
      void this.#runHook(m.id, m.name, decode(m.ctx));
    } else if (m.t === 'log') {
      this.#log(m.line);
    }
  }

  async #runHook(id: number, name: string, ctx: unknown): Promise<void> {
    let reply: ToHost;
    try {
      reply = { t: 'hookReply', id, ok: true, value: encode(await this.#hooks[name]!(ctx)) };
    } catch (err) {
      reply = { t: 'hookReply', id, ok: false, value: encodeError(err) };
    }
    if (!this.exited) this.#send(reply);
  }

  /** Logs a line of the host's logger again on the test's, with its level, message and fields. */
  #log(line: string): void {
    const logger = this.#logger;
    if (!logger) return;
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(line) as Record<string, unknown> & { level: number; msg?: string };
    const label = logger.levels.labels[level] as 'info';
    logger[label](fields, msg);
  }
}

/** Starts canal with `options` on Bun; `canal.close()` stops it. */
export async function startOnBun(options: CanalOptions): Promise<{ readonly canal: Canal; readonly port: number }> {
  const { logger, engine, ...rest } = options as CanalOptions & Record<string, unknown>;
  if (engine !== undefined && typeof engine !== 'string') {
    throw new Error('startServer on Bun: the engine option is an object of this process and cannot cross to Bun; this test file runs on Node only');
  }
  const hooks: Partial<Record<string, (ctx: unknown) => unknown>> = {};
  const fields: Record<string, unknown> = engine !== undefined ? { ...rest, engine } : { ...rest };
  for (const name of HOOKS) {
    if (typeof fields[name] === 'function') hooks[name] = fields[name] as (ctx: unknown) => unknown;
    delete fields[name];
  }
  const child = new HostChild(hooks, logger);
  // The host's log lines and its replies cross the same ordered channel: a reply to a call
  // made now comes after every line logged before it.
  if (logger) settleLinesWith(logger, async () => void await child.call('sync', []));
  let started: Extract<FromHost, { t: 'started' }>;
  try {
    started = await child.start(fields, logger?.level);
  } catch (err) {
    await child.stop().catch(() => {});
    throw err;
  }
  const canal = strict({
    apiKey: started.apiKey,
    tokenSecret: started.tokenSecret,
    node: strict({ id: started.nodeId, name: started.nodeName }, 'node.'),
    metrics: strict({ text: () => child.call('metricsText', []) as Promise<string> }, 'metrics.'),
    publish(channel: string, data: unknown, publishOptions: object = {}) {
      if (JSON.stringify(data) === undefined) throw new TypeError('publish: data must be a JSON value');
      return child.call('publish', [channel, data, publishOptions]);
    },
    close: () => child.stop(),
  }, '') as unknown as Canal;
  return { canal, port: started.port };
}
