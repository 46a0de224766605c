/**
 * The fan-out ceiling: a WebSocket broadcast with as little work per delivery as a server can
 * do, run to show how many deliveries per second the load generator can take in, so that canal's
 * and ws's figures at saturation are theirs and not the generator's.
 *
 * node:net directly: after the handshake, every whole text frame a client sends (the publisher)
 * is turned once into unmasked server frames, and all the frames of one TCP read go to every
 * other connection in one write. No events, strings or allocations per delivery; not a server
 * anyone should use (no fragmentation, no limits, no UTF-8 check, no back-pressure).
 *   node --import tsx bench/fanout/peers/ceiling-fanout.ts [--port N]
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { emptyFrameHeader, Opcode, parseFrameHeader, writeHeader } from '../../lib/ws-frames.js';
import { acceptUpgrade } from '../../lib/server-handshake.js';
import { announce, PEER_HOST, peerPort } from '../../lib/peer-process.js';

const header = emptyFrameHeader();

/** Connections past their handshake, in the order they arrived. */
const open = new Set<Socket>();

/** The bytes of a frame cut by a TCP read boundary, per connection. */
const pendingOf = new WeakMap<Socket, Buffer>();

function onHandshake(socket: Socket): void {
  // Added before the 101 leaves: a client that has its answer is already a subscriber.
  acceptUpgrade(socket, onFrames, (s) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  });
}

/** Broadcasts every whole text frame received so far to every other connection, one write each. */
function onFrames(this: Socket, chunk: Buffer): void {
  const before = pendingOf.get(this);
  const buf = before ? Buffer.concat([before, chunk]) : chunk;
  const out = Buffer.allocUnsafe(buf.length); // server frames are never longer than masked client frames
  let at = 0;
  let used = 0;
  const h = header;
  while (at < buf.length && parseFrameHeader(buf, at, h)) {
    if (h.maskAt === -1 || !h.fin) {
      this.destroy(); // RFC 6455 §5.1: client frames are masked; fragments are not needed here.
      return;
    }
    if (h.opcode === Opcode.Text) {
      const p = writeHeader(out, used, Opcode.Text, h.payloadLength);
      for (let i = 0; i < h.payloadLength; i++) out[p + i] = buf[h.payloadAt + i]! ^ buf[h.maskAt + (i & 3)]!;
      used = p + h.payloadLength;
    } else if (h.opcode === Opcode.Close) {
      this.end();
      return;
    }
    at = h.end;
  }
  if (at < buf.length) pendingOf.set(this, buf.subarray(at));
  else pendingOf.delete(this);
  if (used === 0) return;
  const frames = out.subarray(0, used);
  for (const socket of open) if (socket !== this) socket.write(frames);
}

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {});
  onHandshake(socket);
});
server.listen(peerPort(process.argv.slice(2)), PEER_HOST, () => announce('ceiling-fanout', (server.address() as AddressInfo).port));
