/**
 * Wires WebSockets on /connection/websocket to client sessions. Listeners are module-level
 * functions shared by every socket; the per-socket state is the session, reached through a
 * symbol property.
 */
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { DisconnectCode } from '../protocol/codes.js';
import { ClientSession } from '../session/client-session.js';
import type { SessionContext } from '../session/context.js';
import { WsConnection } from './ws-connection.js';

/** The subprotocols the JSON protocol accepts; clients usually offer none. */
export const JSON_SUBPROTOCOL = 'centrifuge-json';
export const PROTOBUF_SUBPROTOCOL = 'centrifuge-protobuf';

const kSession = Symbol('canal.session');
type WithSession = WebSocket & { [kSession]: ClientSession };

/** ws `handleProtocols`: pick centrifuge-json; protobuf is selected only to be refused with 3506. */
export function selectSubprotocol(offered: Set<string>): string | false {
  if (offered.has(JSON_SUBPROTOCOL)) return JSON_SUBPROTOCOL;
  if (offered.has(PROTOBUF_SUBPROTOCOL)) return PROTOBUF_SUBPROTOCOL;
  return false;
}

/** Starts a session on a freshly accepted socket. */
export function acceptProtocolSocket(ws: WebSocket, req: IncomingMessage, ctx: SessionContext): ClientSession {
  const session = new ClientSession(new WsConnection(ws), ctx, req.headers);
  (ws as WithSession)[kSession] = session;
  ws.on('message', onMessage);
  // on, not once: 'close' fires once, and once() wraps each listener in three objects per connection.
  ws.on('close', onClose);
  if (ws.protocol === PROTOBUF_SUBPROTOCOL) {
    session.disconnect(DisconnectCode.InappropriateProtocol, 'inappropriate protocol: this server speaks the JSON protocol only');
  }
  return session;
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const session = (this as WithSession)[kSession];
  if (isBinary) session.handleBinary();
  else session.handleFrame(data.toString());
}

function onClose(this: WebSocket, code: number): void {
  (this as WithSession)[kSession].connectionClosed(code);
}
