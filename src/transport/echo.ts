/**
 * The seed's echo server, message for message: a text message `m` is answered with the text
 * `echo: m`; a binary message is sent back unchanged as binary. Replies keep the order of the
 * messages they answer because ws delivers and sends in order on one connection.
 */
import type { RawData, WebSocket } from 'ws';

/** Counts echoed messages (the server's metrics); one counter object shared by every socket. */
export interface EchoCounter {
  received(endpoint: 'echo', kind: 'message'): void;
}

const kCounter = Symbol('canal.echoCounter');
type Counted = WebSocket & { [kCounter]?: EchoCounter };

/**
 * Past this many unsent bytes the connection stops reading until its peer catches up, so a
 * client that sends without reading makes TCP push back instead of growing our memory.
 */
const PAUSE_AT_BYTES = 1024 * 1024;

/** Serves the echo behaviour on `ws`; the listener is module-level (one function for all sockets). */
export function attachEcho(ws: WebSocket, counter?: EchoCounter): void {
  if (counter) (ws as Counted)[kCounter] = counter;
  ws.on('message', onEchoMessage);
}

function onEchoMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as Counted)[kCounter]?.received('echo', 'message');
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
