/**
 * Wires WebSockets on /connection/websocket to client sessions. Listeners are functions shared by
 * every socket (module-level, or made once per endpoint); the per-socket state is the session,
 * reached through a symbol property.
 */
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { protobufCodec } from '../protocol/codec.js';
import { ClientSession } from '../session/client-session.js';
import type { SessionContext } from '../session/context.js';
import { adoptCompression, type WsConnection } from './ws-connection.js';

/** The subprotocols: JSON (also when none is offered, as most clients do) and Protobuf. */
export const JSON_SUBPROTOCOL = 'centrifuge-json';
export const PROTOBUF_SUBPROTOCOL = 'centrifuge-protobuf';

const kSession = Symbol('canal.session');
type WithSession = WebSocket & { [kSession]: ClientSession };

/** ws `handleProtocols`: centrifuge-json when offered, else centrifuge-protobuf when offered. */
export function selectSubprotocol(offered: Set<string>): string | false {
  if (offered.has(JSON_SUBPROTOCOL)) return JSON_SUBPROTOCOL;
  if (offered.has(PROTOBUF_SUBPROTOCOL)) return PROTOBUF_SUBPROTOCOL;
  return false;
}

/** The sockets of /connection/websocket: what the transport counts, drains and terminates. */
export interface ProtocolEndpoint {
  /** Every accepted socket until its 'close' event. */
  readonly sockets: ReadonlySet<WsConnection>;
  /** Starts a session on a freshly accepted socket. */
  accept(ws: WsConnection, req: IncomingMessage): ClientSession;
}

/**
 * The endpoint keeps its own set of sockets, and its server runs with ws's clientTracking off:
 * ws would add a closure and its context to every socket to leave its set, and with canal's own
 * 'close' listener beside it, an array of listeners: about 160 bytes per connection (heap
 * snapshots, docs/benchmarks.md). Here the one 'close' listener, made once per endpoint, does both.
 */
export function protocolEndpoint(ctx: SessionContext): ProtocolEndpoint {
  const sockets = new Set<WsConnection>();
  function onClose(this: WebSocket, code: number): void {
    sockets.delete(this as WsConnection);
    (this as WithSession)[kSession].connectionClosed(code);
  }
  return {
    sockets,
    accept(ws, req) {
      const protobuf = ws.protocol === PROTOBUF_SUBPROTOCOL;
      const session = new ClientSession(adoptCompression(ws), ctx, protobuf ? { codec: protobufCodec, upgradeHeaders: req.headers } : { upgradeHeaders: req.headers });
      (ws as unknown as WithSession)[kSession] = session;
      sockets.add(ws);
      ws.on('message', onMessage);
      // on, not once: 'close' fires once, and once() wraps each listener in three objects per connection.
      ws.on('close', onClose);
      return session;
    },
  };
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const session = (this as WithSession)[kSession];
  if (isBinary) session.handleBinary(asBytes(data));
  else session.handleFrame(data.toString());
}

/** ws hands a Buffer (one fragment or joined), an ArrayBuffer or Buffer[] depending on binaryType. */
function asBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
