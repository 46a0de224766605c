/**
 * The transport seam: one port serving HTTP and the three WebSocket endpoints (echo,
 * /connection/websocket, /raw/<channel>), with two implementations — node:http + `ws` on Node
 * (node-transport.ts), `Bun.serve` and its native WebSocket server on Bun (bun-transport.ts).
 * {@link createTransport} picks one for the runtime it runs on; nothing above this layer knows
 * which. Both refuse upgrades with the same statuses (the router's gates), hand sessions a
 * connection with the same contract (SessionConnection, PlainConnection), and shut down the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { SessionContext } from '../session/context.js';
import type { DirectWrites } from '../session/outbox.js';
import type { PlainContext } from '../session/plain-session.js';
import { bunRuntime } from './bun-api.js';
import { BunTransport } from './bun-transport.js';
import type { EchoCounter } from './echo.js';
import type { Heartbeat } from './heartbeat.js';
import { NodeTransport } from './node-transport.js';
import type { PlainTarget } from './plain-endpoint.js';
import type { UpgradeGate } from './router.js';
import { socketWrites } from './socket-writes.js';

/** node:http's request listener: the HTTP side (dispatcher) on either runtime. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** What a transport serves, and the shared objects its sessions use. */
export interface TransportOptions {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  /** Every echo and plain socket is pinged on its tick; sockets that did not answer the previous ping are cut. */
  readonly heartbeat: Heartbeat;
  /** Every request that is not a WebSocket upgrade. */
  readonly onRequest: RequestListener;
  /** Checks run before any handshake, in order (draining, origin, capacity). */
  readonly gates: readonly UpgradeGate[];
  readonly echo: { readonly description: string; readonly counter: EchoCounter };
  readonly protocol: { readonly description: string; readonly ctx: SessionContext };
  readonly plain: {
    readonly description: string;
    readonly ctx: PlainContext;
    /** The channel a /raw/ path names, a refusal, or undefined for other paths. */
    match(pathname: string): PlainTarget | undefined;
  };
}

/** Open WebSocket connections, by endpoint. */
export interface SocketCounts {
  readonly echo: number;
  readonly protocol: number;
  /** Plain clients on /raw/<channel>. */
  readonly plain: number;
}

/** Where a transport listens (node:net's AddressInfo shape). */
export interface BoundAddress {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

/** One port's server on one runtime. */
export interface Transport {
  /** Which runtime serves: for logs and /stats, never for behaviour above this layer. */
  readonly runtime: 'node' | 'bun';
  /**
   * Whether it may send a message to a whole channel's subscribers at once, in native code
   * (SharedMessage.channel): then every subscriber of a channel must take a publication in the
   * same pass, never in slices (Hub.sliceSize).
   */
  readonly fansOutNatively: boolean;
  /** Starts listening; rejects with an error carrying Node's `code` (EADDRINUSE, EACCES, ...). */
  listen(host: string, port: number): Promise<void>;
  /** Where it listens; undefined before listen() and after close(). */
  address(): BoundAddress | undefined;
  /** How many connections the process's file descriptors allow, when the runtime enforces one. */
  readonly connectionBudget: number | undefined;
  sockets(): SocketCounts;
  /** Closes every echo and plain (/raw/) WebSocket with `code` and `reason`. */
  closeEchoAndPlainSockets(code: number, reason: string): void;
  /** Resolves once every WebSocket open now has closed. */
  socketsClosed(): Promise<void>;
  /** Ends every WebSocket at once, without a closing handshake. */
  terminateSockets(): void;
  /** Stops listening and ends every connection (HTTP too); resolves once the port is free. */
  close(): Promise<void>;
}

/** The transport for the runtime this process runs on: Bun.serve on Bun, node:http + ws elsewhere. */
export function createTransport(options: TransportOptions): Transport {
  const bun = bunRuntime();
  return bun ? new BunTransport(bun, options) : new NodeTransport(options);
}

/**
 * How sessions' outboxes write publications to their sockets themselves on this runtime
 * (OutboxSettings.direct): Node's TCP sockets (socket-writes.ts); none on Bun, whose
 * connections write through the sink.
 */
export function transportDirectWrites(): DirectWrites | undefined {
  return bunRuntime() ? undefined : socketWrites;
}
