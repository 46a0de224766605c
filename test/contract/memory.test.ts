import { runBrokerContract } from './broker.contract.js';
import { runNodesContract } from './nodes.contract.js';
import { runPresenceContract } from './presence.contract.js';
import { runUsersContract } from './users.contract.js';
import { createMemoryEngine } from '../../src/engine/memory/memory-engine.js';

runBrokerContract('memory', async (handler) => {
  const engine = createMemoryEngine();
  await engine.broker.start(handler);
  return { broker: engine.broker, close: () => engine.close() };
});

runPresenceContract('memory', async () => {
  const engine = createMemoryEngine();
  return { presence: engine.presence, close: () => engine.close() };
});

runNodesContract('memory', async () => {
  const engine = createMemoryEngine();
  return { nodes: engine.nodes, close: () => engine.close() };
});

runUsersContract('memory', async () => {
  const engine = createMemoryEngine();
  return { users: engine.users, close: () => engine.close() };
});
