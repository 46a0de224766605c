/**
 * The raw Bun fan-out: `Bun.serve` and its native WebSocket server, every subscriber subscribed
 * to one topic, every message the publisher sends published with `server.publish(topic, msg)`:
 * one call, the fan-out done in native code. The native line canal is read against (issue 11's
 * saturation target, issue 17's canal-on-Bun); the memory benchmark holds its idle connections
 * here too (each one subscribed).
 *   bun bench/fanout/peers/bun-fanout.ts [--port N]
 * The publisher connects to /publisher and is not subscribed (server.publish would send it its
 * own messages; the ws peers send to every other connection).
 */
import { bunApi, PEER_WEBSOCKET_OPTIONS } from '../../lib/bun-api.js';
import { announce, PEER_HOST, peerPort } from '../../lib/peer-process.js';

const TOPIC = 'fanout';

interface Connection {
  readonly publisher: boolean;
}

const server = bunApi().serve<Connection>({
  hostname: PEER_HOST,
  port: peerPort(process.argv.slice(2)),
  fetch: (request, srv) =>
    srv.upgrade(request, { data: { publisher: new URL(request.url).pathname === '/publisher' } }) ? undefined : new Response('WebSocket only', { status: 400 }),
  websocket: {
    ...PEER_WEBSOCKET_OPTIONS,
    open(ws) {
      if (!ws.data.publisher) ws.subscribe(TOPIC);
    },
    message(_ws, message) {
      server.publish(TOPIC, message);
    },
  },
});

announce('bun-fanout', server.port);
