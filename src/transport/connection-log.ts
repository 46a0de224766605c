/**
 * Connection lifecycle logging shared by every endpoint: one open line and one close line per
 * connection at debug level, nothing per message. Listeners are module-level; the per-socket
 * state is one small object.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';

const kMeta = Symbol('canal.connectionMeta');

interface Meta {
  readonly id: number;
  readonly endpoint: string;
  readonly log: Logger;
}

type Logged = WebSocket & { [kMeta]?: Meta };

let nextId = 1;

/**
 * Absorbs ws 'error' events (ws closes the socket itself with the right code — 1002, 1007,
 * 1009 — after emitting them) and, at debug level, logs the connection's open now and its close
 * later. Below debug nothing is kept per connection: the meta object and the close listener cost
 * about 100 bytes each (heap snapshot of 5,000 idle connections, docs/benchmarks.md "Memory").
 */
export function logConnection(ws: WebSocket, req: IncomingMessage, endpoint: string, log: Logger): void {
  ws.on('error', onError);
  if (!log.isLevelEnabled('debug')) return;
  const meta: Meta = { id: nextId++, endpoint, log };
  (ws as Logged)[kMeta] = meta;
  log.debug({ conn: meta.id, endpoint, remote: req.socket.remoteAddress, origin: req.headers.origin }, 'connection open');
  ws.on('close', onClose);
}

function onError(this: Logged, err: Error & { code?: string }): void {
  const meta = this[kMeta];
  meta?.log.debug({ conn: meta.id, endpoint: meta.endpoint, err: err.message, code: err.code }, 'connection error');
}

function onClose(this: Logged, code: number, reason: Buffer): void {
  const meta = this[kMeta];
  if (meta?.log.isLevelEnabled('debug')) {
    meta.log.debug({ conn: meta.id, endpoint: meta.endpoint, code, reason: reason.toString() }, 'connection closed');
  }
}
