/**
 * Gaps repaired on the node, on a Redis Cluster (issue 12 items 2 and 3): two canal nodes in this
 * process on a private cluster of three masters (free ports). Node A's sharded-pub/sub connection
 * to the shard of a channel is killed and kept from coming back (the shard refuses new clients)
 * while node B publishes 50 on that channel; then the shard takes clients again. ioredis
 * replaces the connection and re-subscribes by itself (telling subscribersReady after each
 * attempt); node A must take that as a possible gap and repair it from history, in order, with
 * no disconnect, or, when the stream has a new epoch, disconnect its positioned subscribers with
 * 3010. The periodic position check is set
 * to 10 minutes so it cannot be what finds the gap, and nothing is published after the outage,
 * so no offset jump shows it either.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Canal } from '../../src/canal.js';
import { parseAddresses } from '../../src/engine/redis/connections.js';
import { createRedisEngine, type RedisEngine } from '../../src/engine/redis/redis-engine.js';
import { connectedClient, numberedPublications, type ProtocolClient } from '../helpers/protocol-client.js';
import { testPrefix } from '../helpers/redis.js';
import { pollUntil, RedisCluster } from '../helpers/redis-topologies.js';

const NAMESPACES = {
  deep: { history_size: 1000, history_ttl: 300_000, force_recovery: true, allow_subscribe_for_anonymous: true },
};

describe('gap repair on a Redis Cluster node whose shard subscriber was replaced', () => {
  const prefix = testPrefix();
  let cluster: RedisCluster | undefined;
  let engines: RedisEngine[] = [];
  let a: Canal | undefined;
  let b: Canal | undefined;
  let aUrl = '';
  let setupError: Error | undefined;

  before(async () => {
    try {
      cluster = await RedisCluster.start(3);
      const topology = { kind: 'cluster' as const, nodes: parseAddresses(cluster.nodeList.split(',')) };
      engines = [createRedisEngine({ topology, prefix, timeoutMs: 1000 }), createRedisEngine({ topology, prefix, timeoutMs: 1000 })];
      const options = { host: '127.0.0.1', port: 0, namespaces: NAMESPACES, position_check_interval: 600_000, insufficient_state_window: 500 };
      a = new Canal({ ...options, engine: engines[0]! });
      b = new Canal({ ...options, engine: engines[1]! });
      aUrl = (await a.listen()).url;
      await b.listen();
    } catch (err) {
      setupError = err as Error;
    }
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await Promise.allSettled(engines.map((e) => e.close()));
    await cluster?.stop();
  });

  /** Three positioned subscribers of `channel` on node A, which have received publication 0 (made on node B). */
  async function subscribers(channel: string): Promise<ProtocolClient[]> {
    if (setupError) throw setupError;
    const clients: ProtocolClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await connectedClient(aUrl);
      after(() => c.close());
      await c.subscribe(channel);
      clients.push(c);
    }
    await b!.publish(channel, { n: 0 });
    await pollUntil(() => clients.every((c) => numberedPublications(c, channel).length === 1), 'publication 0 arrived on node A');
    return clients;
  }

  /**
   * Kills the pub/sub connections on `channel`'s shard and keeps them from coming back while
   * `during` runs (given a connection to the shard): the shard takes no new client meanwhile.
   */
  async function shardSubscriberAway(channel: string, during: (admin: Redis) => Promise<void>): Promise<void> {
    const shard = await cluster!.nodeOf(engines[0]!.keys.pubsub(channel));
    const admin = new Redis({ host: '127.0.0.1', port: shard.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    admin.on('error', () => {});
    await admin.connect();
    let limited = false;
    try {
      // Counted before the kill, less the connections it kills, so that their places stay taken.
      const connected = Number(/connected_clients:(\d+)/.exec(String(await admin.info('clients')))![1]);
      const pubsub = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n').filter((l) => l.trim() !== '').length;
      await admin.config('SET', 'maxclients', String(connected - pubsub));
      limited = true;
      const killed = Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
      assert.ok(killed >= 1, 'node A had a sharded subscriber connection on the shard');
      await during(admin);
      await new Promise((r) => setTimeout(r, 300));
      // (ioredis tells subscribersReady after each failed attempt too, so node A may already
      // have acted on the gap through its command connection: that is fine.)
      assert.equal(String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).trim(), '', 'no subscriber came back during the outage');
      await admin.config('SET', 'maxclients', '10000');
      limited = false;
    } finally {
      if (limited) await admin.config('SET', 'maxclients', '10000').catch(() => {});
      admin.disconnect();
    }
  }

  it('delivers the 50 publications its shard subscriber missed, from history, in order, with no disconnect and nothing published after', async () => {
    const channel = `deep:shard-${randomUUID()}`;
    const clients = await subscribers(channel);
    await shardSubscriberAway(channel, async () => {
      for (let n = 1; n <= 50; n++) await b!.publish(channel, { n });
    });
    await pollUntil(() => clients.every((c) => numberedPublications(c, channel).length === 51), 'every client has the 51 publications', 8000);
    for (const c of clients) {
      assert.deepEqual(numberedPublications(c, channel).map((p) => p.n), Array.from({ length: 51 }, (_, i) => i), 'all, in order, once');
      assert.deepEqual(numberedPublications(c, channel).map((p) => p.offset), Array.from({ length: 51 }, (_, i) => i + 1));
      assert.ok(c.isOpen, 'still connected');
    }
    assert.ok(a!.node.streams.stats.repaired >= 50, `repaired ${a!.node.streams.stats.repaired}`);
  });

  it('disconnects the positioned subscribers with 3010 when the stream lost its keys (a new epoch) while its shard subscriber was away', async () => {
    // A lost stream, not a trimmed one: node A checks at each of ioredis's attempts, so it may
    // read a trimmed history in time; a new epoch cannot be repaired whenever it is read.
    const channel = `deep:shard-epoch-${randomUUID()}`;
    const clients = await subscribers(channel);
    const codes: number[] = [];
    for (const c of clients) void c.closed.then((x) => codes.push(x.code));
    const keys = engines[0]!.keys;
    await shardSubscriberAway(channel, async (admin) => {
      await admin.del(keys.stream(channel), keys.meta(channel));
      for (let n = 1; n <= 5; n++) await b!.publish(channel, { n });
    });
    await pollUntil(() => codes.length === 3, 'every subscriber was disconnected', 8000);
    assert.deepEqual(codes, [3010, 3010, 3010]);
    for (const c of clients) assert.deepEqual(numberedPublications(c, channel).map((p) => p.n), [0], 'nothing of the new epoch reached a client before its 3010');
    assert.ok(a!.node.streams.stats.unrecoverable >= 1);
  });
});
