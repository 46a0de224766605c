/**
 * Redis for tests: a unique key prefix per test (and the removal of its keys afterwards, never a
 * flush: other tests share that Redis), and a private redis-server child process on a free port
 * that a test may kill, stop (SIGSTOP) and restart without touching the shared one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { Redis } from 'ioredis';
import { until } from './wait.js';

/** The Redis that `npm test` makes sure of; shared by every test file running at the same time. */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379/0';

/** A key prefix no other test uses: `canal-test-<uuid>`. */
export function testPrefix(): string {
  return `canal-test-${randomUUID()}`;
}

/**
 * Deletes the keys under `prefix` (SCAN + UNLINK; bounded by `timeoutMs`). Only this test's
 * keys: never FLUSHDB on a Redis that other tests use.
 */
export async function deleteKeys(url: string, prefix: string, timeoutMs = 3000): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    const deadline = Date.now() + timeoutMs;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0' && Date.now() < deadline);
  } finally {
    redis.disconnect();
  }
}

/** Runs one Redis command on a connection of its own (e.g. CLIENT KILL TYPE pubsub); bounded by `timeoutMs`. */
export async function redisCommand(url: string, args: readonly [string, ...Array<string | number>], timeoutMs = 3000): Promise<unknown> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.call(...args);
  } finally {
    redis.disconnect();
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something on `port` answers PING with +PONG; rejects after `timeoutMs`. */
export async function waitForRedis(port: number, timeoutMs = 5000): Promise<void> {
  let last = 'no attempt';
  await until(
    async () => (last = await ping(port)) === '+PONG',
    () => `redis-server on port ${port} did not answer PING within ${timeoutMs} ms (last: ${last})`,
    timeoutMs,
  );
}

/** Sends PING to `port` and resolves with the answer's first line, or what went wrong (within 500 ms). */
function ping(port: number): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no answer (${data})`);
    }, 500);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      data += d.toString();
      if (data.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data.trim());
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      resolve(err.message);
    });
  });
}

/**
 * Throws a clear error when `redis-server` cannot be run: the tests that need their own Redis
 * must fail, not skip, when it is missing.
 */
export function requireRedisServer(): void {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (r.error || r.status !== 0) {
    const why = r.error ? (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is not installed (not on PATH)' : r.error.message : `it exited with ${r.status}: ${r.stderr}`;
    throw new Error(`this test needs its own redis-server, but ${why}; install it (e.g. apt-get install redis-server)`);
  }
}

/** Every child process the helpers started, killed when the test process exits however it exits. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Options of a private Redis process: more arguments, or another program (redis-sentinel). */
export interface RedisProcessOptions {
  /** Arguments after the port, bind and persistence ones (e.g. `--replicaof 127.0.0.1 7000`). */
  readonly args?: readonly string[];
  /** Run this instead: `[program, ...arguments]`, the port not added (e.g. a sentinel's config file). */
  readonly command?: readonly [string, ...string[]];
}

/** A private redis-server child process (no persistence) on a fixed port, which survives restarts. */
export class RedisServerProcess {
  readonly port: number;
  readonly url: string;
  readonly #options: RedisProcessOptions;
  #child: ChildProcess | undefined;
  #output = '';

  constructor(port: number, options: RedisProcessOptions = {}) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}/0`;
    this.#options = options;
  }

  /** Whether the process is running (it may be stopped with SIGSTOP). */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** What the current (or last) process printed, for failure messages. */
  get output(): string {
    return this.#output;
  }

  /** Starts redis-server on the port and waits until it answers PING. */
  async start(timeoutMs = 5000): Promise<void> {
    if (this.running) throw new Error(`redis-server on port ${this.port} is already running`);
    requireRedisServer();
    this.#output = '';
    const [program, ...args] = this.#options.command
      ?? ['redis-server', '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(this.#options.args ?? [])];
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    this.#child = child;
    child.stdout!.on('data', (d: Buffer) => (this.#output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.#output += d.toString()));
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`${program} on port ${this.port} exited (${code ?? signal}) while starting: ${this.#output}`)));
      child.once('error', (err) => reject(new Error(`cannot run ${program}: ${err.message}`)));
    });
    exited.catch(() => {});
    await Promise.race([waitForRedis(this.port, timeoutMs), exited]);
  }

  /** Kills the process (SIGKILL by default: all its data is gone) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill(signal);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.running) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** Freezes the process: connections stay open but nothing is answered (SIGSTOP). */
  pause(): void {
    if (!this.running) throw new Error('redis-server is not running');
    this.#child!.kill('SIGSTOP');
  }

  /** Lets a paused process go on (SIGCONT). */
  resume(): void {
    if (this.running) this.#child!.kill('SIGCONT');
  }
}

/** Starts a private redis-server on a free port; kill it with `kill()` in after(). */
export async function startRedisServer(): Promise<RedisServerProcess> {
  const server = new RedisServerProcess(await freePort());
  await server.start();
  return server;
}
