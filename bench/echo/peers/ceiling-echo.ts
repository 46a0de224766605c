/**
 * The ceiling: an echo endpoint with as little per-message work as a WebSocket server can do,
 * run to show that the load generator saturates something far faster than canal or ws, so
 * their figures are theirs and not the generator's.
 *
 * node:net directly: after the handshake, each TCP read is scanned for whole client frames and
 * answered with one write holding every reply (`echo: ` + the unmasked text; binary unchanged).
 * No events, strings or allocations per message; not a server anyone should use (no
 * fragmentation, no limits, no UTF-8 check).
 *   node --import tsx bench/echo/peers/ceiling-echo.ts [--port N]
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { emptyFrameHeader, Opcode, parseFrameHeader, writeHeader } from '../../lib/ws-frames.js';
import { acceptUpgrade } from '../../lib/server-handshake.js';
import { announce, PEER_HOST, peerPort } from '../../lib/peer-process.js';

const PREFIX = Buffer.from('echo: ', 'latin1');
/** A reply frame is at most this much longer than the client frame it answers. */
const GROWTH_PER_FRAME = PREFIX.length;
/** The smallest client frame: 2 header bytes and a 4-byte mask. */
const MIN_CLIENT_FRAME = 6;

const header = emptyFrameHeader();

const kPending = Symbol('pending');

/** Per-connection state: the bytes of a frame cut by a TCP read boundary. */
type Peer = Socket & { [kPending]?: Buffer | undefined };

function onHandshake(socket: Peer): void {
  acceptUpgrade(socket, onFrames as (this: Socket, chunk: Buffer) => void);
}

/** Answers every whole frame in the bytes received so far, in one write. */
function onFrames(this: Peer, chunk: Buffer): void {
  const buf = this[kPending] ? Buffer.concat([this[kPending], chunk]) : chunk;
  const out = Buffer.allocUnsafe(buf.length + Math.ceil(buf.length / MIN_CLIENT_FRAME) * GROWTH_PER_FRAME);
  let at = 0;
  let used = 0;
  const h = header;
  while (at < buf.length && parseFrameHeader(buf, at, h)) {
    if (h.maskAt === -1 || !h.fin) {
      this.destroy(); // RFC 6455 §5.1: client frames are masked; fragments are not needed here.
      return;
    }
    if (h.opcode === Opcode.Text || h.opcode === Opcode.Binary) {
      const prefixed = h.opcode === Opcode.Text;
      const length = h.payloadLength + (prefixed ? PREFIX.length : 0);
      let p = writeHeader(out, used, h.opcode, length);
      if (prefixed) p += PREFIX.copy(out, p);
      unmaskInto(out, p, buf, h.payloadAt, h.payloadLength, h.maskAt);
      used = p + h.payloadLength;
    } else if (h.opcode === Opcode.Ping) {
      const p = writeHeader(out, used, Opcode.Pong, h.payloadLength);
      unmaskInto(out, p, buf, h.payloadAt, h.payloadLength, h.maskAt);
      used = p + h.payloadLength;
    } else if (h.opcode === Opcode.Close) {
      const p = writeHeader(out, used, Opcode.Close, h.payloadLength);
      unmaskInto(out, p, buf, h.payloadAt, h.payloadLength, h.maskAt);
      this.end(out.subarray(0, p + h.payloadLength));
      return;
    }
    at = h.end;
  }
  this[kPending] = at < buf.length ? buf.subarray(at) : undefined;
  if (used > 0) this.write(out.subarray(0, used));
}

function unmaskInto(out: Buffer, to: number, buf: Buffer, from: number, length: number, maskAt: number): void {
  const m0 = buf[maskAt]!;
  const m1 = buf[maskAt + 1]!;
  const m2 = buf[maskAt + 2]!;
  const m3 = buf[maskAt + 3]!;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    out[to + i] = buf[from + i]! ^ m0;
    out[to + i + 1] = buf[from + i + 1]! ^ m1;
    out[to + i + 2] = buf[from + i + 2]! ^ m2;
    out[to + i + 3] = buf[from + i + 3]! ^ m3;
  }
  for (; i < length; i++) out[to + i] = buf[from + i]! ^ buf[maskAt + (i & 3)]!;
}

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {});
  onHandshake(socket);
});
server.listen(peerPort(process.argv.slice(2)), PEER_HOST, () => announce('ceiling-echo', (server.address() as AddressInfo).port));
