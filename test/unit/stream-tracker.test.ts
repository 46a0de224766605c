import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { NAMESPACE_DEFAULTS } from '../../src/config/namespaces.js';
import { UnrecoverablePositionError, type HistoryPage, type HistoryQuery } from '../../src/engine/types.js';
import { silentLogger } from '../../src/log.js';
import type { Publication, JsonText, StreamPosition } from '../../src/protocol/types.js';
import { StreamTracker, type StreamTrackerHost } from '../../src/stream-tracker.js';

const NS = { ...NAMESPACE_DEFAULTS, history_size: 100, history_ttl: 60_000 };
const pub = (offset: number): Publication => ({ data: String(offset) as JsonText, offset });

/** A stream in memory (what history holds: offsets `from`..`top`), and what the tracker did. */
class FakeHost implements StreamTrackerHost {
  epoch = 'e1';
  top = 0;
  /** The oldest offset history still holds. */
  from = 1;
  delivered: number[] = [];
  disconnected: number[] = [];
  subscribers = 3;
  reads = 0;
  /** Holds history reads until release() when set. */
  gate: Promise<void> | undefined;
  /** This many reads fail next, as with Redis away. */
  failing = 0;
  /** When each read ran (Date.now(), mocked in the tests that read it). */
  readAt: number[] = [];

  async history(_channel: string, _ns: unknown, query: Omit<HistoryQuery, 'history'>): Promise<HistoryPage> {
    this.reads++;
    this.readAt.push(Date.now());
    if (this.gate) await this.gate;
    if (this.failing > 0) {
      this.failing--;
      throw new Error('Redis is away');
    }
    const position = { offset: this.top, epoch: this.epoch };
    const since = query.since;
    if (since && (since.epoch !== this.epoch || since.offset > this.top)) throw new UnrecoverablePositionError();
    if (query.limit === 0) return { publications: [], position };
    const start = Math.max(this.from, (since?.offset ?? 0) + 1);
    const pubs: Publication[] = [];
    for (let o = start; o <= this.top && (query.limit < 0 || pubs.length < query.limit); o++) pubs.push(pub(o));
    return { publications: pubs, position };
  }

  deliver(_channel: string, p: Publication, position: StreamPosition): void {
    assert.equal(position.epoch, this.epoch);
    this.delivered.push(p.offset!);
  }

  /** When each disconnect ran (Date.now(), mocked in the tests that read it). */
  disconnectedAt: number[] = [];

  positionedSubscribers(): Array<() => void> {
    return Array.from({ length: this.subscribers }, (_, i) => () => {
      this.disconnected.push(i);
      this.disconnectedAt.push(Date.now());
    });
  }

  /** A publication the broker delivers (the stream grows to it). */
  publish(tracker: StreamTracker, offset: number, delivered = true): void {
    this.top = Math.max(this.top, offset);
    if (delivered) tracker.onPublication('ch', pub(offset), { offset, epoch: this.epoch });
  }
}

function tracker(host: FakeHost, windowMs = 0): StreamTracker {
  return new StreamTracker(host, { checkIntervalMs: 60_000, disconnectWindowMs: windowMs, log: silentLogger(), random: () => 0.5 });
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('StreamTracker', () => {
  it('delivers publications in offset order from the stream top it started at, and drops repeats', async () => {
    const host = new FakeHost();
    host.top = 5;
    const t = tracker(host);
    await t.track('ch', NS);
    for (const o of [6, 7, 7, 5, 8]) host.publish(t, o);
    assert.deepEqual(host.delivered, [6, 7, 8]);
    assert.equal(t.stats.duplicates, 2);
  });

  it('fills an offset jump from history before the publication that showed it, and keeps what arrives meanwhile in order', async () => {
    const host = new FakeHost();
    const t = tracker(host);
    await t.track('ch', NS);
    host.publish(t, 1);
    for (let o = 2; o <= 5; o++) host.publish(t, o, false); // lost on the way
    let release!: () => void;
    host.gate = new Promise((r) => (release = r));
    host.publish(t, 6);
    host.publish(t, 7);
    assert.deepEqual(host.delivered, [1], 'nothing past the gap before the repair');
    host.gate = undefined;
    release();
    await tick();
    assert.deepEqual(host.delivered, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(t.stats.repaired, 6, 'read 2..7 from history; 6 and 7 then arrived as repeats');
    assert.deepEqual(host.disconnected, []);
  });

  it('finds a lost tail by a check and delivers it', async () => {
    const host = new FakeHost();
    const t = tracker(host);
    await t.track('ch', NS);
    host.publish(t, 1);
    host.publish(t, 2, false);
    host.publish(t, 3, false);
    t.check('ch');
    await tick();
    assert.deepEqual(host.delivered, [1, 2, 3]);
  });

  it('tells the positioned subscribers (spread over the window) when history no longer has the gap, and holds newer publications until then', async () => {
    const host = new FakeHost();
    host.subscribers = 4;
    const t = tracker(host, 80);
    await t.track('ch', NS);
    host.publish(t, 1);
    for (let o = 2; o <= 20; o++) host.publish(t, o, false);
    host.from = 15; // trimmed
    const started = Date.now();
    host.publish(t, 21);
    await tick(5);
    host.publish(t, 22);
    assert.deepEqual(host.disconnected.length < 4, true, 'not all at once');
    assert.deepEqual(host.delivered, [1], 'held while the window runs');
    await tick(120);
    assert.deepEqual(host.disconnected, [0, 1, 2, 3]);
    assert.deepEqual(host.delivered, [1, 22], 'after the window, delivery goes on from the stream top (21)');
    assert.ok(Date.now() - started >= 80);
    assert.equal(t.stats.unrecoverable, 1);
  });

  it('treats a new epoch as unrecoverable', async () => {
    const host = new FakeHost();
    const t = tracker(host);
    await t.track('ch', NS);
    host.publish(t, 1);
    host.epoch = 'e2';
    host.top = 0;
    host.publish(t, 1);
    await tick();
    assert.equal(t.stats.unrecoverable, 1);
    assert.deepEqual(host.disconnected, [0, 1, 2]);
    host.publish(t, 2);
    assert.deepEqual(host.delivered, [1, 2], 'e1:1, then e2:2 (e2:1 was the jump itself)');
  });

  describe('with a fake clock', () => {
    const WINDOW = 10_000;
    /** A fixed pseudo-random sequence (LCG), so a failure replays. */
    const lcg = (): (() => number) => {
      let x = 12345;
      return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    };
    /** The largest share of `at` (times from `start`) falling in any tenth of the window, sliding by 1 ms. */
    const densest = (at: number[], start: number): number => {
      let most = 0;
      for (let from = 0; from <= WINDOW * 0.9; from += 1) {
        const n = at.filter((t) => t - start >= from && t - start < from + WINDOW / 10).length;
        most = Math.max(most, n);
      }
      return most / at.length;
    };
    const withClock = async (body: () => Promise<void>): Promise<void> => {
      mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1_000_000 });
      try {
        await body();
      } finally {
        mock.timers.reset();
      }
    };
    /** Runs the fake clock forward in 1 ms steps, letting promise callbacks run between steps. */
    const advance = async (ms: number): Promise<void> => {
      for (let i = 0; i < ms; i++) {
        mock.timers.tick(1);
        await Promise.resolve();
      }
    };

    it('spreads 3010 over the whole window, no tenth of it holding more than 15% of the subscribers, when history lost the gap', () => withClock(async () => {
      const host = new FakeHost();
      host.subscribers = 1000;
      const t = new StreamTracker(host, { checkIntervalMs: 60_000, disconnectWindowMs: WINDOW, log: silentLogger(), now: () => Date.now(), random: lcg() });
      await t.track('ch', NS);
      host.publish(t, 1);
      for (let o = 2; o <= 20; o++) host.publish(t, o, false);
      host.from = 15;
      const start = Date.now();
      host.publish(t, 21);
      for (let i = 0; i < 5; i++) await Promise.resolve();
      await advance(WINDOW + 100);
      assert.equal(host.disconnected.length, 1000);
      assert.ok(Math.max(...host.disconnectedAt) - start < WINDOW, `last at ${Math.max(...host.disconnectedAt) - start}, first at ${Math.min(...host.disconnectedAt) - start}`);
      assert.ok(densest(host.disconnectedAt, start) <= 0.15, `densest tenth held ${densest(host.disconnectedAt, start)}`);
    }));

    it('spreads 3010 over the window too when the channel held too many publications waiting for history', () => withClock(async () => {
      const host = new FakeHost();
      host.subscribers = 1000;
      const t = new StreamTracker(host, { checkIntervalMs: 60_000, disconnectWindowMs: WINDOW, log: silentLogger(), now: () => Date.now(), random: lcg() });
      await t.track('ch', NS);
      host.publish(t, 1);
      host.publish(t, 2, false);
      host.gate = new Promise(() => {}); // history never answers: Redis is away
      const start = Date.now();
      for (let o = 3; o <= 10_003; o++) host.publish(t, o);
      assert.equal(t.stats.unrecoverable, 1, 'gave up once the hold passed its cap');
      assert.deepEqual(host.disconnected, [], 'nobody at the moment of giving up');
      // Publications keep coming during the window: what is held stays bounded, and goes out after.
      for (let o = 10_004; o <= 30_000; o++) host.publish(t, o);
      await advance(WINDOW + 100);
      assert.equal(host.disconnected.length, 1000);
      assert.ok(densest(host.disconnectedAt, start) <= 0.15, `densest tenth held ${densest(host.disconnectedAt, start)}`);
      const after = host.delivered.slice(1);
      assert.ok(after.length > 0 && after.length <= 10_000, `delivered ${after.length} after the window: ${after.slice(0, 3).join()}...${after.slice(-2).join()}`);
      assert.deepEqual(after, Array.from({ length: after.length }, (_, i) => 30_000 - after.length + 1 + i), 'the newest, in order');
      host.publish(t, 30_001);
      assert.equal(host.delivered.at(-1), 30_001);
    }));

    /** Lets the tracker's promise chains run at the current fake time. */
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) await Promise.resolve();
    };
    /** Times since `from`, to the 100 ms: advance() lets a chain of promises finish a few ms late. */
    const since = (at: number[], from: number): number[] => at.map((t) => Math.round((t - from) / 100) * 100);

    it("tries a failed check again after 1 s, so a restarted Redis's new epoch is found without waiting for the sweep", () => withClock(async () => {
      const host = new FakeHost();
      const t = new StreamTracker(host, { checkIntervalMs: 60_000, disconnectWindowMs: 0, log: silentLogger(), now: () => Date.now(), random: lcg() });
      await t.track('ch', NS);
      host.publish(t, 1);
      // Redis came back empty: a new epoch, and the first read after the reconnect fails.
      host.epoch = 'e2';
      host.top = 0;
      host.failing = 1;
      const start = Date.now();
      t.check('ch');
      await settle();
      assert.deepEqual(host.disconnected, [], 'the check failed: nothing known yet');
      await advance(999);
      assert.deepEqual(host.disconnected, [], 'not before the second');
      await advance(2);
      await settle();
      assert.deepEqual(host.disconnected, [0, 1, 2], 'the check ran again and told the positioned subscribers');
      assert.equal(t.stats.unrecoverable, 1);
      assert.deepEqual(since(host.readAt.slice(-3), start), [0, 1000, 1000], 'the failed read, then the check and its read of the top');
    }));

    it('waits 1, 2, 4 s between failed checks, up to the check interval, and 1 s again after a success', () => withClock(async () => {
      const host = new FakeHost();
      host.top = 3;
      const t = new StreamTracker(host, { checkIntervalMs: 5_000, disconnectWindowMs: 0, log: silentLogger(), now: () => Date.now(), random: lcg() });
      await t.track('ch', NS);
      const start = Date.now();
      const reads = host.readAt.length;
      host.failing = 4;
      t.check('ch');
      await settle();
      await advance(13_000);
      await settle();
      assert.deepEqual(since(host.readAt.slice(reads), start), [0, 1000, 3000, 7000, 12000], '1, 2, 4, then 5 (the interval)');
      assert.equal(host.failing, 0);
      host.failing = 1;
      const again = Date.now();
      t.check('ch');
      await settle();
      await advance(1001);
      await settle();
      assert.deepEqual(since(host.readAt.slice(reads + 5), again), [0, 1000], 'the count starts over after a success');
      assert.deepEqual(host.disconnected, [], 'nothing lost: nobody told');
    }));
  });
});
