/**
 * The seed's echo server, message for message: a text message `m` is answered with the text
 * `echo: m`; a binary message is sent back unchanged as binary. Replies keep the order of the
 * messages they answer because ws delivers and sends in order on one connection.
 */
import type { RawData, WebSocket } from 'ws';

/**
 * Past this many unsent bytes the connection stops reading until its peer catches up, so a
 * client that sends without reading makes TCP push back instead of growing our memory.
 */
const PAUSE_AT_BYTES = 1024 * 1024;

/** Serves the echo behaviour on `ws`; the listener is module-level (one function for all sockets). */
export function attachEcho(ws: WebSocket): void {
  ws.on('message', onEchoMessage);
}

function onEchoMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const reply = isBinary ? data : `echo: ${data.toString()}`;
  if (this.bufferedAmount < PAUSE_AT_BYTES) {
    this.send(reply, { binary: isBinary });
    return;
  }
  // Slow reader: stop reading until this reply (and so everything before it) is flushed.
  const ws = this;
  ws.pause();
  ws.send(reply, { binary: isBinary }, () => ws.resume());
}
