/**
 * The engine contract suites (the same ones memory.test.ts and redis.test.ts run) on a Redis
 * Cluster of three masters on free ports: channels spread over the shards, sharded pub/sub,
 * control messages, the node registry and per-user connection counts across them.
 */
import { after } from 'node:test';
import { createRedisEngine } from '../../src/engine/redis/redis-engine.js';
import { parseAddresses } from '../../src/engine/redis/connections.js';
import { testPrefix } from '../helpers/redis.js';
import { RedisCluster } from '../helpers/redis-topologies.js';
import { runBrokerContract } from './broker.contract.js';
import { runNodesContract } from './nodes.contract.js';
import { runPresenceContract } from './presence.contract.js';
import { runUsersContract } from './users.contract.js';

let started: Promise<RedisCluster> | undefined;
/** Started by the first suite that needs it; a failure fails every suite with its message. */
function cluster(): Promise<RedisCluster> {
  started ??= RedisCluster.start(3);
  return started;
}
after(async () => {
  if (started) await (await started.catch(() => undefined))?.stop();
});

async function engine() {
  const c = await cluster();
  return createRedisEngine({ topology: { kind: 'cluster', nodes: parseAddresses(c.nodeList.split(',')) }, prefix: testPrefix() });
}

runBrokerContract('redis cluster', async (handler) => {
  const e = await engine();
  await e.broker.start(handler);
  return { broker: e.broker, close: () => e.close() };
});

runPresenceContract('redis cluster', async () => {
  const e = await engine();
  await e.connections.start();
  return { presence: e.presence, close: () => e.close() };
});

runNodesContract('redis cluster', async () => {
  const e = await engine();
  await e.connections.start();
  return { nodes: e.nodes, close: () => e.close() };
});

runUsersContract('redis cluster', async () => {
  const e = await engine();
  await e.connections.start();
  return { users: e.users, close: () => e.close() };
});
