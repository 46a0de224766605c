/**
 * State that outlives history (issue 12 item 4) and what a history read leaves behind (issue 13
 * item 8): a channel idle past history_ttl keeps its offset and epoch for history_meta_ttl, so a
 * client recovering across the quiet time is answered recovered: true with nothing missed; a
 * latest-value channel still hands over its last value within history_ttl. Reading channels that
 * were never published (subscribe, history) creates no stream, only an epoch that lasts three
 * position-check intervals. On the memory engine and on the shared Redis.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Canal } from '../../src/canal.js';
import { createRedisEngine, type RedisEngine } from '../../src/engine/redis/redis-engine.js';
import { connectedClient, type ProtocolClient, type Wire } from '../helpers/protocol-client.js';
import { deleteKeys, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';
import { pollUntil } from '../helpers/redis-topologies.js';
import { Redis } from 'ioredis';

const HISTORY_TTL_MS = 400;
const NAMESPACES = {
  quiet: { history_size: 100, history_ttl: HISTORY_TTL_MS, force_recovery: true, allow_subscribe_for_anonymous: true, allow_history_for_anonymous: true },
  board: { history_size: 1, history_ttl: 60_000, force_recovery: true, recovery_mode: 'cache' as const, allow_subscribe_for_anonymous: true },
};

for (const engineName of ['memory', 'redis'] as const) {
  describe(`history_meta_ttl on the ${engineName} engine`, () => {
    const prefix = testPrefix();
    const engine: RedisEngine | undefined = engineName === 'redis' ? createRedisEngine({ url: SHARED_REDIS_URL, prefix }) : undefined;
    const canal = new Canal({ host: '127.0.0.1', port: 0, namespaces: NAMESPACES, position_check_interval: 1000, ...(engine ? { engine } : {}) });
    let url = '';
    before(async () => {
      url = (await canal.listen()).url;
    });
    after(async () => {
      await canal.close();
      if (engine) {
        await engine.close();
        await deleteKeys(SHARED_REDIS_URL, prefix);
      }
    });

    async function client(): Promise<ProtocolClient> {
      const c = await connectedClient(url);
      after(() => c.close());
      return c;
    }

    it('keeps the epoch of a channel idle past history_ttl: recovery across the quiet time answers recovered: true with nothing missed', async () => {
      const channel = `quiet:${randomUUID()}`;
      const c1 = await client();
      const sub = (await c1.subscribe(channel)) as { epoch: string; offset: number };
      for (let n = 1; n <= 3; n++) await canal.publish(channel, { n });
      await pollUntil(() => c1.lines.filter((l) => (JSON.parse(l) as Wire).push?.pub).length === 3, 'three publications arrived');
      c1.close();
      // Quiet until the publications themselves have expired from history.
      await pollUntil(async () => (await canal.node.history(channel, canal.node.namespace(channel)!, { limit: -1 })).publications.length === 0,
        'the publications expired', HISTORY_TTL_MS + 3000);
      const c2 = await client();
      const reply = await c2.subscribe(channel, { recover: true, offset: 3, epoch: sub.epoch });
      assert.equal(reply.recovered, true, JSON.stringify(reply));
      assert.equal(reply.epoch, sub.epoch, 'same epoch after history_ttl');
      assert.equal(reply.offset, 3);
      assert.equal(reply.publications, undefined, 'nothing missed, nothing sent');
      // And the next publication continues the stream.
      await canal.publish(channel, { n: 4 });
      const push = await c2.nextPush({ kind: 'pub', channel });
      assert.equal(push.push.pub.offset, 4);
    });

    it('still hands a viewer of a quiet latest-value channel the last value within its history_ttl', async () => {
      const channel = `board:${randomUUID()}`;
      await canal.publish(channel, { score: '2-1' });
      const c = await client();
      const reply = await c.subscribe(channel, { recover: true, offset: 0, epoch: 'an-old-epoch' });
      assert.equal(reply.recovered, true, JSON.stringify(reply));
      assert.deepEqual(reply.publications?.map((p: Wire) => p.data), [{ score: '2-1' }], JSON.stringify(reply));
    });

    if (engineName === 'redis') {
      it('leaves no stream behind for never-published channels that are read (history API, subscribe), and their epochs expire within three check intervals', async () => {
        const redis = new Redis(SHARED_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
        redis.on('error', () => {});
        await redis.connect();
        after(() => redis.disconnect());
        const keysNow = async (pattern: string): Promise<number> => {
          let cursor = '0';
          let n = 0;
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}${pattern}`, 'COUNT', 1000);
            cursor = next;
            n += keys.length;
          } while (cursor !== '0');
          return n;
        };
        const c = await client();
        const ns = canal.node.namespace('quiet:x')!;
        for (let i = 0; i < 200; i++) await canal.node.history(`quiet:never-${i}-${randomUUID()}`, ns, { limit: 10 });
        const subscribed = `quiet:never-subscribed-${randomUUID()}`;
        const sub = await c.subscribe(subscribed);
        assert.equal(await keysNow('.stream.{quiet:never-*'), 0, 'a read creates no stream');
        assert.equal(await keysNow('.meta.{quiet:never-*'), 201, 'each read channel has its epoch for now');
        // The epochs of channels nobody subscribes to go within 3 × position_check_interval (3 s);
        // the subscribed one stays (its node checks it every interval, which renews it).
        await pollUntil(async () => (await keysNow('.meta.{quiet:never-*')) === 1, 'only the subscribed channel keeps its epoch', 6000);
        const page = await canal.node.history(subscribed, ns, { limit: 0 });
        assert.equal(page.position.epoch, sub.epoch, 'the subscribed channel kept the epoch its subscriber was given');
      });
    }
  });
}
