/**
 * `redis_password` and `redis_sentinel_password`: Redis servers (a Cluster's masters, a Sentinel
 * set's master and replica) and sentinels that require a password. With the right ones canal
 * publishes and reads history through them; with a wrong or missing one it refuses to start with
 * an error that says authentication failed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Canal } from '../../src/canal.js';
import { redisCommand, testPrefix } from '../helpers/redis.js';
import { RedisCluster, SENTINEL_MASTER, SentinelSet } from '../helpers/redis-topologies.js';

const PASSWORD = 'canal-test-redis-password';
const SENTINEL_PASSWORD = 'canal-test-sentinel-password';

/** Starts canal on the Redis engine with `options`; publishes and reads it back; closes it. */
async function publishAndRead(options: Record<string, unknown>): Promise<void> {
  const canal = new Canal({ host: '127.0.0.1', port: 0, engine: 'redis', redis_prefix: testPrefix(), redis_timeout: 2000, log_level: 'error', ...options });
  try {
    await canal.listen();
    const channel = 'chat:password';
    const { offset } = await canal.publish(channel, { n: 1 }) as { offset: number };
    assert.equal(offset, 1);
    const history = await canal.node.history(channel, canal.node.namespace(channel)!, { limit: -1 });
    assert.deepEqual(history.publications.map((p) => JSON.parse(p.data)), [{ n: 1 }]);
  } finally {
    await canal.close();
  }
}

/** Resolves with the error canal refuses to start with. */
async function startError(options: Record<string, unknown>): Promise<Error> {
  const canal = new Canal({ host: '127.0.0.1', port: 0, engine: 'redis', redis_prefix: testPrefix(), redis_timeout: 500, log_level: 'silent', ...options });
  try {
    await canal.listen();
  } catch (err) {
    return err as Error;
  } finally {
    await canal.close();
  }
  assert.fail('canal started without the right password');
}

describe('a Redis Cluster with a password', () => {
  let cluster: RedisCluster | undefined;
  before(async () => {
    cluster = await RedisCluster.start(3);
    for (const node of cluster.nodes) await redisCommand(node.url, ['CONFIG', 'SET', 'requirepass', PASSWORD]);
  });
  after(() => cluster?.stop());

  it('is used with redis_password', async () => {
    await publishAndRead({ redis_cluster: cluster!.nodes.map((n) => `127.0.0.1:${n.port}`), redis_password: PASSWORD });
  });

  it('refuses to start with a wrong or missing password, saying so', async () => {
    const nodes = cluster!.nodes.map((n) => `127.0.0.1:${n.port}`);
    for (const password of [{ redis_password: 'wrong-password' }, {}]) {
      const err = await startError({ redis_cluster: nodes, ...password });
      assert.match(err.message, /WRONGPASS|NOAUTH/, err.message);
    }
  });
});

describe('a Sentinel set whose servers and sentinels have passwords', () => {
  let set: SentinelSet | undefined;
  before(async () => {
    set = await SentinelSet.start();
    for (const s of set.servers) await redisCommand(s.url, ['CONFIG', 'SET', 'masterauth', PASSWORD]);
    for (const s of set.sentinels) await redisCommand(s.url, ['SENTINEL', 'SET', SENTINEL_MASTER, 'auth-pass', PASSWORD]);
    for (const s of set.servers) await redisCommand(s.url, ['CONFIG', 'SET', 'requirepass', PASSWORD]);
    // Sentinels authenticate to each other with sentinel-pass, then require it of everyone.
    for (const s of set.sentinels) await redisCommand(s.url, ['SENTINEL', 'CONFIG', 'SET', 'sentinel-pass', SENTINEL_PASSWORD]);
    for (const s of set.sentinels) await redisCommand(s.url, ['ACL', 'SETUSER', 'default', 'resetpass', `>${SENTINEL_PASSWORD}`]);
  });
  after(() => set?.stop());

  const options = (): Record<string, unknown> => ({
    redis_sentinels: set!.sentinels.map((s) => `127.0.0.1:${s.port}`), redis_sentinel_master: SENTINEL_MASTER,
  });

  it('is used with redis_password and redis_sentinel_password', async () => {
    await publishAndRead({ ...options(), redis_password: PASSWORD, redis_sentinel_password: SENTINEL_PASSWORD });
  });

  it('refuses to start with a wrong server password or without the sentinels\' password', async () => {
    for (const wrong of [
      { redis_password: 'wrong-password', redis_sentinel_password: SENTINEL_PASSWORD },
      { redis_password: PASSWORD },
    ]) {
      const err = await startError({ ...options(), ...wrong });
      assert.match(err.message, /WRONGPASS|NOAUTH/, err.message);
    }
  });
});
