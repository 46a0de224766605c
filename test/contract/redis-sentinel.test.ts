/**
 * The engine contract suites (the same ones memory.test.ts and redis.test.ts run) on a Redis
 * found through Sentinel: a private master, replica and three sentinels on free ports.
 */
import { after } from 'node:test';
import { createRedisEngine } from '../../src/engine/redis/redis-engine.js';
import { parseAddresses } from '../../src/engine/redis/connections.js';
import { testPrefix } from '../helpers/redis.js';
import { SENTINEL_MASTER, SentinelSet } from '../helpers/redis-topologies.js';
import { runBrokerContract } from './broker.contract.js';
import { runNodesContract } from './nodes.contract.js';
import { runPresenceContract } from './presence.contract.js';
import { runUsersContract } from './users.contract.js';

let started: Promise<SentinelSet> | undefined;
/** Started by the first suite that needs it; a failure fails every suite with its message. */
function sentinels(): Promise<SentinelSet> {
  started ??= SentinelSet.start();
  return started;
}
after(async () => {
  if (started) await (await started.catch(() => undefined))?.stop();
});

async function engine() {
  const set = await sentinels();
  return createRedisEngine({
    topology: { kind: 'sentinel', sentinels: parseAddresses(set.sentinelList.split(',')), master: SENTINEL_MASTER },
    prefix: testPrefix(),
  });
}

runBrokerContract('redis sentinel', async (handler) => {
  const e = await engine();
  await e.broker.start(handler);
  return { broker: e.broker, close: () => e.close() };
});

runPresenceContract('redis sentinel', async () => {
  const e = await engine();
  await e.connections.start();
  return { presence: e.presence, close: () => e.close() };
});

runNodesContract('redis sentinel', async () => {
  const e = await engine();
  await e.connections.start();
  return { nodes: e.nodes, close: () => e.close() };
});

runUsersContract('redis sentinel', async () => {
  const e = await engine();
  await e.connections.start();
  return { users: e.users, close: () => e.close() };
});
