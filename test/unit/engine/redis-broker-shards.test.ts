/**
 * The Redis broker on a cluster, without a cluster: a stand-in for the connections whose
 * subscriber emits ioredis's `subscribersReady` as the test says. What the broker tells its
 * handler then, and when, on a fake clock.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it, mock } from 'node:test';
import type { RedisConnections } from '../../../src/engine/redis/connections.js';
import { RedisKeys } from '../../../src/engine/redis/keys.js';
import { RedisBroker } from '../../../src/engine/redis/redis-broker.js';
import type { BrokerEventHandler } from '../../../src/engine/types.js';
import { silentLogger } from '../../../src/log.js';

/** A cluster's connections as far as the broker's start and subscribe go. */
function clusterConnections(): { conn: RedisConnections; subscriber: EventEmitter } {
  const subscriber = Object.assign(new EventEmitter(), {
    subscribe: async () => 1,
    ssubscribe: async () => 1,
    sunsubscribe: async () => 0,
  });
  const conn = { subscriber, sharded: true, start: async () => {} } as unknown as RedisConnections;
  return { conn, subscriber };
}

async function started(): Promise<{ broker: RedisBroker; subscriber: EventEmitter; checks: number[] }> {
  const { conn, subscriber } = clusterConnections();
  const checks: number[] = [];
  const handler: BrokerEventHandler = {
    onPublication() {}, onJoin() {}, onLeave() {}, onControl() {},
    onInsufficientState: () => void checks.push(Date.now()),
  };
  const broker = new RedisBroker(conn, new RedisKeys('t'), silentLogger());
  await broker.start(handler);
  return { broker, subscriber, checks };
}

/** Runs the fake clock forward 1 ms at a time, so that timers armed by timers run on time. */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) mock.timers.tick(1);
}

describe('RedisBroker on a cluster', () => {
  it('checks its channels 500 ms after ioredis re-subscribed a shard, once for a burst of reports, and once more after the last', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    try {
      const { broker, subscriber, checks } = await started();
      await broker.subscribe('chat:a');
      subscriber.emit('subscribersReady');
      advance(499);
      assert.deepEqual(checks, [], 'not before the SSUBSCRIBEs had time to take effect');
      advance(1);
      assert.deepEqual(checks, [500]);
      // A shard down: ioredis reports after each attempt, here every 100 ms, from 500 to 1400.
      for (let t = 0; t < 10; t++) {
        subscriber.emit('subscribersReady');
        advance(100);
      }
      advance(3000);
      assert.deepEqual(checks, [500, 1000, 1500, 2000], 'at most one per 500 ms, the last 500 ms or more after the last report');
      await broker.close();
    } finally {
      mock.timers.reset();
    }
  });

  it('checks nothing when it has no channel', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    try {
      const { broker, subscriber, checks } = await started();
      subscriber.emit('subscribersReady');
      advance(5000);
      assert.deepEqual(checks, []);
      await broker.close();
    } finally {
      mock.timers.reset();
    }
  });
});
