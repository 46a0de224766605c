import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

  async history(_channel: string, _ns: unknown, query: Omit<HistoryQuery, 'history'>): Promise<HistoryPage> {
    this.reads++;
    if (this.gate) await this.gate;
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

  positionedSubscribers(): Array<() => void> {
    return Array.from({ length: this.subscribers }, (_, i) => () => this.disconnected.push(i));
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
});
