import { randomUUID } from 'node:crypto';
import { createRedisEngine } from '../../src/engine/redis/redis-engine.js';
import { runBrokerContract } from './broker.contract.js';
import { runNodesContract } from './nodes.contract.js';
import { runPresenceContract } from './presence.contract.js';
import { runUsersContract } from './users.contract.js';

/** Each suite under its own key prefix, on the Redis that npm test makes sure of (127.0.0.1:6379). */
function engine() {
  return createRedisEngine({ url: 'redis://127.0.0.1:6379/0', prefix: `canal-test-${randomUUID()}` });
}

runBrokerContract('redis', async (handler) => {
  const e = engine();
  await e.broker.start(handler);
  return { broker: e.broker, close: () => e.close() };
});

runPresenceContract('redis', async () => {
  const e = engine();
  await e.connections.start();
  return { presence: e.presence, close: () => e.close() };
});

runNodesContract('redis', async () => {
  const e = engine();
  await e.connections.start();
  return { nodes: e.nodes, close: () => e.close() };
});

runUsersContract('redis', async () => {
  const e = engine();
  await e.connections.start();
  return { users: e.users, close: () => e.close() };
});
