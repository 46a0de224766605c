/**
 * Gaps repaired on the node (issue 12 item 3): two canal nodes in this process on the shared
 * Redis under one prefix. A test seam drops node A's pub/sub subscription to a channel behind its
 * back (the node still believes it is subscribed), node B publishes, and the subscription is put
 * back. Node A finds the gap — from the next publication's offset jump, or by its periodic
 * position check when nothing more is published — reads the missing publications from history
 * and delivers them in order, exactly once, with no disconnect. When history no longer holds
 * them, its positioned clients are told with 3010, spread over insufficient_state_window.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createRedisEngine, type RedisEngine } from '../../src/engine/redis/redis-engine.js';
import { connectedClient, numberedPublications, type ProtocolClient } from '../helpers/protocol-client.js';
import { deleteKeys, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';
import { pollUntil } from '../helpers/redis-topologies.js';
import { Canal } from '../../src/canal.js';

const WINDOW_MS = 800;
const NAMESPACES = {
  // Positioned and recoverable, history deep enough for every gap here.
  deep: { history_size: 1000, history_ttl: 300_000, force_recovery: true, allow_subscribe_for_anonymous: true },
  // History of 10: a gap of 30 cannot be repaired.
  short: { history_size: 10, history_ttl: 300_000, force_recovery: true, allow_subscribe_for_anonymous: true },
};

describe('gap repair on the node (two nodes on the shared Redis)', () => {
  const prefix = testPrefix();
  const engineA: RedisEngine = createRedisEngine({ url: SHARED_REDIS_URL, prefix });
  const engineB: RedisEngine = createRedisEngine({ url: SHARED_REDIS_URL, prefix });
  const options = { host: '127.0.0.1', port: 0, namespaces: NAMESPACES, position_check_interval: 1000, insufficient_state_window: WINDOW_MS };
  const a = { canal: new Canal({ ...options, engine: engineA }), wsUrl: '' };
  const b = { canal: new Canal({ ...options, engine: engineB }), wsUrl: '' };

  before(async () => {
    a.wsUrl = (await a.canal.listen()).url;
    b.wsUrl = (await b.canal.listen()).url;
  });
  after(async () => {
    await Promise.all([a.canal.close(), b.canal.close()]);
    await engineA.close();
    await engineB.close();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  /** The test seam: node A's Redis subscriber stops receiving `channel` (the node is not told). */
  async function dropLink(channel: string): Promise<() => Promise<void>> {
    const pubsub = engineA.keys.pubsub(channel);
    await engineA.connections.subscriber.unsubscribe(pubsub);
    return async () => {
      await engineA.connections.subscriber.subscribe(pubsub);
    };
  }

  async function subscribers(n: number, channel: string): Promise<ProtocolClient[]> {
    const clients: ProtocolClient[] = [];
    for (let i = 0; i < n; i++) {
      const c = await connectedClient(a.wsUrl);
      after(() => c.close());
      await c.subscribe(channel);
      clients.push(c);
    }
    return clients;
  }

  it('delivers the 50 publications a dropped link missed, from history, in order, once, before the next one, with no disconnect', async () => {
    const channel = `deep:offset-jump-${randomUUID()}`;
    const clients = await subscribers(3, channel);
    await b.canal.publish(channel, { n: 0 });
    await pollUntil(() => clients.every((c) => numberedPublications(c, channel).length === 1), 'publication 0 arrived');
    const restore = await dropLink(channel);
    for (let n = 1; n <= 50; n++) await b.canal.publish(channel, { n });
    await restore();
    await b.canal.publish(channel, { n: 51 });
    await pollUntil(() => clients.every((c) => numberedPublications(c, channel).length === 52), 'every client has 52 publications', 5000);
    for (const c of clients) {
      assert.deepEqual(numberedPublications(c, channel).map((p) => p.n), Array.from({ length: 52 }, (_, i) => i), 'all, in order, once');
      assert.deepEqual(numberedPublications(c, channel).map((p) => p.offset), Array.from({ length: 52 }, (_, i) => i + 1));
      assert.ok(c.isOpen, 'still connected');
    }
    assert.ok(a.canal.node.streams.stats.repaired >= 50, `repaired ${a.canal.node.streams.stats.repaired}`);
  });

  it('finds a loss with no later publication by its periodic position check (position_check_interval 1 s) and delivers it', async () => {
    const channel = `deep:tail-${randomUUID()}`;
    const clients = await subscribers(2, channel);
    const restore = await dropLink(channel);
    for (let n = 1; n <= 5; n++) await b.canal.publish(channel, { n });
    await restore();
    await pollUntil(() => clients.every((c) => numberedPublications(c, channel).length === 5), 'the check delivered the 5 missed publications', 4000);
    for (const c of clients) {
      assert.deepEqual(numberedPublications(c, channel).map((p) => p.n), [1, 2, 3, 4, 5]);
      assert.ok(c.isOpen);
    }
  });

  it('with history trimmed below the gap, disconnects the positioned subscribers with 3010 spread over the window, none sees the jump first', async () => {
    const channel = `short:trimmed-${randomUUID()}`;
    const clients = await subscribers(20, channel);
    const closes: Array<{ code: number; at: number }> = [];
    for (const c of clients) void c.closed.then((x) => closes.push({ code: x.code, at: Date.now() }));
    await b.canal.publish(channel, { n: 0 });
    await pollUntil(() => clients.every((c) => numberedPublications(c, channel).length === 1), 'publication 0 arrived');
    const restore = await dropLink(channel);
    for (let n = 1; n <= 30; n++) await b.canal.publish(channel, { n });
    await restore();
    const started = Date.now();
    await b.canal.publish(channel, { n: 31 });
    await pollUntil(() => closes.length === 20, 'every subscriber was disconnected', WINDOW_MS + 3000);
    assert.deepEqual([...new Set(closes.map((c) => c.code))], [3010]);
    const times = closes.map((c) => c.at).sort((x, y) => x - y);
    const spread = times.at(-1)! - times[0]!;
    assert.ok(spread >= WINDOW_MS / 2, `disconnects spread over ${spread} ms (window ${WINDOW_MS} ms): ${times.map((t) => t - started).join(', ')}`);
    assert.ok(times.at(-1)! - started <= WINDOW_MS + 1000, `the last disconnect came ${times.at(-1)! - started} ms after the gap`);
    for (const c of clients) {
      assert.deepEqual(numberedPublications(c, channel).map((p) => p.n), [0], 'nothing after the gap reached a client before its 3010');
    }
  });
});
