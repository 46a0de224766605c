/**
 * The seed's echo server, message for message: a text message `m` is answered with the text
 * `echo: m`; a binary message is sent back unchanged as binary. Replies keep the order of the
 * messages they answer because ws delivers and sends in order on one connection.
 *
 * The replies to everything one TCP read brought leave in one write (DESIGN: "batch per tick"):
 * the socket is corked at the first reply and uncorked on the next tick. Profiling showed half
 * the server's time in one writev per reply (docs/benchmarks.md, Echo).
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';

/** Counts echoed messages (the server's metrics); one counter object shared by every socket. */
export interface EchoCounter {
  received(endpoint: 'echo', kind: 'message'): void;
}

const kCounter = Symbol('canal.echoCounter');
const kCorked = Symbol('canal.echoCorked');
/** ws keeps its TCP socket in `_socket` (lib/websocket.js setSocket); @types/ws does not declare it. */
type Echoing = WebSocket & { [kCounter]?: EchoCounter; [kCorked]?: boolean; _socket?: Socket };

/**
 * Past this many unsent bytes the connection stops reading until its peer catches up, so a
 * client that sends without reading makes TCP push back instead of growing our memory.
 */
const PAUSE_AT_BYTES = 1024 * 1024;

/** Serves the echo behaviour on `ws`; the listener is module-level (one function for all sockets). */
export function attachEcho(ws: WebSocket, counter?: EchoCounter): void {
  if (counter) (ws as Echoing)[kCounter] = counter;
  ws.on('message', onEchoMessage);
}

function uncork(ws: Echoing, socket: Socket): void {
  ws[kCorked] = false;
  socket.uncork();
}

function onEchoMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const self = this as Echoing;
  self[kCounter]?.received('echo', 'message');
  const socket = self._socket;
  if (socket && !self[kCorked]) {
    self[kCorked] = true;
    socket.cork();
    process.nextTick(uncork, self, socket);
  }
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
