/**
 * The transport on Node: node:http for requests, `ws` servers in noServer mode for the
 * upgrades the router lets through (permessage-deflate off unless websocket_compression is set,
 * on the protocol endpoint only), and a file-descriptor budget past which Node refuses sockets.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { logConnection } from './connection-log.js';
import { attachEcho } from './echo.js';
import { connectionBudget, openFileLimit } from './fd-budget.js';
import { sweepSockets, trackLiveness } from './heartbeat.js';
import { acceptPlainSocket, type PlainTarget } from './plain-endpoint.js';
import { protocolEndpoint, selectSubprotocol, type ProtocolEndpoint } from './protocol-endpoint.js';
import { RefusalLog } from './refusal-log.js';
import { pathOf, refuse, UpgradeRouter } from './router.js';
import type { BoundAddress, SocketCounts, Transport, TransportOptions } from './transport.js';
import { WsConnection } from './ws-connection.js';

/** What the Node transport keeps per endpoint: the ws server that completes its handshakes, and who takes the socket. */
interface NodeTarget {
  readonly server: WebSocketServer;
  accept(ws: WebSocket, req: IncomingMessage, match: unknown): void;
}

export class NodeTransport implements Transport {
  readonly runtime = 'node';
  readonly fansOutNatively = false;
  readonly #http: Server;
  readonly #router = new UpgradeRouter<NodeTarget>();
  readonly #echo: WebSocketServer;
  readonly #plain: WebSocketServer;
  readonly #protocol: WebSocketServer;
  readonly #protocolEndpoint: ProtocolEndpoint;
  readonly #log: TransportOptions['log'];

  constructor(options: TransportOptions) {
    const { config, log } = options;
    this.#log = log;
    this.#http = createServer({
      keepAliveTimeout: 5000,
      headersTimeout: config.header_timeout,
      // Node checks the timeout this often (30 s by default, which made half-open connections live ~75 s).
      connectionsCheckingInterval: Math.min(1000, config.header_timeout / 2),
    }, options.onRequest);
    const fdLimit = openFileLimit();
    // Past this many sockets Node closes new ones at once, instead of the process running out of
    // descriptors and accepting nothing (docs/scaling.md, "File descriptors").
    if (fdLimit !== undefined) this.#http.maxConnections = connectionBudget(fdLimit);
    this.#http.on('upgrade', this.#handleUpgrade);
    this.#http.on('clientError', (err: Error & { code?: string }, socket) => {
      // Malformed HTTP, or headers not sent within header_timeout: answer and close, as Node
      // would, but without an unhandled error. The socket is destroyed once the answer is
      // written, not half-closed: a peer that never reads would otherwise keep its descriptor.
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`, () => socket.destroy());
      else socket.destroy();
      log.debug({ err: err.message }, 'bad http request');
    });
    const refusals = new RefusalLog(log);
    this.#router.onRefused((req, pathname, refusal) => refusals.record(req, pathname, refusal));
    for (const gate of options.gates) this.#router.gate(gate);

    this.#protocol = new WebSocketServer({
      noServer: true,
      maxPayload: config.protocol_max_message_bytes,
      // ws's defaults: messages under 1 KiB go uncompressed; each connection keeps its own zlib state.
      perMessageDeflate: config.websocket_compression,
      handleProtocols: selectSubprotocol,
      // Its sockets are the sessions' connections themselves (ws-connection.ts).
      WebSocket: WsConnection,
      // The endpoint keeps the set (protocol-endpoint.ts: 160 bytes less per connection).
      clientTracking: false,
    });
    const endpoint = protocolEndpoint(options.protocol.ctx);
    this.#protocolEndpoint = endpoint;
    this.#router.add({
      path: '/connection/websocket',
      description: options.protocol.description,
      target: {
        server: this.#protocol,
        accept: (ws, req) => {
          logConnection(ws, req, 'protocol', log);
          endpoint.accept(ws as WsConnection, req);
        },
      },
      match: (pathname) => (pathname === '/connection/websocket' ? true : undefined),
    });

    this.#echo = this.#sweptServer(options, config.max_message_bytes, WebSocket);
    const { counter } = options.echo;
    this.#router.add({
      path: '/',
      description: options.echo.description,
      target: {
        server: this.#echo,
        accept: (ws, req) => {
          logConnection(ws, req, 'echo', log);
          trackLiveness(ws);
          attachEcho(ws, counter);
        },
      },
      match: (pathname) => (pathname === '/' ? true : undefined),
    });

    this.#plain = this.#sweptServer(options, config.raw_max_message_bytes, WsConnection);
    const plain = options.plain;
    this.#router.add<PlainTarget>({
      path: '/raw/<channel>',
      description: plain.description,
      target: {
        server: this.#plain,
        accept: (ws, req, match) => {
          const target = match as PlainTarget;
          if ('refusal' in target) return;
          logConnection(ws, req, 'raw', log); // the endpoint's public name, as metrics label it
          trackLiveness(ws);
          acceptPlainSocket(ws as WsConnection, req, target, plain.ctx);
        },
      },
      match: (pathname) => plain.match(pathname),
      refuse: (target) => ('refusal' in target ? target.refusal : undefined),
    });
  }

  /** A server for sockets that speak no protocol (echo, plain): the heartbeat sweeps them with WebSocket pings. */
  #sweptServer(options: TransportOptions, maxPayload: number, socketClass: typeof WebSocket): WebSocketServer {
    const wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, WebSocket: socketClass });
    options.heartbeat.onTick(() => sweepSockets(wss.clients));
    return wss;
  }

  /** The 'upgrade' listener of node:http's server. Never throws. */
  readonly #handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', ignoreSocketError);
    const route = this.#router.route(req, pathOf(req.url));
    if ('refusal' in route) {
      refuse(socket, route.refusal);
      return;
    }
    const { endpoint, match } = route;
    endpoint.target.server.handleUpgrade(req, socket, head, (ws) => {
      // ws listens for the socket's errors from here on; a second listener kept for the
      // connection's life would cost an array on every socket.
      socket.off('error', ignoreSocketError);
      endpoint.target.accept(ws, req, match);
    });
  };

  listen(host: string, port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.#http.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        this.#http.off('error', onError);
        this.#http.on('error', (err) => this.#log.error({ err }, 'http server error'));
        resolve();
      };
      this.#http.once('error', onError);
      this.#http.once('listening', onListening);
      this.#http.listen(port, host);
    });
  }

  address(): BoundAddress | undefined {
    const a = this.#http.address() as AddressInfo | null;
    if (!a) return undefined;
    return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
  }

  get connectionBudget(): number | undefined {
    const usable = this.#http.maxConnections;
    return Number.isFinite(usable) && usable > 0 ? usable : undefined;
  }

  sockets(): SocketCounts {
    return { echo: this.#echo.clients.size, protocol: this.#protocolEndpoint.sockets.size, plain: this.#plain.clients.size };
  }

  closeEchoAndPlainSockets(code: number, reason: string): void {
    for (const ws of [...this.#echo.clients, ...this.#plain.clients]) ws.close(code, reason);
  }

  socketsClosed(): Promise<void> {
    const all = [...this.#echo.clients, ...this.#plain.clients, ...this.#protocolEndpoint.sockets];
    return Promise.all(all.map(closed)).then(() => undefined);
  }

  terminateSockets(): void {
    for (const ws of [...this.#echo.clients, ...this.#plain.clients, ...this.#protocolEndpoint.sockets]) ws.terminate();
  }

  close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.#http.closeAllConnections();
    for (const wss of [this.#echo, this.#plain, this.#protocol]) wss.close();
    return stopped;
  }
}

function ignoreSocketError(): void {
  // A peer that resets during the handshake is not our error; ws reports it on the socket it makes.
}

function closed(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => ws.once('close', () => resolve()));
}
