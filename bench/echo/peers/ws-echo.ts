/**
 * The peer canal's echo is measured against: the smallest `ws` server with canal's echo
 * behaviour (text `m` -> `echo: m`, binary back unchanged), written the way the ws README
 * writes one. canal/ws near 1 means canal's layers cost nothing on this path.
 *   node --import tsx bench/echo/peers/ws-echo.ts [--port N]
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { announce, PEER_HOST, peerPort } from '../../lib/peer-process.js';

// Same settings as canal's echo server where they could matter: no compression (ws's default
// for servers too, stated so a change of default cannot skew the comparison).
const wss = new WebSocketServer({ host: PEER_HOST, port: peerPort(process.argv.slice(2)), perMessageDeflate: false });

wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    ws.send(isBinary ? data : `echo: ${data.toString()}`, { binary: isBinary });
  });
});

wss.on('listening', () => announce('ws-echo', (wss.address() as AddressInfo).port));
