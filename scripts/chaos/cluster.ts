/**
 * The processes a chaos run attacks: a private redis-server (never the shared one on 6379) and
 * canal nodes run from source as a user would (`canal serve --config FILE --port P`), each of
 * which can be killed and started again on the same port, with its peak memory sampled.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { rssBytes, spawnTracked } from './children.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'src', 'cli', 'bin.ts');
/** Bytes of a node's stderr kept in memory, for the report when it crashes. */
const STDERR_TAIL_BYTES = 16 * 1024;
/** A node (tsx compiling from source, on a busy machine) must listen within this. */
const NODE_START_MS = 60_000;

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs one command on a connection of its own, bounded by `timeoutMs`. */
async function redisCall(url: string, args: readonly [string, ...Array<string | number>], timeoutMs: number): Promise<unknown> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.call(...args);
  } finally {
    redis.disconnect();
  }
}

/** A private redis-server without persistence: a SIGKILL loses every key, as a crash of an unpersisted Redis does. */
export class RedisServer {
  readonly port: number;
  readonly url: string;
  readonly #log: WriteStream | undefined;
  #child: ChildProcess | undefined;
  #output = '';
  peakRss = 0;

  constructor(port: number, log: WriteStream | undefined) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}/0`;
    this.#log = log;
  }

  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts redis-server (DEBUG allowed from 127.0.0.1, for DEBUG SLEEP) and waits until it answers PING. */
  async start(timeoutMs = 10_000): Promise<void> {
    this.#output = '';
    const child = spawnTracked('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const keep = (d: Buffer): void => {
      this.#output = (this.#output + d.toString()).slice(-4096);
      this.#log?.write(d);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`cannot run redis-server (${err.message}); install it, e.g. apt-get install redis-server`)));
      child.once('exit', (code, signal) => reject(new Error(`redis-server on port ${this.port} exited (${code ?? signal}) while starting: ${this.#output}`)));
    });
    failed.catch(() => {});
    const deadline = Date.now() + timeoutMs;
    const ready = (async () => {
      for (;;) {
        try {
          if ((await redisCall(this.url, ['PING'], 500)) === 'PONG') return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING within ${timeoutMs} ms: ${(err as Error).message}`);
        }
        await sleep(50);
      }
    })();
    await Promise.race([ready, failed]);
  }

  /** SIGKILL: every key is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** `DEBUG SLEEP`: Redis answers nothing for `ms`; resolves when it answers again. */
  async sleep(ms: number): Promise<void> {
    await redisCall(this.url, ['DEBUG', 'SLEEP', (ms / 1000).toFixed(3)], ms + 5000);
  }

  /** Samples the memory of the running process into {@link peakRss}. */
  async sample(): Promise<void> {
    const rss = await rssBytes(this.pid);
    if (rss !== undefined && rss > this.peakRss) this.peakRss = rss;
  }
}

/** A node that exited without the run killing it. */
export interface NodeCrash {
  readonly node: number;
  readonly at: number;
  readonly exit: string;
  readonly stderr: string;
}

export interface CanalNodeOptions {
  readonly index: number;
  readonly configPath: string;
  readonly heapMb: number;
  readonly log: WriteStream | undefined;
  /** The run's clock (ms). */
  readonly now: () => number;
  /** Called when the node exits while it should be running. */
  readonly onCrash: (crash: NodeCrash) => void;
}

/** One canal node; `port` is fixed by its first start and reused by every restart. */
export class CanalNode {
  readonly index: number;
  readonly name: string;
  port = 0;
  /** Whether it is running and listening (false while the run holds it down, or after a crash). */
  up = false;
  peakRss = 0;
  starts = 0;
  readonly #options: CanalNodeOptions;
  #child: ChildProcess | undefined;
  #expectExit = false;
  #stderr = '';

  constructor(options: CanalNodeOptions) {
    this.#options = options;
    this.index = options.index;
    this.name = `node ${options.index + 1}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get protocolUrl(): string {
    return `ws://127.0.0.1:${this.port}/connection/websocket`;
  }

  rawUrl(channel: string): string {
    return `ws://127.0.0.1:${this.port}/raw/${encodeURIComponent(channel)}`;
  }

  get pid(): number | undefined {
    return this.up ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** The end of its stderr (JSON log lines, or a crash). */
  get stderrTail(): string {
    return this.#stderr;
  }

  /** Starts the node (on its port after the first start) and resolves once it listens. */
  async start(): Promise<void> {
    const heap = this.#options.heapMb > 0 ? [`--max-old-space-size=${this.#options.heapMb}`] : [];
    const child = spawnTracked(process.execPath, [...heap, '--import', 'tsx', BIN, 'serve', '--config', this.#options.configPath, '--port', String(this.port)], {
      cwd: ROOT,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CANAL_'))),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#expectExit = false;
    this.starts++;
    child.stderr!.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-STDERR_TAIL_BYTES);
      this.#options.log?.write(d);
    });
    child.once('exit', (code, signal) => {
      const wasUp = this.up;
      this.up = false;
      if (this.#expectExit || !wasUp) return;
      this.#options.onCrash({ node: this.index, at: this.#options.now(), exit: signal ? `signal ${signal}` : `code ${code}`, stderr: this.#stderr.slice(-4000) });
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${this.name} did not listen within ${NODE_START_MS} ms; stderr: ${this.#stderr.slice(-2000)}`)), NODE_START_MS);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^canal listening on ws:\/\/127\.0\.0\.1:(\d+)/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before listening; stderr: ${this.#stderr.slice(-2000)}`));
      });
    }).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
    child.stdout!.resume();
    this.port = port;
    this.up = true;
  }

  /** Starts it again, retrying a few times (Redis may be restarting, the port may linger). */
  async restart(attempts = 5): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        await this.start();
        return;
      } catch (err) {
        if (i >= attempts) throw err;
        await sleep(500 * i);
      }
    }
  }

  /** SIGKILL: the node vanishes with no goodbye; its clients see their connections cut. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#expectExit = true;
    this.up = false;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM (drain), then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    const child = this.#child;
    this.#expectExit = true;
    this.up = false;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Samples the memory of the running process into {@link peakRss}. */
  async sample(): Promise<void> {
    const rss = await rssBytes(this.running ? this.#child?.pid : undefined);
    if (rss !== undefined && rss > this.peakRss) this.peakRss = rss;
  }
}
