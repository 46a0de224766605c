/**
 * The transport on Bun: one `Bun.serve` for the port. Requests that are not upgrades go to the
 * same node:http-style listener as on Node, through bun-http.ts. Upgrades pass the same router
 * and gates (403 origin, 503 capacity or draining, 404 with the listing), then Bun's native
 * WebSocket server (uWebSockets) takes the socket: one set of handlers for every connection,
 * the per-socket state in the socket's `data` (a {@link BunConnection}).
 *
 * What Bun does differently, and how this file makes it the same:
 * - one maxPayloadLength for the whole server: it is the largest of the three endpoints' limits,
 *   and a message over its own endpoint's limit closes the socket with 1009 here, as ws does;
 * - no per-socket pause: see BunConnection.pause;
 * - no idle timeout and no automatic pings (Bun's defaults would close connections idle for
 *   120 s): echo and plain sockets are pinged on the heartbeat as on Node, protocol sessions ping themselves;
 * - permessage-deflate (websocket_compression) is negotiated for the whole server, not only
 *   /connection/websocket; only protocol sockets send deflated messages (1 KiB and longer, as
 *   ws does), echo and plain sockets send theirs as they are;
 * - Bun's request body limit is lifted from 128 MiB to 2 GiB: canal's handlers answer 413 themselves.
 */
import type { Logger } from '../log.js';
import type { NamespaceOptions } from '../config/namespaces.js';
import { protobufCodec } from '../protocol/codec.js';
import { CloseCode } from '../protocol/codes.js';
import { ClientSession } from '../session/client-session.js';
import { PlainSession } from '../session/plain-session.js';
import type { BunGlobal, BunServer, BunSocket, BunWebSocketHandler } from './bun-api.js';
import { BunConnection, BunEndpoint, BunFanOut, SocketKind } from './bun-connection.js';
import { headersOf, requestTarget, serveAdapted } from './bun-http.js';
import type { EchoCounter } from './echo.js';
import type { PlainTarget } from './plain-endpoint.js';
import { PROTOBUF_SUBPROTOCOL, selectSubprotocol } from './protocol-endpoint.js';
import { RefusalLog } from './refusal-log.js';
import { pathOf, UpgradeRouter, type UpgradeRequest } from './router.js';
import type { BoundAddress, SocketCounts, Transport, TransportOptions } from './transport.js';

type Socket = BunSocket<BunConnection>;

/** The endpoints by SocketKind, for logs: their public names, as node-transport.ts logs and metrics label them. */
const ENDPOINT_NAMES = ['echo', 'protocol', 'raw'] as const;

/** Bytes past which Bun itself closes a socket that does not read: a backstop above the outbox's limit, never reached by a session that checks it. */
const BACKPRESSURE_MARGIN = 4 * 1024 * 1024;

export class BunTransport implements Transport {
  readonly runtime = 'bun';
  readonly fansOutNatively = true;
  readonly connectionBudget = undefined;
  readonly #bun: BunGlobal;
  readonly #options: TransportOptions;
  readonly #log: Logger;
  readonly #router = new UpgradeRouter<SocketKind>();
  readonly #maxPayload: readonly number[];
  /** The open echo and plain sockets, which the heartbeat pings and the drain closes; protocol sockets are only counted (#protocolOpen). */
  readonly #open: readonly [Set<BunConnection>, Set<BunConnection>] = [new Set(), new Set()];
  /**
   * Open protocol sockets. Counted, not kept in a set: their sessions are registered already
   * (connecting, then the node's sessions), which the heartbeat and the drain go through, and a
   * set of every connection beside them cost about 100 bytes per connection (issue 17, idle
   * memory; docs/benchmarks.md). terminateSockets reaches them through the server.
   */
  #protocolOpen = 0;
  #server: BunServer<BunConnection> | undefined;
  readonly #fanOut = new BunFanOut();
  /** Per kind, its endpoints (one per subprotocol agreed: at most three). */
  readonly #endpoints: readonly [BunEndpoint[], BunEndpoint[], BunEndpoint[]] = [[], [], []];
  #whenEmpty: Array<() => void> = [];

  constructor(bun: BunGlobal, options: TransportOptions) {
    this.#bun = bun;
    this.#options = options;
    this.#log = options.log;
    const { config } = options;
    this.#maxPayload = [config.max_message_bytes, config.protocol_max_message_bytes, config.raw_max_message_bytes];
    const refusals = new RefusalLog(options.log);
    this.#router.onRefused((req, pathname, refusal) => refusals.record(req, pathname, refusal));
    for (const gate of options.gates) this.#router.gate(gate);
    this.#router.add({
      path: '/connection/websocket',
      description: options.protocol.description,
      target: SocketKind.Protocol,
      match: (pathname) => (pathname === '/connection/websocket' ? true : undefined),
    });
    this.#router.add({
      path: '/',
      description: options.echo.description,
      target: SocketKind.Echo,
      match: (pathname) => (pathname === '/' ? true : undefined),
    });
    this.#router.add<PlainTarget>({
      path: '/raw/<channel>',
      description: options.plain.description,
      target: SocketKind.Plain,
      match: (pathname) => options.plain.match(pathname),
      refuse: (target) => ('refusal' in target ? target.refusal : undefined),
    });
    options.heartbeat.onTick(() => {
      sweep(this.#open[0]);
      sweep(this.#open[1]);
    });
  }

  listen(host: string, port: number): Promise<void> {
    const { config } = this.#options;
    const largest = Math.max(...this.#maxPayload);
    try {
      this.#server = this.#bun.serve<BunConnection>({
        hostname: host,
        port,
        // canal's handlers bound every body themselves (413 with a reason, the connection closed
        // unread); Bun's own limit (128 MiB by default) closes the connection with no answer at
        // all. 2 GiB - 1 is the largest it takes: from 2^31 on, chunked bodies are cut at once.
        maxRequestBodySize: 2 ** 31 - 1,
        fetch: this.#fetch,
        error: (err) => {
          this.#log.error({ err }, 'http handler failed');
          return Response.json({ error: { code: 100, message: 'internal server error' } }, { status: 500 });
        },
        websocket: {
          ...socketHandlers(this, this.#options.echo.counter),
          perMessageDeflate: config.websocket_compression,
          idleTimeout: 0,
          sendPings: false,
          maxPayloadLength: largest,
          backpressureLimit: config.client_queue_max_bytes + largest + BACKPRESSURE_MARGIN,
          closeOnBackpressureLimit: true,
          publishToSelf: false,
        },
      });
    } catch (err) {
      return Promise.reject(withCode(err));
    }
    this.#fanOut.server = this.#server;
    this.#fanOut.compress = config.websocket_compression;
    return Promise.resolve();
  }

  readonly #fetch = (request: Request, server: BunServer<BunConnection>): Response | Promise<Response> | undefined => {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return serveAdapted(request, server.requestIP(request)?.address, this.#options.onRequest);
    }
    // Bun's request.url is already normalised (percent-encoded, dot segments resolved): cut, not
    // parsed again by a URL object, and the peer's address read only if a refusal logs it.
    const target = requestTarget(request.url);
    const req: UpgradeRequest = { url: target, headers: headersOf(request.headers), socket: new UpgradePeer(server, request) };
    const route = this.#router.route(req, pathOf(target));
    if ('refusal' in route) {
      return new Response(route.refusal.message, {
        status: route.refusal.status,
        headers: { 'content-type': 'text/plain; charset=utf-8', connection: 'close' },
      });
    }
    const kind = route.endpoint.target;
    let protocol = '';
    let upgrade: unknown;
    if (kind === SocketKind.Protocol) {
      const offered = new Set((req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== ''));
      protocol = selectSubprotocol(offered) || '';
      upgrade = req.headers;
    } else if (kind === SocketKind.Plain) {
      upgrade = route.match;
    }
    const data = new BunConnection(this.#endpoint(kind, protocol), upgrade);
    const ok = server.upgrade(request, protocol ? { data, headers: { 'Sec-WebSocket-Protocol': protocol } } : { data });
    if (ok) return undefined;
    return new Response('bad WebSocket handshake\n', { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  };

  /** The shared part of every socket of `kind` that agreed on `protocol`: made once per server. */
  #endpoint(kind: SocketKind, protocol: string): BunEndpoint {
    const forKind = this.#endpoints[kind]!;
    let endpoint = forKind.find((e) => e.protocol === protocol);
    if (endpoint === undefined) {
      endpoint = new BunEndpoint(kind, this.#maxPayload[kind]!, protocol, kind === SocketKind.Protocol ? this.#fanOut : undefined);
      forKind.push(endpoint);
    }
    return endpoint;
  }

  /** Bun opened `conn`'s socket: start its session. */
  opened(conn: BunConnection): void {
    if (conn.kind === SocketKind.Protocol) this.#protocolOpen++;
    else this.#opened(conn.kind).add(conn);
    const upgrade = conn.session;
    conn.session = undefined;
    if (conn.kind === SocketKind.Protocol) {
      const { ctx } = this.#options.protocol;
      const headers = upgrade as UpgradeRequest['headers'];
      conn.session = new ClientSession(conn, ctx, conn.protocol === PROTOBUF_SUBPROTOCOL
        ? { codec: protobufCodec, upgradeHeaders: headers } : { upgradeHeaders: headers });
    } else if (conn.kind === SocketKind.Plain) {
      const target = upgrade as { channel: string; ns: NamespaceOptions };
      const session = new PlainSession(conn, target.channel, target.ns, this.#options.plain.ctx);
      conn.session = session;
      void session.start();
    }
    if (this.#log.isLevelEnabled('debug')) {
      this.#log.debug({ endpoint: ENDPOINT_NAMES[conn.kind], remote: conn.remoteAddress, runtime: 'bun' }, 'connection open');
    }
  }

  /** Bun closed `conn`'s socket (either side): end its session. */
  closed(conn: BunConnection, code: number): void {
    conn.markClosed();
    if (conn.kind === SocketKind.Protocol) this.#protocolOpen--;
    else this.#opened(conn.kind).delete(conn);
    if (conn.kind === SocketKind.Protocol) (conn.session as ClientSession).connectionClosed(code);
    else if (conn.kind === SocketKind.Plain) (conn.session as PlainSession).connectionClosed();
    if (this.#log.isLevelEnabled('debug')) this.#log.debug({ endpoint: ENDPOINT_NAMES[conn.kind], code, runtime: 'bun' }, 'connection closed');
    if (this.#whenEmpty.length > 0 && this.#total() === 0) {
      const waiting = this.#whenEmpty;
      this.#whenEmpty = [];
      for (const resolve of waiting) resolve();
    }
  }

  /** The set of open sockets of `kind` (echo or plain). */
  #opened(kind: typeof SocketKind.Echo | typeof SocketKind.Plain): Set<BunConnection> {
    return this.#open[kind === SocketKind.Echo ? 0 : 1];
  }

  #total(): number {
    return this.#open[0].size + this.#protocolOpen + this.#open[1].size;
  }

  address(): BoundAddress | undefined {
    const server = this.#server;
    if (!server) return undefined;
    return { address: server.hostname, port: server.port, family: server.hostname.includes(':') ? 'IPv6' : 'IPv4' };
  }

  sockets(): SocketCounts {
    const open = this.#open;
    return { echo: open[0].size, protocol: this.#protocolOpen, plain: open[1].size };
  }

  closeEchoAndPlainSockets(code: number, reason: string): void {
    for (const conn of [...this.#open[0], ...this.#open[1]]) conn.closeWith(code, reason);
  }

  socketsClosed(): Promise<void> {
    if (this.#total() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#whenEmpty.push(resolve));
  }

  terminateSockets(): void {
    for (const set of this.#open) for (const conn of [...set]) conn.terminate();
    // Protocol sockets have no set here: Bun closes every socket it still holds (with 1001, its
    // close handlers run at once) when its server stops for good, which close() does next anyway.
    if (this.#protocolOpen > 0) void this.#server?.stop(true);
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#fanOut.server = undefined;
    if (!server) return;
    await server.stop(true);
  }
}

/**
 * The peer of an upgrade request, as UpgradeRequest.socket: its address is asked of Bun only when
 * read (a refusal's log line), not for every upgrade.
 */
class UpgradePeer {
  readonly #server: BunServer<BunConnection>;
  readonly #request: Request;

  constructor(server: BunServer<BunConnection>, request: Request) {
    this.#server = server;
    this.#request = request;
  }

  get remoteAddress(): string | undefined {
    return this.#server.requestIP(this.#request)?.address;
  }
}

/**
 * The websocket handlers of a server: one function per event for every connection, the
 * connection's state read from `ws.data`.
 */
function socketHandlers(transport: BunTransport, counter: EchoCounter): BunWebSocketHandler<BunConnection> {
  return {
    open(ws: Socket): void {
      ws.data.ws = ws;
      transport.opened(ws.data);
    },
    message(ws: Socket, message: string | Uint8Array): void {
      const conn = ws.data;
      const text = typeof message === 'string';
      // UTF-8 takes at most 3 bytes per UTF-16 unit: most texts need no count.
      if ((text ? message.length * 3 > conn.maxPayload && Buffer.byteLength(message) > conn.maxPayload : message.byteLength > conn.maxPayload)) {
        // ws's reason text, so clients see the same close on both runtimes.
        conn.closeWith(CloseCode.MessageTooBig, 'Max payload size exceeded');
        return;
      }
      switch (conn.kind) {
        case SocketKind.Echo:
          counter.received('echo', 'message');
          if (text) ws.sendText(`echo: ${message}`);
          else ws.sendBinary(message);
          return;
        case SocketKind.Protocol: {
          const session = conn.session as ClientSession;
          if (text) session.handleFrame(message);
          else session.handleBinary(message);
          return;
        }
        default: {
          const session = conn.session as PlainSession;
          if (text) session.handleText(message);
          else session.handleBinary();
        }
      }
    },
    close(ws: Socket, code: number): void {
      transport.closed(ws.data, code);
    },
    pong(ws: Socket): void {
      ws.data.awaitingPong = false;
    },
  };
}

/** Pings each open socket; one still awaiting the previous ping's pong is ended (RFC 6455 §5.5.2). */
function sweep(connections: Iterable<BunConnection>): void {
  for (const conn of connections) {
    if (!conn.open) continue;
    if (conn.awaitingPong) {
      conn.terminate();
      continue;
    }
    conn.awaitingPong = true;
    conn.ws!.ping();
  }
}

/** Bun's listen errors, with Node's code where Bun's message says which it is. */
function withCode(err: unknown): Error & { code?: string } {
  const e = (err instanceof Error ? err : new Error(String(err))) as Error & { code?: string };
  if (e.code === undefined || !/^E[A-Z]+$/.test(e.code)) {
    if (/in use/i.test(e.message)) e.code = 'EADDRINUSE';
    else if (/permission|EACCES/i.test(e.message)) e.code = 'EACCES';
    else if (/EADDRNOTAVAIL|not available|assign/i.test(e.message)) e.code = 'EADDRNOTAVAIL';
  }
  return e;
}
