/**
 * Several canal nodes as real processes (`canal serve --engine redis`, spawned from source as a
 * user would run them) sharing one Redis under one key prefix, plus what multi-node tests need
 * around them: the server API over HTTP with timings, /healthz, an echo round trip, and a tiny
 * TCP proxy that a test can re-point at another node (a load balancer in a few lines).
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { spawnCli, waitForLine, type Runtime } from './cli.js';
import { connectClient } from './ws-client.js';
import { SHARED_REDIS_URL } from './redis.js';

/** The key of the server API on every test node. */
export const TEST_API_KEY = 'canal-test-api-key-0123456789';

/** What the server API answered, and how long it took. */
export interface ApiReply<T = unknown> {
  readonly status: number;
  readonly result?: T;
  readonly error?: { readonly code: number; readonly message: string; readonly temporary?: boolean };
  /** Milliseconds from sending the request to having the whole body. */
  readonly ms: number;
  /** The body as received. */
  readonly text: string;
}

/** POST /api/<method> with `params`; rejects when no answer arrives within `timeoutMs`. */
export async function apiCall<T = unknown>(httpUrl: string, method: string, params: unknown, timeoutMs = 5000, key = TEST_API_KEY): Promise<ApiReply<T>> {
  const started = performance.now();
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${httpUrl}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    throw new Error(`POST ${httpUrl}/api/${method}: no answer within ${timeoutMs} ms (${(err as Error).message})`, { cause: err });
  }
  const ms = performance.now() - started;
  let body: { result?: T; error?: ApiReply['error'] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`POST ${httpUrl}/api/${method}: HTTP ${res.status} with a body that is not JSON: ${text}`);
  }
  return { status: res.status, ms, text, ...(body.result !== undefined ? { result: body.result } : {}), ...(body.error ? { error: body.error } : {}) };
}

/** The result of an API call that must succeed; throws with the answer otherwise. */
export async function apiResult<T = unknown>(httpUrl: string, method: string, params: unknown, timeoutMs = 5000): Promise<T> {
  const r = await apiCall<T>(httpUrl, method, params, timeoutMs);
  if (r.status !== 200 || r.result === undefined) throw new Error(`POST /api/${method} ${JSON.stringify(params)} failed: HTTP ${r.status} ${r.text}`);
  return r.result;
}

/** GET /healthz; resolves with the status and body (rejects when there is no answer within `timeoutMs`). */
export async function healthz(httpUrl: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

/** Opens the echo endpoint, sends one text message and returns the answer (bounded by `timeoutMs`). */
export async function echoRoundTrip(wsUrl: string, text: string, timeoutMs = 3000): Promise<string> {
  const client = await Promise.race([
    connectClient(`${wsUrl}/`),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`echo at ${wsUrl}/ did not open within ${timeoutMs} ms`)), timeoutMs)),
  ]);
  try {
    client.send(text);
    return await client.nextText(timeoutMs);
  } finally {
    client.ws.terminate();
  }
}

export interface NodeOptions {
  /** The Redis key prefix the nodes of one cluster share. */
  readonly prefix: string;
  /** Default: the shared test Redis. */
  readonly redisUrl?: string;
  /** More `canal serve` flags. */
  readonly args?: readonly string[];
  /** For messages: "node 1". */
  readonly name?: string;
  /** The runtime the node runs on (default node). */
  readonly runtime?: Runtime;
}

/** One `canal serve` child process. */
export class CanalProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly httpUrl: string;
  /** `ws://127.0.0.1:PORT` */
  readonly wsUrl: string;
  /** `ws://127.0.0.1:PORT/connection/websocket` */
  readonly protocolUrl: string;
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';

  constructor(name: string, child: ChildProcess, port: number) {
    this.name = name;
    this.child = child;
    this.port = port;
    this.httpUrl = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}`;
    this.protocolUrl = `${this.wsUrl}/connection/websocket`;
    child.stderr!.on('data', (d: Buffer) => {
      // Keep the end: a crash's stack trace is what matters.
      this.#stderr = (this.#stderr + d.toString()).slice(-64 * 1024);
    });
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last 64 KiB of its stderr (JSON log lines, or a crash). */
  get stderr(): string {
    return this.#stderr;
  }

  /** The server API of this node. */
  api<T = unknown>(method: string, params: unknown = {}, timeoutMs = 5000): Promise<ApiReply<T>> {
    return apiCall<T>(this.httpUrl, method, params, timeoutMs);
  }

  /** The result of an API call that must succeed. */
  apiResult<T = unknown>(method: string, params: unknown = {}, timeoutMs = 5000): Promise<T> {
    return apiResult<T>(this.httpUrl, method, params, timeoutMs);
  }

  /** SIGKILL: the node vanishes with no goodbye, as a crashed machine would. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts one redis-engine node on a free port with the test API key; resolves once it listens. */
export async function startNode(options: NodeOptions): Promise<CanalProcess> {
  const child = spawnCli([
    'serve', '--port', '0', '--engine', 'redis', '--redis-url', options.redisUrl ?? SHARED_REDIS_URL,
    '--redis-prefix', options.prefix, '--api-key', TEST_API_KEY, ...(options.args ?? []),
  ], {}, { runtime: options.runtime ?? 'node' });
  let line: string;
  try {
    line = await waitForLine(child, /^canal listening on /, 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const m = /ws:\/\/127\.0\.0\.1:(\d+)/.exec(line);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`unexpected listening line: ${line}`);
  }
  // Keep reading stdout so the child never blocks on a full pipe.
  child.stdout!.resume();
  return new CanalProcess(options.name ?? `node on ${m[1]}`, child, Number(m[1]));
}

/** Starts `n` nodes of one cluster in parallel ("node 1" ... "node n"). */
export async function startNodes(n: number, options: NodeOptions): Promise<CanalProcess[]> {
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => startNode({ ...options, name: `node ${i + 1}` })));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((p) => p.kill()));
    throw failed.reason;
  }
  return started;
}

/**
 * A TCP proxy on 127.0.0.1:<port> that forwards each new connection to `target` (a port), like
 * a load balancer. Re-pointing it affects new connections only; `target` undefined refuses
 * new connections (they are closed at once, as when no backend is up).
 */
export class TcpProxy {
  readonly port: number;
  target: number | undefined;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server, port: number, target: number | undefined) {
    this.#server = server;
    this.port = port;
    this.target = target;
  }

  static async start(target: number | undefined): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((socket) => proxy!.#accept(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    proxy = new TcpProxy(server, (server.address() as { port: number }).port, target);
    return proxy;
  }

  /** `ws://127.0.0.1:PORT/connection/websocket` through the proxy. */
  get protocolUrl(): string {
    return `ws://127.0.0.1:${this.port}/connection/websocket`;
  }

  #accept(client: Socket): void {
    const target = this.target;
    if (target === undefined) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: target });
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Cuts every forwarded connection. */
  dropAll(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  async close(): Promise<void> {
    this.target = undefined;
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
