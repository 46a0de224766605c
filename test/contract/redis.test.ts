import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { HISTORY_READ_PAGE } from '../../src/engine/redis/redis-broker.js';
import { createRedisEngine } from '../../src/engine/redis/redis-engine.js';
import type { JsonText } from '../../src/protocol/types.js';
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

describe('Redis history reads', () => {
  it('reads a long history and a long gap one page (at most 1,000 publications) per script call', async () => {
    const e = engine();
    const pages: number[] = [];
    const script = e.connections.script.bind(e.connections);
    e.connections.script = async (name, ...args) => {
      const reply = await script(name, ...args);
      if (name === 'canalHistory') pages.push((reply as [number, string, unknown[]])[2].length);
      return reply;
    };
    try {
      await e.connections.start();
      const history = { size: 5000, ttlMs: 60_000 };
      for (let i = 0; i < 2500; i += 100) {
        await Promise.all(Array.from({ length: 100 }, () => e.broker.publish('long', { data: '1' as JsonText }, { history })));
      }
      const all = await e.broker.history('long', { limit: -1, history });
      assert.equal(all.publications.length, 2500);
      const gap = await e.broker.history('long', { limit: -1, since: { offset: 10, epoch: all.position.epoch }, history });
      assert.equal(gap.publications.length, 2490);
      assert.deepEqual(pages, [HISTORY_READ_PAGE, HISTORY_READ_PAGE, 500, HISTORY_READ_PAGE, HISTORY_READ_PAGE, 490]);
    } finally {
      await e.close();
    }
  });
});
