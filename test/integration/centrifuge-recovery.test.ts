/**
 * The headline guarantee, seen through the official `centrifuge` client: a subscriber whose
 * connection drops (no close frame) reconnects by itself and receives every publication it
 * missed, in order, once, after 'subscribed' with recovered: true; when history no longer
 * covers the gap it is told recovered: false and gets nothing; a latest-value channel hands a
 * new subscriber the current value at once.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { NAMESPACE_DEFAULTS } from '../../src/config/namespaces.js';
import {
  clientId, collect, connectedCentrifuge, newClient, once, protocolUrl, recordingWebSocket, subscribe, timeline, type TimelineEntry,
} from '../helpers/centrifuge.js';
import { RUNTIMES } from '../helpers/cli.js';
import { startServerOn } from '../helpers/runtime-server.js';
import { startServer } from '../helpers/server.js';
import { sleep, until } from '../helpers/wait.js';

/** Everything after the last 'subscribed' entry of a timeline. */
function afterLastSubscribed(entries: readonly TimelineEntry[]): TimelineEntry[] {
  const at = entries.map((e) => e.event).lastIndexOf('subscribed');
  return entries.slice(at + 1);
}

/**
 * A client whose WebSocket can be cut: it reconnects after 500-600 ms, long enough for a test
 * to publish while it is away. Resolves once connected and subscribed to `channel`.
 */
async function cuttableSubscriber(t: TestContext, server: { readonly wsUrl: string }, channel: string) {
  const recorder = recordingWebSocket();
  const client = newClient(t, protocolUrl(server), { websocket: recorder.WebSocket, minReconnectDelay: 500, maxReconnectDelay: 600 });
  const connected = once(client, 'connected');
  client.connect();
  const { client: firstId } = await connected;
  const sub = client.newSubscription(channel);
  const events = timeline(sub, ['subscribing', 'subscribed', 'publication', 'unsubscribed']);
  const done = once(sub, 'subscribed');
  sub.subscribe();
  await done;
  return { client, sub, events, firstId, recorder };
}

for (const runtime of RUNTIMES) describe(`recovery with the centrifuge client (dev chat: history 100, force_recovery), canal on ${runtime}`, async () => {
  const server = await startServerOn(runtime);

  it('a subscriber whose TCP connection is cut receives exactly the 50 publications it missed, in order, once, after subscribed with recovered: true', async (t) => {
    const channel = 'chat:room';
    const a = await cuttableSubscriber(t, server, channel);
    const b = await connectedCentrifuge(t, server);
    const subB = await subscribe(b, channel);
    const atB = collect(subB, 'publication');

    // A has a position (offset > 0) before it goes away.
    await b.publish(channel, { n: 0 });
    await until(() => a.events.some((e) => e.event === 'publication'), 'A received the first publication');
    const firstSubscribed = a.events.find((e) => e.event === 'subscribed')!.ctx;
    assert.equal(firstSubscribed.recoverable, true);
    assert.equal(firstSubscribed.wasRecovering, false);

    const connecting = once(a.client, 'connecting');
    a.recorder.last().terminate(); // destroys the socket: no close frame
    assert.deepEqual(await connecting, { code: 1, reason: 'transport closed' });
    const missed = Array.from({ length: 50 }, (_, i) => ({ n: i + 1, text: `missed ${i + 1}` }));
    for (const data of missed) await b.publish(channel, data);
    assert.equal(a.client.state, 'connecting', 'A was still away while all 50 were published');

    const reconnected = await once(a.client, 'connected', 5000);
    assert.notEqual(reconnected.client, a.firstId);
    await until(() => afterLastSubscribed(a.events).filter((e) => e.event === 'publication').length >= 50 &&
      a.events.filter((e) => e.event === 'subscribed').length === 2, 'A recovered 50 publications');
    const end = { n: 'end' };
    await server.publish(channel, end);
    await until(() => a.events.some((e) => e.event === 'publication' && e.ctx.data.n === 'end'), 'A got the live publication after recovery');

    const subscribedEvents = a.events.filter((e) => e.event === 'subscribed');
    assert.equal(subscribedEvents.length, 2);
    const ctx = subscribedEvents[1]!.ctx;
    assert.equal(ctx.recovered, true);
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.hasRecoveredPublications, true);
    const after = afterLastSubscribed(a.events);
    assert.deepEqual(after.map((e) => e.event), Array(51).fill('publication'), 'after subscribed: only publications');
    assert.deepEqual(after.map((e) => e.ctx.data), [...missed, end], 'exactly the missed ones, in order, once; then the live one');
    const offsets = after.map((e) => e.ctx.offset as number);
    assert.deepEqual(offsets, offsets.map((_, i) => offsets[0]! + i), 'consecutive offsets');
    const before = a.events.slice(0, a.events.indexOf(subscribedEvents[1]!));
    assert.deepEqual(before.filter((e) => e.event === 'publication').map((e) => e.ctx.data), [{ n: 0 }], 'nothing was delivered while A was away');

    await until(() => atB.items.length === 52, 'B got all 52');
    assert.deepEqual(atB.items.map((p) => p.data), [{ n: 0 }, ...missed, end], 'B saw each publication once');
  });

  it('a subscriber cut while publications keep coming gets every one across the reconnect, in order, with no duplicate and no gap', async (t) => {
    const channel = 'chat:busy';
    const a = await cuttableSubscriber(t, server, channel);
    const b = await connectedCentrifuge(t, server);
    const total = 200;
    let cut = false;
    for (let n = 0; n < total; n++) {
      await b.publish(channel, { n });
      if (n === 20) {
        await until(() => a.events.some((e) => e.event === 'publication' && e.ctx.data.n === 20), 'A got n=20');
        a.recorder.last().terminate();
        cut = true;
      }
      // One every ~10 ms: A, away 500-600 ms, misses 50-70 of them, within the history's 100.
      await sleep(8);
    }
    assert.ok(cut);
    await until(() => a.events.some((e) => e.event === 'publication' && e.ctx.data.n === total - 1), 'A got the last one', 10_000);
    const subscribedCtx = a.events.filter((e) => e.event === 'subscribed').map((e) => e.ctx);
    assert.equal(subscribedCtx.length, 2, 'A subscribed twice: once at the start, once after the cut');
    assert.equal(subscribedCtx[1].recovered, true, `not recovered: ${JSON.stringify(subscribedCtx[1])}`);
    assert.equal(subscribedCtx[1].hasRecoveredPublications, true, 'some publications came through recovery');
    const seen = a.events.filter((e) => e.event === 'publication').map((e) => e.ctx.data.n as number);
    assert.deepEqual(seen, Array.from({ length: total }, (_, n) => n));
  });

  it('a subscription unsubscribed and subscribed again recovers what was published in between', async (t) => {
    const channel = 'chat:resubscribe';
    const client = await connectedCentrifuge(t, server);
    const sub = client.newSubscription(channel);
    const events = timeline(sub, ['subscribed', 'publication', 'unsubscribed']);
    sub.subscribe();
    await once(sub, 'subscribed');
    await server.publish(channel, { n: 1 });
    await until(() => events.some((e) => e.event === 'publication'), 'the first publication arrived');
    const unsubscribed = once(sub, 'unsubscribed');
    sub.unsubscribe();
    await unsubscribed;
    await until(async () => (await server.api('presence_stats', { channel })).num_clients === 0, 'the server dropped the subscription');
    await server.publish(channel, { n: 2 });
    await server.publish(channel, { n: 3 });
    const again = once(sub, 'subscribed');
    sub.subscribe();
    const ctx = await again;
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    await until(() => afterLastSubscribed(events).length >= 2, 'the two missed ones arrived');
    await sleep(100);
    assert.deepEqual(afterLastSubscribed(events).map((e) => e.ctx.data), [{ n: 2 }, { n: 3 }]);
  });

  it('recovers publications the server published while the subscriber was away', async (t) => {
    const channel = 'chat:server-side-gap';
    const a = await cuttableSubscriber(t, server, channel);
    await server.publish(channel, { n: 0 });
    await until(() => a.events.some((e) => e.event === 'publication'), 'A received the first publication');
    const connecting = once(a.client, 'connecting');
    a.recorder.last().terminate();
    await connecting;
    const missed = Array.from({ length: 5 }, (_, i) => ({ n: i + 1 }));
    for (const data of missed) await server.publish(channel, data);
    await once(a.sub, 'subscribed', 5000);
    await until(() => afterLastSubscribed(a.events).length >= 5, 'A recovered 5');
    await sleep(100);
    assert.deepEqual(afterLastSubscribed(a.events).map((e) => e.ctx.data), missed);
  });
});

describe('recovery past the history size (a namespace keeping 10 publications)', async () => {
  const server = await startServer({
    namespaces: {
      short: {
        ...NAMESPACE_DEFAULTS,
        allow_subscribe_for_anonymous: true,
        allow_publish_for_anonymous: true,
        history_size: 10,
        history_ttl: 60_000,
        force_recovery: true,
      },
    },
  });

  it('tells a subscriber that missed more than the history holds recovered: false, and emits none of the missed publications', async (t) => {
    const channel = 'short:room';
    const a = await cuttableSubscriber(t, server, channel);
    await server.canal.publish(channel, { n: 0 });
    await until(() => a.events.some((e) => e.event === 'publication'), 'A received the first publication');
    const connecting = once(a.client, 'connecting');
    a.recorder.last().terminate();
    await connecting;
    for (let n = 1; n <= 15; n++) await server.canal.publish(channel, { n });
    assert.equal(a.client.state, 'connecting');
    const ctx = await once(a.sub, 'subscribed', 5000);
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, false);
    assert.equal(ctx.hasRecoveredPublications, false);
    assert.equal(ctx.streamPosition?.offset, 16, 'the position is the stream top: live publications continue from there');
    await server.canal.publish(channel, { n: 'live' });
    await until(() => afterLastSubscribed(a.events).length >= 1, 'A got the live publication');
    await sleep(100);
    assert.deepEqual(afterLastSubscribed(a.events).map((e) => e.ctx.data), [{ n: 'live' }], 'none of the missed ones, then live ones as usual');
  });
});

describe('latest-value channels (dev scores: cache recovery, history 1)', async () => {
  const server = await startServer();

  it('hands a new subscriber of scores:final the current value at once, and only that', async (t) => {
    await server.canal.publish('scores:final', { home: 1, away: 0 });
    await server.canal.publish('scores:final', { home: 2, away: 0 });
    const client = await connectedCentrifuge(t, server);
    const sub = client.newSubscription('scores:final');
    const events = timeline(sub, ['subscribed', 'publication']);
    sub.subscribe();
    await until(() => events.some((e) => e.event === 'publication'), 'the current value arrived');
    await sleep(200);
    assert.deepEqual(events.map((e) => e.event), ['subscribed', 'publication']);
    assert.deepEqual(events[1]!.ctx.data, { home: 2, away: 0 });
    assert.equal(events[1]!.ctx.offset, 2);
    await server.canal.publish('scores:final', { home: 2, away: 1 });
    await until(() => events.length === 3, 'the next value arrived live');
    assert.deepEqual(events[2]!.ctx.data, { home: 2, away: 1 });
  });

  it('hands a subscriber that reconnects after several updates only the latest one', async (t) => {
    const channel = 'scores:semi';
    await server.canal.publish(channel, { home: 0, away: 0 });
    const a = await cuttableSubscriber(t, server, channel);
    await until(() => a.events.some((e) => e.event === 'publication'), 'A got the current value');
    const connecting = once(a.client, 'connecting');
    a.recorder.last().terminate();
    await connecting;
    for (let home = 1; home <= 5; home++) await server.canal.publish(channel, { home, away: 0 });
    const ctx = await once(a.sub, 'subscribed', 5000);
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    await until(() => afterLastSubscribed(a.events).length >= 1, 'A got the latest value');
    await sleep(200);
    assert.deepEqual(afterLastSubscribed(a.events).map((e) => e.ctx.data), [{ home: 5, away: 0 }]);
  });
});
