/**
 * The peer canal's fan-out is measured against: the naive broadcast a `ws` user writes first,
 * as the ws README writes it ("broadcast to all other clients"). Every message a client sends
 * is sent with ws.send, in a for loop, to every other open client; nothing is encoded once and
 * nothing is batched. The load generator's subscribers only listen; its publisher only sends.
 *   node --import tsx bench/fanout/peers/ws-fanout.ts [--port N]
 * The memory benchmark holds its idle connections on the same server.
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { announce, PEER_HOST, peerPort } from '../../lib/peer-process.js';

// No compression, as canal (ws's default for servers too; stated so a change of default cannot
// skew the comparison).
const wss = new WebSocketServer({ host: PEER_HOST, port: peerPort(process.argv.slice(2)), perMessageDeflate: false });

wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});

wss.on('listening', () => announce('ws-fanout', (wss.address() as AddressInfo).port));
