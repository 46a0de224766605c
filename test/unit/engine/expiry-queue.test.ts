/**
 * ExpiryQueue: keys with a due time, popped earliest first once due, at most one entry per key
 * (a key scheduled again while queued keeps its first time; its owner re-schedules it after the
 * pop if it was extended). Checked by example and against a plain reference model. DueHeap, the
 * heap under it: items that carry their own due time, queued again by their owner after a pop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DueHeap, ExpiryQueue } from '../../../src/engine/memory/expiry-queue.js';
import { seededRandom } from '../../helpers/random.js';

describe('ExpiryQueue', () => {
  it('is empty when new, and pops nothing', () => {
    const q = new ExpiryQueue<string>();
    assert.equal(q.size, 0);
    assert.deepEqual(q.popDue(Number.MAX_SAFE_INTEGER), []);
  });

  it('pops due keys earliest first, whatever the order they were scheduled in', () => {
    const q = new ExpiryQueue<string>();
    q.schedule('c', 30);
    q.schedule('a', 10);
    q.schedule('e', 50);
    q.schedule('b', 20);
    q.schedule('d', 40);
    assert.deepEqual(q.popDue(100), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(q.size, 0);
  });

  it('pops only keys whose time is <= now, including one due exactly now', () => {
    const q = new ExpiryQueue<string>();
    q.schedule('a', 10);
    q.schedule('b', 20);
    q.schedule('c', 21);
    assert.deepEqual(q.popDue(9), []);
    assert.deepEqual(q.popDue(20), ['a', 'b']);
    assert.equal(q.size, 1);
    assert.deepEqual(q.popDue(20), []);
    assert.deepEqual(q.popDue(21), ['c']);
  });

  it('pops every key that shares the same due time', () => {
    const q = new ExpiryQueue<number>();
    for (const k of [1, 2, 3, 4]) q.schedule(k, 5);
    assert.deepEqual(q.popDue(5).sort(), [1, 2, 3, 4]);
  });

  it('keeps one entry per key: scheduling a queued key again keeps its first time', () => {
    const q = new ExpiryQueue<string>();
    q.schedule('k', 10);
    q.schedule('k', 50);
    q.schedule('k', 5);
    assert.equal(q.size, 1);
    assert.deepEqual(q.popDue(9), []);
    assert.deepEqual(q.popDue(10), ['k']);
    assert.deepEqual(q.popDue(1000), []);
  });

  it('queues a key again after it was popped, so an owner can re-schedule an extended key', () => {
    const q = new ExpiryQueue<string>();
    const expiresAt = new Map([['session', 10]]);
    q.schedule('session', 10);
    expiresAt.set('session', 25); // extended while queued
    q.schedule('session', 25); // ignored: still queued at 10
    const forgotten: string[] = [];
    for (const now of [10, 20, 25]) {
      for (const key of q.popDue(now)) {
        const at = expiresAt.get(key)!;
        if (at > now) q.schedule(key, at);
        else forgotten.push(`${key}@${now}`);
      }
    }
    assert.deepEqual(forgotten, ['session@25']);
    assert.equal(q.size, 0);
  });

  it('accepts any key type, by identity', () => {
    const q = new ExpiryQueue<object>();
    const a = {};
    const b = {};
    q.schedule(a, 2);
    q.schedule(b, 1);
    q.schedule(a, 0);
    assert.equal(q.size, 2);
    const out = q.popDue(2);
    assert.equal(out[0], b);
    assert.equal(out[1], a);
  });

  it('matches a simple reference model over 10,000 random operations (fixed seed)', () => {
    const random = seededRandom(0x5eed_1234);
    const int = (n: number): number => Math.floor(random() * n);
    const q = new ExpiryQueue<number>();
    const reference = new Map<number, number>(); // key -> due time of its queued entry
    let now = 0;
    let pops = 0;
    let popped = 0;
    for (let op = 0; op < 10_000; op++) {
      const roll = random();
      if (roll < 0.65) {
        const key = int(300);
        const at = now + int(200) - 20; // sometimes already due
        q.schedule(key, at);
        if (!reference.has(key)) reference.set(key, at);
      } else {
        now += int(30);
        const probe = roll < 0.7 ? now - int(50) : now; // sometimes look back in time
        const got = q.popDue(probe);
        const due = [...reference].filter(([, at]) => at <= probe).map(([key]) => key);
        assert.deepEqual([...got].sort((x, y) => x - y), due.sort((x, y) => x - y), `op ${op}: popDue(${probe}) returned the wrong keys`);
        const times = got.map((k) => reference.get(k)!);
        for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! <= times[i]!, `op ${op}: popDue(${probe}) out of order: ${times.join(',')}`);
        for (const k of got) reference.delete(k);
        pops++;
        popped += got.length;
      }
      assert.equal(q.size, reference.size, `op ${op}: size`);
    }
    assert.ok(pops > 1000 && popped > 1000, `the run exercised popDue (${pops} calls, ${popped} keys)`);
    const rest = q.popDue(Number.MAX_SAFE_INTEGER);
    assert.deepEqual(rest.sort((x, y) => x - y), [...reference.keys()].sort((x, y) => x - y));
    assert.equal(q.size, 0);
  });
});

describe('DueHeap', () => {
  it('pops items by their own due time, earliest first, and takes an item back with a later due after its pop', () => {
    const heap = new DueHeap<{ name: string; due: number }>();
    const items = [{ name: 'c', due: 30 }, { name: 'a', due: 10 }, { name: 'd', due: 40 }, { name: 'b', due: 20 }];
    for (const item of items) heap.push(item);
    assert.equal(heap.size, 4);
    const first = heap.popDue(20);
    assert.deepEqual(first.map((i) => i.name), ['a', 'b']);
    first[0]!.due = 35; // extended: queued again by its owner
    heap.push(first[0]!);
    assert.deepEqual(heap.popDue(100).map((i) => `${i.name}@${i.due}`), ['c@30', 'a@35', 'd@40']);
    assert.equal(heap.size, 0);
  });

  it('matches a sorted list over 5,000 random pushes and pops (fixed seed)', () => {
    const random = seededRandom(0xd0e_4ea9);
    const heap = new DueHeap<{ id: number; due: number }>();
    let queued: Array<{ id: number; due: number }> = [];
    let now = 0;
    for (let op = 0; op < 5000; op++) {
      if (random() < 0.6) {
        const item = { id: op, due: now + Math.floor(random() * 100) - 10 };
        heap.push(item);
        queued.push(item);
      } else {
        now += Math.floor(random() * 20);
        const got = heap.popDue(now);
        const due = queued.filter((i) => i.due <= now).sort((x, y) => x.due - y.due);
        assert.deepEqual(got.map((i) => i.due), due.map((i) => i.due), `op ${op}: popDue(${now})`);
        assert.deepEqual(new Set(got), new Set(due), `op ${op}: the same items`);
        queued = queued.filter((i) => i.due > now);
      }
      assert.equal(heap.size, queued.length);
    }
  });
});
