import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryEngine } from '../../../src/engine/memory/memory-engine.js';
import type { BrokerEventHandler } from '../../../src/engine/types.js';
import type { JsonText } from '../../../src/protocol/types.js';

const ignore: BrokerEventHandler = { onPublication() {}, onJoin() {}, onLeave() {}, onInsufficientState() {}, onControl() {} };

function allZero(sizes: Record<string, number>): void {
  for (const [name, size] of Object.entries(sizes)) assert.equal(size, 0, `${name} still holds ${size} entries`);
}

describe('memory engine bounds', () => {
  it('leaves nothing behind after 100,000 short-lived channels once their history and presence expire', async () => {
    let now = 1_000_000;
    const engine = createMemoryEngine({ now: () => now, sweepIntervalMs: 3_600_000 });
    await engine.broker.start(ignore);
    const history = { size: 10, ttlMs: 1000 };
    for (let i = 0; i < 100_000; i++) {
      const channel = `chat:room-${i}`;
      await engine.broker.subscribe(channel);
      await engine.broker.publish(channel, { data: '"hi"' as JsonText }, { history, idempotencyKey: `k${i}`, idempotencyTtlMs: 1000 });
      await engine.presence.add(channel, { user: 'u', client: `c${i}` }, 1000);
      if (i % 2 === 0) await engine.presence.remove(channel, `c${i}`); // half leave, half just vanish
      await engine.broker.unsubscribe(channel);
      now += 0.01;
    }
    const before = engine.internalSizes();
    assert.equal(before['broker.streams'], 100_000);
    now += 1500;
    engine.sweep();
    allZero(engine.internalSizes());
    await engine.close();
  });

  it('keeps one presence entry per connection however often it is refreshed, and forgets it once it lapses', async () => {
    let now = 1_000_000;
    const engine = createMemoryEngine({ now: () => now, sweepIntervalMs: 3_600_000 });
    for (let i = 0; i < 1000; i++) {
      await engine.presence.add('chat:a', { user: 'u', client: 'c1', conn_info: `{"n":${i}}` as JsonText }, 1000);
      now += 100;
      engine.sweep();
    }
    assert.equal(engine.internalSizes()['presence.expiry'], 1, 'refreshes queue no second entry');
    assert.deepEqual(Object.keys(await engine.presence.presence('chat:a')), ['c1']);
    assert.equal((await engine.presence.presence('chat:a')).c1!.conn_info, '{"n":999}', 'the latest info is kept');
    // Leaving and coming back makes a new entry; the old one's queue slot goes at its time.
    await engine.presence.remove('chat:a', 'c1');
    await engine.presence.add('chat:a', { user: 'u', client: 'c1' }, 5000);
    now += 1500;
    engine.sweep();
    assert.deepEqual(Object.keys(await engine.presence.presence('chat:a')), ['c1'], 'the old slot did not remove the new entry');
    now += 5000;
    engine.sweep();
    allZero(engine.internalSizes());
    await engine.close();
  });

  it('keeps a stream that is still being published to, and its epoch', async () => {
    let now = 0;
    const engine = createMemoryEngine({ now: () => now, sweepIntervalMs: 3_600_000 });
    await engine.broker.start(ignore);
    const history = { size: 10, ttlMs: 1000 };
    const first = await engine.broker.publish('chat:live', { data: '1' as JsonText }, { history });
    for (let i = 0; i < 5; i++) {
      now += 800;
      engine.sweep();
      await engine.broker.publish('chat:live', { data: '1' as JsonText }, { history });
    }
    const page = await engine.broker.history('chat:live', { limit: -1, history });
    assert.equal(page.position.epoch, first.epoch);
    assert.equal(page.position.offset, 6);
    assert.deepEqual(page.publications.map((p) => p.offset), [5, 6], 'older publications expired one by one');
    await engine.close();
  });
});
