/**
 * Issue 13 item 7: pub/sub subscriptions must not leak across a Redis outage. A client
 * subscribes to 100 channels on a node whose private redis-server is then stopped; the client
 * goes away while Redis is down (the node cannot unsubscribe in Redis); Redis starts again. The
 * node re-subscribes only what its hub holds at reconnect time: the control channel and the
 * channels that still have local subscribers, not the 100 given up.
 *
 * And a connection that ioredis ends for good (as a Sentinel failover announced while it is
 * reconnecting can) is connected again, its subscriptions restored.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Canal } from '../../src/canal.js';
import { createRedisEngine, type RedisEngine } from '../../src/engine/redis/redis-engine.js';
import { connectedClient } from '../helpers/protocol-client.js';
import { redisCommand, RedisServerProcess, startRedisServer, testPrefix } from '../helpers/redis.js';
import { pollUntil } from '../helpers/redis-topologies.js';

/** A canal node on the Redis engine, on a private redis-server of its own; made before the suite's tests, gone after. */
interface PrivateNode {
  redis: RedisServerProcess | undefined;
  engine: RedisEngine | undefined;
  canal: Canal | undefined;
  url: string;
  setupError: Error | undefined;
}

function privateNode(): PrivateNode {
  const node: PrivateNode = { redis: undefined, engine: undefined, canal: undefined, url: '', setupError: undefined };
  before(async () => {
    try {
      node.redis = await startRedisServer();
      node.engine = createRedisEngine({ url: node.redis.url, prefix: testPrefix(), timeoutMs: 500 });
      node.canal = new Canal({ host: '127.0.0.1', port: 0, engine: node.engine });
      node.url = (await node.canal.listen()).url;
    } catch (err) {
      node.setupError = err as Error;
    }
  });
  after(async () => {
    await node.canal?.close();
    await node.engine?.close();
    await node.redis?.kill();
  });
  return node;
}

describe('re-subscribing after a Redis outage (a private redis-server)', () => {
  const node = privateNode();

  it('re-subscribes only the channels that still have local subscribers, not the 100 a client gave up while Redis was down', async () => {
    if (node.setupError) throw node.setupError;
    const keeper = await connectedClient(node.url);
    after(() => keeper.close());
    const kept = `chat:kept-${randomUUID()}`;
    await keeper.subscribe(kept);
    const leaver = await connectedClient(node.url);
    for (let i = 0; i < 100; i++) await leaver.subscribe(`chat:gone-${i}-${randomUUID()}`);
    const numsub = async (): Promise<number> => ((await redisCommand(node.redis!.url, ['PUBSUB', 'CHANNELS', `${node.engine!.keys.prefix}.*`])) as string[]).length;
    assert.equal(await numsub(), 102, 'control + kept + 100 channels subscribed in Redis');

    await node.redis!.kill();
    leaver.close();
    await leaver.closed;
    await pollUntil(() => node.canal!.node.hub.numChannels === 1, 'the hub let the 100 channels go');
    assert.deepEqual([...node.engine!.broker.subscriptions()], [kept], 'the broker gave them up too, though Redis could not be told');

    await node.redis!.start();
    await pollUntil(async () => (await numsub()) === 2, 'the node re-subscribed control + the kept channel', 10_000);
    const channels = (await redisCommand(node.redis!.url, ['PUBSUB', 'CHANNELS', `${node.engine!.keys.prefix}.*`])) as string[];
    assert.deepEqual(channels.sort(), [node.engine!.keys.control, node.engine!.keys.pubsub(kept)].sort());
    // The restarted Redis is empty: the kept channel's stream has a new epoch, which the node's
    // check after the reconnect finds, and its positioned subscriber is told (3010), not left behind.
    const closed = await Promise.race([keeper.closed, new Promise<undefined>((r) => setTimeout(r, 5000, undefined))]);
    assert.equal(closed?.code, 3010, `the subscriber of the lost stream was told: ${JSON.stringify(closed)}`);
  });
});

describe('a Redis connection that ioredis ends for good (a private redis-server)', () => {
  const node = privateNode();

  it('is connected again by canal: the channel is subscribed in Redis again and publications reach the subscriber', async () => {
    if (node.setupError) throw node.setupError;
    const client = await connectedClient(node.url);
    after(() => client.close());
    const channel = `chat:ended-${randomUUID()}`;
    await client.subscribe(channel);
    await node.canal!.publish(channel, { n: 1 });
    assert.match(JSON.stringify(await client.nextPush({ kind: 'pub', channel })), /"n":1/);

    const subscriber = node.engine!.connections.subscriber;
    const ended = once(subscriber, 'end');
    subscriber.disconnect(); // ended, not to reconnect: what ioredis does to itself in that race
    await ended;
    const ready = once(subscriber, 'ready');
    await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error('the subscriber connection was not connected again within 10 s')), 10_000))]);
    const numsub = async (): Promise<number> => ((await redisCommand(node.redis!.url, ['PUBSUB', 'NUMSUB', node.engine!.keys.pubsub(channel)])) as [string, number])[1];
    await pollUntil(async () => (await numsub()) === 1, 'the node subscribed the channel in Redis again');
    await node.canal!.publish(channel, { n: 2 });
    assert.match(JSON.stringify(await client.nextPush({ kind: 'pub', channel })), /"n":2/);
  });
});
