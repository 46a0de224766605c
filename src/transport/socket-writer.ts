/**
 * The lowest write path for one WebSocket: text through ws, or a {@link SharedFrame}'s bytes
 * straight onto the TCP socket. The direct path is taken only when it cannot reorder anything:
 * no compression (our servers disable permessage-deflate) and ws's sender has nothing queued;
 * otherwise the frame's text goes through ws.send like any other message.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { truncateReason } from '../protocol/errors.js';
import type { SharedFrame } from './shared-frame.js';

/** The parts of ws's internals the direct path relies on (ws 8: lib/websocket.js, lib/sender.js). */
interface WsInternals {
  _socket: Socket | null;
  _sender: { _state: number; _queue: unknown[] } | null;
  _extensions: Record<string, unknown>;
}

/** ws Sender state when it is not deflating or reading a Blob (lib/sender.js `DEFAULT`). */
const SENDER_IDLE = 0;

/** Writes `frame` to `ws`; a no-op unless the connection is open. */
export function writeShared(ws: WebSocket, frame: SharedFrame): void {
  if (ws.readyState !== ws.OPEN) return;
  const internals = ws as unknown as WsInternals;
  const socket = internals._socket;
  const sender = internals._sender;
  if (socket && sender && sender._state === SENDER_IDLE && sender._queue.length === 0 && !internals._extensions['permessage-deflate']) {
    socket.write(frame.frame);
  } else {
    ws.send(frame.text);
  }
}

/** Writes `text` to `ws` as one text frame; a no-op unless the connection is open. */
export function writeText(ws: WebSocket, text: string): void {
  if (ws.readyState === ws.OPEN) ws.send(text);
}

/** Holds the socket's writes until uncorkSocket(): several frames, one system call. */
export function corkSocket(ws: WebSocket): void {
  (ws as unknown as WsInternals)._socket?.cork();
}

export function uncorkSocket(ws: WebSocket): void {
  (ws as unknown as WsInternals)._socket?.uncork();
}

/** Bytes accepted for sending but not yet handed to the kernel. */
export function unsentBytes(ws: WebSocket): number {
  return ws.bufferedAmount;
}

/**
 * Closes with `code` and `reason`, and terminates the socket if the peer has not completed the
 * closing handshake within `graceMs` (a slow or dead peer must not hold memory for ws's 30 s).
 */
export function closeSocket(ws: WebSocket, code: number, reason: string, graceMs = 5000): void {
  if (ws.readyState === ws.CLOSED) return;
  if (ws.readyState === ws.OPEN) {
    // A connection paused for backpressure must read again, or the peer's answering close
    // frame is never seen and the close waits out the grace period.
    if (ws.isPaused) ws.resume();
    try {
      ws.close(code, truncateReason(reason));
    } catch {
      ws.terminate(); // a code ws refuses must still end the connection
      return;
    }
  }
  const timer = setTimeout(() => ws.terminate(), graceMs);
  timer.unref();
  ws.once('close', () => clearTimeout(timer));
}
