/**
 * The raw Bun echo: `Bun.serve` and its native WebSocket server with canal's echo behaviour
 * (text `m` -> `echo: m`, binary back unchanged), the fastest echo a TypeScript program can
 * serve: the line canal-on-Bun is read against (issue 17).
 *   bun bench/echo/peers/bun-echo.ts [--port N]
 */
import { bunApi, PEER_WEBSOCKET_OPTIONS } from '../../lib/bun-api.js';
import { announce, PEER_HOST, peerPort } from '../../lib/peer-process.js';

const server = bunApi().serve<undefined>({
  hostname: PEER_HOST,
  port: peerPort(process.argv.slice(2)),
  fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response('WebSocket only', { status: 400 })),
  websocket: {
    ...PEER_WEBSOCKET_OPTIONS,
    message(ws, message) {
      ws.send(typeof message === 'string' ? `echo: ${message}` : message);
    },
  },
});

announce('bun-echo', server.port);
