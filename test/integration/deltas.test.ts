/**
 * Fossil deltas with the official client (`delta: 'fossil'` on a subscription, issue 15): what it
 * receives equals, value for value, what was published, while fewer bytes cross the wire; a
 * recovered batch starts in full and decodes, on JSON and on Protobuf; a namespace that does not
 * allow deltas subscribes without them, and a delta type canal does not know is a bad request.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Centrifuge as ProtobufCentrifuge } from 'centrifuge/build/protobuf';
import { NAMESPACE_DEFAULTS } from '../../src/config/namespaces.js';
import { collect, connectedCentrifuge, FAST_RECONNECT, once, protocolUrl, recordingWebSocket, subscribe } from '../helpers/centrifuge.js';
import { startServer } from '../helpers/server.js';
import { until } from '../helpers/wait.js';
import { connectClient } from '../helpers/ws-client.js';

const open = { ...NAMESPACE_DEFAULTS, allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true };

/** A match's state as a scoreboard publishes it: the whole state each time, a little changed. */
function score(i: number): Record<string, unknown> {
  return {
    match: 'final', minute: i, home: { name: 'Rovers', score: Math.floor(i / 7) }, away: { name: 'United', score: Math.floor(i / 11) },
    status: 'live', events: Array.from({ length: Math.min(i, 5) }, (_, k) => ({ minute: k * 9, player: `Player ${k + 1}`, team: k % 2 ? 'away' : 'home' })),
    big: 12345678901234567890n.toString(), note: 'état — ünïcödé ✓',
  };
}

describe('fossil deltas with the official client', async () => {
  const server = await startServer({
    namespaces: {
      live: { ...open, history_size: 50, history_ttl: 60_000, force_recovery: true, allowed_delta_types: ['fossil'] },
      plain: { ...open },
    },
  });

  it('receives exactly the data published, value for value, in fewer bytes than without deltas', async (t) => {
    const withDelta = recordingWebSocket();
    const without = recordingWebSocket();
    const a = await connectedCentrifuge(t, server, { websocket: withDelta.WebSocket });
    const b = await connectedCentrifuge(t, server, { websocket: without.WebSocket });
    const subA = await subscribe(a, 'live:match', { delta: 'fossil' });
    const subB = await subscribe(b, 'live:match');
    const gotA = collect(subA, 'publication');
    const gotB = collect(subB, 'publication');
    const bytes = (ws: { last(): unknown }): number => (ws.last() as { _socket: { bytesRead: number } })._socket.bytesRead;
    const [startA, startB] = [bytes(withDelta), bytes(without)];
    const published = Array.from({ length: 40 }, (_, i) => score(i));
    for (const data of published) await server.canal.publish('live:match', data);
    await gotA.waitFor(published.length);
    await gotB.waitFor(published.length);
    assert.deepEqual(gotA.items.map((p) => p.data), published);
    assert.deepEqual(gotB.items.map((p) => p.data), published);
    const [deltaBytes, fullBytes] = [bytes(withDelta) - startA, bytes(without) - startB];
    assert.ok(deltaBytes < fullBytes * 0.6, `with deltas ${deltaBytes} bytes, without ${fullBytes}`);
    const stats = subA.deltaStats();
    assert.equal(stats.numFullPayloads, 1, 'the first publication in full');
    assert.equal(stats.numDeltaPayloads, published.length - 1);
  });

  it('recovers a batch that starts in full, then goes on with deltas', async (t) => {
    const ws = recordingWebSocket();
    const client = await connectedCentrifuge(t, server, { websocket: ws.WebSocket });
    const sub = await subscribe(client, 'live:recover', { delta: 'fossil' });
    const got = collect(sub, 'publication');
    await server.canal.publish('live:recover', score(1));
    await got.waitFor(1);
    const resubscribed = once(sub, 'subscribed');
    ws.last().terminate();
    await until(() => client.state !== 'connected', 'the client saw the drop');
    for (const i of [2, 3, 4]) await server.canal.publish('live:recover', score(i));
    const ctx = await resubscribed;
    assert.equal(ctx.recovered, true);
    await got.waitFor(4);
    await server.canal.publish('live:recover', score(5));
    await got.waitFor(5);
    assert.deepEqual(got.items.map((p) => p.data), [1, 2, 3, 4, 5].map(score));
  });

  it('recovers a batch that starts in full, then goes on with deltas, for the Protobuf build', async (t) => {
    const ws = recordingWebSocket();
    const client = new ProtobufCentrifuge(protocolUrl(server), { websocket: ws.WebSocket, ...FAST_RECONNECT });
    client.on('error', () => {});
    t.after(() => client.disconnect());
    const sub = client.newSubscription('live:pb-recover', { delta: 'fossil' });
    const got = collect(sub as never, 'publication');
    const subscribed = once(sub as never, 'subscribed');
    sub.subscribe();
    client.connect();
    await subscribed;
    await server.canal.publish('live:pb-recover', score(1));
    await got.waitFor(1);
    const resubscribed = once(sub as never, 'subscribed');
    ws.last().terminate();
    await until(() => client.state !== 'connected', 'the client saw the drop');
    for (const i of [2, 3, 4]) await server.canal.publish('live:pb-recover', score(i));
    const ctx = await resubscribed as { recovered: boolean };
    assert.equal(ctx.recovered, true);
    await got.waitFor(4);
    await server.canal.publish('live:pb-recover', score(5));
    await got.waitFor(5);
    assert.deepEqual(got.items.map((p) => JSON.parse(new TextDecoder().decode((p as { data: Uint8Array }).data))), [1, 2, 3, 4, 5].map(score));
    // 1 live, 2 to 4 recovered (2 in full, 3 and 4 deltas), 5 live again in full after the recovery.
    const stats = sub.deltaStats();
    assert.deepEqual([stats.numFullPayloads, stats.numDeltaPayloads], [3, 2], 'full and delta payloads');
  });

  it('works for the Protobuf build, on bytes', async (t) => {
    const client = new ProtobufCentrifuge(protocolUrl(server), { websocket: recordingWebSocket().WebSocket, ...FAST_RECONNECT });
    client.on('error', () => {});
    t.after(() => client.disconnect());
    const sub = client.newSubscription('live:pb', { delta: 'fossil' });
    const got = collect(sub as never, 'publication');
    sub.subscribe();
    client.connect();
    await once(sub as never, 'subscribed');
    const published = Array.from({ length: 10 }, (_, i) => score(i));
    for (const data of published) await server.canal.publish('live:pb', data);
    await got.waitFor(published.length);
    assert.deepEqual(got.items.map((p) => JSON.parse(new TextDecoder().decode((p as { data: Uint8Array }).data))), published);
    assert.equal(sub.deltaStats().numDeltaPayloads, published.length - 1);
  });

  it('subscribes without deltas where the namespace does not allow them', async () => {
    const client = await connectClient(`${server.wsUrl}/connection/websocket`);
    client.send('{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"plain:a","delta":"fossil"}}');
    await client.nextText(); // the connect reply, written at once
    const reply = await client.nextText();
    assert.match(reply, /\{"id":2,"subscribe":\{\}\}$/);
    client.ws.terminate();
  });

  it('answers a delta type it does not know with error 107 bad request, naming the ones it knows', async () => {
    const client = await connectClient(`${server.wsUrl}/connection/websocket`);
    client.send('{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"live:a","delta":"xdelta"}}');
    await client.nextText(); // the connect reply, written at once
    const reply = await client.nextText();
    assert.match(reply, /\{"id":2,"error":\{"code":107,"message":"bad request: unknown delta type \\"xdelta\\" \(canal knows: fossil\)"\}\}$/);
    client.ws.terminate();
  });
});
