/**
 * The honest floor for a Node server that writes every publication to every socket: `ws` for
 * the handshake and for reading, but each publication framed once into one Buffer (header and
 * payload together) and that Buffer written with `socket.write` to every other connection's
 * socket, with no ws.send, no re-framing and no per-client allocation. What canal's fan-out is
 * judged against (issue 11): canal's CPU per delivery <= 1.05x this peer's.
 *   node --import tsx bench/fanout/peers/ws-frame-once.ts [--port N]
 * The sockets come from ws's public `handleUpgrade` (noServer mode); nothing of ws's internals
 * is touched. Nothing here handles fragmentation or back-pressure: a benchmark peer.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData } from 'ws';
import { announce, PEER_HOST, peerPort } from '../../lib/peer-process.js';
import { headerLength, Opcode, writeHeader } from '../../lib/ws-frames.js';

// No compression, as canal (ws's default for servers too; stated so a change of default cannot
// skew the comparison).
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

/** Every open connection's socket, in the order they arrived. */
const sockets = new Set<Duplex>();

/** One server frame (RFC 6455 §5.2, FIN, unmasked) holding `payload`, in one Buffer. */
function frameOnce(payload: Buffer, isBinary: boolean): Buffer {
  const frame = Buffer.allocUnsafe(headerLength(payload.length, false) + payload.length);
  payload.copy(frame, writeHeader(frame, 0, isBinary ? Opcode.Binary : Opcode.Text, payload.length));
  return frame;
}

const server = createServer((_req, res) => res.writeHead(426).end());
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    ws.on('error', () => {});
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const frame = frameOnce(Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]), isBinary);
      for (const s of sockets) if (s !== socket) s.write(frame);
    });
  });
});
// ws turns Nagle off on every socket it takes (setSocket), as for the other peers.
server.listen(peerPort(process.argv.slice(2)), PEER_HOST, () => announce('ws-frame-once', (server.address() as AddressInfo).port));
