/**
 * The composition root: configuration -> HTTP server -> WebSocket endpoints, static pages and
 * the heartbeat, all on one port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { resolveConfig } from './config/resolve.js';
import type { Config } from './config/schema.js';
import { Dispatcher } from './http/dispatcher.js';
import { centrifugeBrowserDir, staticFiles, WEB_ROOT } from './http/static-files.js';
import { silentLogger, type Logger } from './log.js';
import { logConnection } from './transport/connection-log.js';
import { attachEcho } from './transport/echo.js';
import { Heartbeat, sweepSockets, trackLiveness } from './transport/heartbeat.js';
import { UpgradeRouter } from './transport/router.js';

/** Options for {@link Canal}: any configuration field (checked like a flag), plus a logger. */
export type CanalOptions = Partial<Config> & {
  /** Where logs go; by default nothing is logged. */
  readonly logger?: Logger;
};

/** Where a started server listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** `ws://host:port` (IPv6 hosts in brackets). */
  readonly url: string;
}

/** Why `listen()` failed, in words a person can act on; `code` is Node's (EADDRINUSE, ...). */
export class ListenError extends Error {
  constructor(readonly code: string, message: string, readonly option: 'port' | 'host') {
    super(message);
    this.name = 'ListenError';
  }
}

/** Close code sent to every WebSocket when the server shuts down (RFC 6455 §7.4.1: going away). */
const GOING_AWAY = 1001;

/**
 * A canal server. Construct it (options are checked at once; a bad one throws ConfigError),
 * `listen()`, and `close()` when done. One instance owns one port.
 */
export class Canal {
  readonly config: Readonly<Config>;
  readonly #log: Logger;
  readonly #http: Server;
  readonly #router = new UpgradeRouter();
  readonly #dispatcher: Dispatcher;
  readonly #heartbeat: Heartbeat;
  readonly #socketServers: WebSocketServer[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: CanalOptions = {}) {
    const { logger, ...fields } = options;
    this.config = resolveConfig({ options: fields });
    this.#log = logger ?? silentLogger();
    this.#heartbeat = new Heartbeat(this.config.ping_interval);
    this.#dispatcher = new Dispatcher(this.#log, (req) => `Not found: ${req.url}. Start at / for the demos.\n`);
    this.#http = createServer({ keepAliveTimeout: 5000 }, this.#dispatcher.handle);
    this.#http.on('upgrade', this.#router.handleUpgrade);
    this.#http.on('clientError', (err, socket) => {
      // Malformed HTTP: answer 400 and close, as Node would, but without an unhandled error.
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      this.#log.debug({ err: err.message }, 'bad http request');
    });
    this.#router.gate(() => (this.#closing ? { status: 503, message: 'canal is shutting down\n' } : undefined));
    this.#mountEcho();
    this.#mountPages();
  }

  #socketServer(): WebSocketServer {
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.config.max_message_bytes,
      perMessageDeflate: false,
    });
    this.#socketServers.push(wss);
    return wss;
  }

  #mountEcho(): void {
    const server = this.#socketServer();
    this.#router.add({
      path: '/',
      description: 'echo: each text message m is answered "echo: m"; binary is sent back as is',
      server,
      match: (pathname) => (pathname === '/' ? true : undefined),
      accept: (ws, req) => {
        logConnection(ws, req, 'echo', this.#log);
        trackLiveness(ws);
        attachEcho(ws);
      },
    });
    this.#heartbeat.onTick(() => sweepSockets(server.clients));
  }

  #mountPages(): void {
    this.#dispatcher.route('/vendor/centrifuge/', staticFiles(centrifugeBrowserDir(), { immutable: true }), { strip: true });
    this.#dispatcher.route('/', staticFiles(WEB_ROOT));
  }

  /**
   * Starts listening on the configured host and port. Resolves once connections are accepted;
   * rejects with {@link ListenError} when the port is taken or the host is not this machine's.
   */
  async listen(): Promise<ListenAddress> {
    const { host, port } = this.config;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.#http.off('listening', onListening);
        reject(describeListenError(err, host, port));
      };
      const onListening = (): void => {
        this.#http.off('error', onError);
        resolve();
      };
      this.#http.once('error', onError);
      this.#http.once('listening', onListening);
      this.#http.listen(port, host);
    });
    this.#http.on('error', (err) => this.#log.error({ err }, 'http server error'));
    this.#heartbeat.start();
    const address = this.address;
    if (!address) throw new ListenError('ENOTLISTENING', 'server stopped while starting', 'port');
    this.#log.debug({ host: address.host, port: address.port }, 'listening');
    return address;
  }

  /** Where the server listens, or undefined before `listen()` and after `close()`. */
  get address(): ListenAddress | undefined {
    const a = this.#http.address() as AddressInfo | null;
    if (!a) return undefined;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, url: `ws://${host}:${a.port}` };
  }

  /**
   * Stops accepting, closes every WebSocket with 1001 (going away), and resolves once all are
   * closed; connections still open after `shutdown_timeout` are terminated. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#heartbeat.stop();
    const stopped = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    const sockets: WebSocket[] = this.#socketServers.flatMap((wss) => [...wss.clients]);
    const allClosed = Promise.all(sockets.map((ws) => closed(ws)));
    for (const ws of sockets) ws.close(GOING_AWAY, 'server shutting down');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, this.config.shutdown_timeout, 'timeout').unref());
    if ((await Promise.race([allClosed, timer])) === 'timeout') {
      for (const ws of sockets) ws.terminate();
    }
    this.#http.closeAllConnections();
    for (const wss of this.#socketServers) wss.close();
    await stopped;
  }
}

function closed(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => ws.once('close', () => resolve()));
}

function describeListenError(err: NodeJS.ErrnoException, host: string, port: number): ListenError {
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError(err.code, `port ${port} on ${host} is already in use`, 'port');
    case 'EACCES':
      return new ListenError(err.code, `no permission to listen on port ${port} (ports below 1024 need privileges)`, 'port');
    case 'EADDRNOTAVAIL':
      return new ListenError(err.code, `cannot listen on ${host}: that address is not on this machine`, 'host');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(err.code, `cannot listen on ${host}: no such host`, 'host');
    default:
      return new ListenError(err.code ?? 'UNKNOWN', `cannot listen on ${host}:${port}: ${err.message}`, 'port');
  }
}
