/**
 * The chaos verifier's bookkeeping, fed exact sequences: what one subscription saw (subscribed,
 * publications, disconnect codes) against what was acknowledged, and what the verdict says. This
 * is the code that decides whether a chaos run passes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger, type Position } from '../../../scripts/chaos/ledger.js';
import { SubscriptionTracker } from '../../../scripts/chaos/tracker.js';
import { judge, jumpCovers, type Verdict } from '../../../scripts/chaos/verdict.js';

const CH = 'chaos:a';

/** A small world: a ledger, a clock, API publishes acknowledged at given offsets. */
class World {
  readonly ledger = new Ledger();
  readonly trackers: SubscriptionTracker[] = [];
  now = 0;
  #nextId = 1;

  tick(ms = 1): number {
    return (this.now += ms);
  }

  /** An API publish acknowledged at `epoch:offset`; returns its id. */
  api(epoch: string, offset: number, channel = CH): number {
    const id = this.#nextId++;
    this.ledger.sent(id, channel, 'api', this.tick());
    this.ledger.acknowledged(id, this.tick(), { epoch, offset });
    return id;
  }

  /** API publishes acknowledged at offsets `from..to` of `epoch`; returns their ids by offset. */
  apis(epoch: string, from: number, to: number): Map<number, number> {
    const ids = new Map<number, number>();
    for (let o = from; o <= to; o++) ids.set(o, this.api(epoch, o));
    return ids;
  }

  /** A protocol client publish: acknowledged, with no position. */
  client(channel = CH): number {
    const id = this.#nextId++;
    this.ledger.sent(id, channel, 'client', this.tick());
    this.ledger.acknowledged(id, this.tick());
    return id;
  }

  /** A publish that failed (no acknowledgement). */
  failed(): number {
    const id = this.#nextId++;
    this.ledger.sent(id, CH, 'api', this.tick());
    this.ledger.failed(id, this.tick(), 'code 100');
    return id;
  }

  subscriber(name: string, start: Position, channel = CH): SubscriptionTracker {
    const t = new SubscriptionTracker(this.ledger, name, channel);
    t.subscribed(this.tick(), start, false, false);
    this.trackers.push(t);
    return t;
  }

  /** Delivers the publications at `offsets` (their ids from `ids`) to `t`. */
  deliver(t: SubscriptionTracker, ids: ReadonlyMap<number, number>, ...offsets: number[]): void {
    for (const o of offsets) t.publication(this.tick(), ids.get(o)!, o);
  }

  /** The verdict, with recovery_max_publications `recoveryMax`. */
  judge(recoveryMax = 300): Verdict {
    return judge(this.ledger, this.trackers, { recoveryMax });
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function kinds(v: Verdict): string[] {
  return v.failures.map((f) => f.kind);
}

describe('chaos verdict', () => {
  it('passes when every acknowledged publication is delivered once, in order', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 5);
    w.deliver(t, ids, 1, 2, 3, 4, 5);
    const v = w.judge();
    assert.equal(v.passed, true, JSON.stringify(v.failures));
    assert.deepEqual({ acknowledged: v.acknowledged, deliveries: v.deliveries, honest: v.honestLosses, silent: v.silentLosses }, { acknowledged: 5, deliveries: 5, honest: 0, silent: 0 });
  });

  it('does not owe a subscription the publications made before its start position', () => {
    const w = new World();
    w.apis('e1', 1, 10);
    const t = w.subscriber('late', { epoch: 'e1', offset: 10 });
    const ids = w.apis('e1', 11, 12);
    w.deliver(t, ids, 11, 12);
    const v = w.judge();
    assert.equal(v.passed, true, JSON.stringify(v.failures));
    assert.equal(v.silentLosses, 0);
  });

  it('counts a recovery that hands over every missed publication as a recovery, with no loss', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 6);
    w.deliver(t, ids, 1, 2);
    t.closed(3010);
    t.subscribed(w.tick(), { epoch: 'e1', offset: 6 }, true, true);
    w.deliver(t, ids, 3, 4, 5, 6);
    const v = w.judge();
    assert.equal(v.passed, true, JSON.stringify(v.failures));
    assert.equal(v.recoveries, 1);
    assert.equal(v.honestLosses, 0);
  });

  it('counts a gap the subscription was told about (recovered: false, larger than recovery_max_publications) as honest losses and passes', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 10);
    w.deliver(t, ids, 1, 2, 3);
    t.subscribed(w.tick(), { epoch: 'e1', offset: 8 }, false, true);
    w.deliver(t, ids, 9, 10);
    const v = w.judge(4);
    assert.equal(v.passed, true, JSON.stringify(v.failures));
    assert.equal(v.toldLosses, 1);
    assert.equal(v.honestLosses, 5, 'offsets 4..8');
    assert.equal(v.silentLosses, 0);
  });

  it('fails on recovered: false for a gap in one epoch that the history could fill (at most recovery_max_publications)', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 10);
    w.deliver(t, ids, 1, 2, 3);
    t.subscribed(w.tick(), { epoch: 'e1', offset: 8 }, false, true);
    w.deliver(t, ids, 9, 10);
    const v = w.judge(5);
    assert.equal(v.passed, false);
    assert.equal(v.needlessLosses, 1);
    assert.deepEqual(kinds(v), ['needless-loss']);
    assert.match(v.failures[0]!.detail, /recovered: false from e1:3 to e1:8, a gap of 5 in one epoch that the history held/);
  });

  it('fails on a gap nobody told the subscription about: offsets skipped between two deliveries', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 6);
    w.deliver(t, ids, 1, 2, 5, 6);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.untoldGaps, 1);
    assert.equal(v.silentLosses, 2, 'offsets 3 and 4');
    // A silent loss is dated by the acknowledgement of the first publication lost: before the gap was seen.
    assert.deepEqual(kinds(v), ['silent-loss', 'untold-gap']);
    assert.match(v.failures[0]!.detail, /publication \d+ at e1:3 skipped when the position moved from e1:2 to e1:4/);
    assert.equal(v.failures[0]!.subscriber, 's1');
  });

  it('fails on a recovery that says recovered: true but leaves a publication out', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 5);
    w.deliver(t, ids, 1);
    t.subscribed(w.tick(), { epoch: 'e1', offset: 5 }, true, true);
    w.deliver(t, ids, 2, 4, 5);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.silentLosses, 1);
    assert.equal(v.untoldGaps, 1);
  });

  it('fails on a duplicate: an offset delivered twice', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 3);
    w.deliver(t, ids, 1, 2, 2, 3);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.duplicates, 1);
    assert.equal(v.outOfOrder, 0);
    assert.equal(v.silentLosses, 0);
    assert.deepEqual(kinds(v), ['duplicate']);
  });

  it('fails on a duplicate after a recovery that hands over what was already delivered', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 4);
    w.deliver(t, ids, 1, 2, 3);
    t.subscribed(w.tick(), { epoch: 'e1', offset: 4 }, true, true);
    w.deliver(t, ids, 2, 3, 4);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.duplicates, 2);
  });

  it('fails on reordering: a publication that arrives after a later one', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 3);
    w.deliver(t, ids, 1, 3, 2);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.outOfOrder, 1, 'offset 2 arrived behind offset 3');
    assert.equal(v.untoldGaps, 1, 'offset 3 came right after 1');
    assert.ok(kinds(v).includes('out-of-order'));
  });

  it('fails on a publication delivered after the subscription was told it was lost', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 6);
    w.deliver(t, ids, 1);
    t.subscribed(w.tick(), { epoch: 'e1', offset: 5 }, false, true);
    w.deliver(t, ids, 3, 6);
    const v = w.judge(2);
    assert.equal(v.passed, false);
    assert.equal(v.outOfOrder, 1);
  });

  it('accepts an epoch change the subscription was told about: the rest of the old epoch and the new one up to its start are honest losses', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const old = w.apis('e1', 1, 5);
    w.deliver(t, old, 1, 2);
    t.closed(3010);
    const fresh = w.apis('e2', 1, 4);
    t.subscribed(w.tick(), { epoch: 'e2', offset: 3 }, false, true);
    // A small gap, but across epochs: the history of e1 is gone, so recovered: false is honest.
    w.deliver(t, fresh, 4);
    const v = w.judge();
    assert.equal(v.passed, true, JSON.stringify(v.failures));
    assert.equal(v.epochChanges, 1);
    assert.equal(v.honestLosses, 3 + 3, 'e1:3..5 and e2:1..3');
  });

  it('fails on an epoch change that claims recovered: true', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const old = w.apis('e1', 1, 3);
    w.deliver(t, old, 1);
    const fresh = w.apis('e2', 1, 2);
    t.subscribed(w.tick(), { epoch: 'e2', offset: 1 }, true, true);
    w.deliver(t, fresh, 2);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.silentLosses, 3, 'e1:2, e1:3 and e2:1');
    assert.equal(v.untoldGaps, 1);
  });

  it('fails on a resubscribe that did not even try to recover', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 4);
    w.deliver(t, ids, 1);
    t.subscribed(w.tick(), { epoch: 'e1', offset: 3 }, false, false);
    w.deliver(t, ids, 4);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.silentLosses, 2);
  });

  it('does not take a 3010 disconnect for a loss notice: only recovered: false excuses a gap', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 4);
    w.deliver(t, ids, 1);
    t.closed(3010);
    t.subscribed(w.tick(), { epoch: 'e1', offset: 4 }, true, true);
    w.deliver(t, ids, 4);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.silentLosses, 2);
  });

  it('fails when an acknowledged publication never arrives by the end', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 3);
    w.deliver(t, ids, 1, 2);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.silentLosses, 1);
    assert.match(v.failures[0]!.detail, /at e1:3 never delivered; the subscription ended at e1:2/);
  });

  it('ignores publishes that were not acknowledged, delivered or not', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const failed = w.failed();
    const ids = w.apis('e1', 2, 2);
    t.publication(w.tick(), failed, 1);
    w.deliver(t, ids, 2);
    const v = w.judge();
    assert.equal(v.passed, true, JSON.stringify(v.failures));
    assert.deepEqual({ published: v.published, acknowledged: v.acknowledged, deliveries: v.deliveries }, { published: 2, acknowledged: 1, deliveries: 2 });
  });

  it('places a client publication where it was first delivered, and owes it to the other subscriptions', () => {
    const w = new World();
    const a = w.subscriber('a', { epoch: 'e1', offset: 0 });
    const b = w.subscriber('b', { epoch: 'e1', offset: 0 });
    const id = w.client();
    const next = w.apis('e1', 2, 2);
    a.publication(w.tick(), id, 1);
    w.deliver(a, next, 2);
    w.deliver(b, next, 2);
    const v = w.judge();
    assert.deepEqual(w.ledger.position(id), { epoch: 'e1', offset: 1 });
    assert.equal(v.passed, false);
    assert.equal(v.silentLosses, 1, 'b skipped offset 1');
  });

  it('counts a client publication nobody received as honest for a subscription told of a loss after it was sent, silent otherwise', () => {
    const w = new World();
    const told = w.subscriber('told', { epoch: 'e1', offset: 0 });
    const untold = w.subscriber('untold', { epoch: 'e1', offset: 0 });
    w.client();
    told.subscribed(w.tick(), { epoch: 'e2', offset: 0 }, false, true);
    const v = w.judge();
    assert.equal(v.unplaced, 1);
    assert.equal(v.honestLosses, 1);
    assert.equal(v.silentLosses, 1);
    assert.equal(v.failures.find((f) => f.kind === 'silent-loss')?.subscriber, 'untold');
  });

  it('places a client publication nobody received where the history shows it, and judges it exactly', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const lost = w.client();
    const ids = w.apis('e1', 2, 3);
    w.deliver(t, ids, 2, 3);
    w.ledger.inHistory(lost, { epoch: 'e1', offset: 1 }, w.tick());
    const v = w.judge();
    assert.equal(v.unplaced, 0);
    assert.equal(v.silentLosses, 1, 'offset 1 was skipped without a word');
  });

  it('fails when the history shows a publication at another position than its acknowledgement', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 1);
    w.deliver(t, ids, 1);
    w.ledger.inHistory(ids.get(1)!, { epoch: 'e1', offset: 2 }, w.tick());
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.match(v.failures[0]!.detail, /at e1:1 by the publish answer but at e1:2 by the history read at the end/);
  });

  it('fails when a publication is delivered at another position than the one it was acknowledged at', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 2);
    t.publication(w.tick(), ids.get(2)!, 1);
    t.publication(w.tick(), ids.get(1)!, 2);
    const v = w.judge();
    assert.equal(v.passed, false);
    assert.equal(v.conflicts, 2);
  });

  it('fails when the acknowledgement arrives after a delivery at another position', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    w.ledger.sent(100, CH, 'api', w.tick());
    t.publication(w.tick(), 100, 1);
    w.ledger.acknowledged(100, w.tick(), { epoch: 'e1', offset: 7 });
    const v = w.judge();
    assert.equal(v.conflicts, 1);
    assert.match(v.failures.find((f) => f.kind === 'conflict')!.detail, /at e1:1 by delivery to s1 but at e1:7 by the publish answer/);
  });

  it('keeps channels apart: a subscription is owed only its own channel', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    w.api('e9', 1, 'chaos:other');
    const ids = w.apis('e1', 1, 1);
    w.deliver(t, ids, 1);
    assert.equal(w.judge().passed, true);
  });

  it('lists failures oldest first', () => {
    const w = new World();
    const t = w.subscriber('s1', { epoch: 'e1', offset: 0 });
    const ids = w.apis('e1', 1, 5);
    w.deliver(t, ids, 1, 1, 3);
    const v = w.judge();
    const times = v.failures.map((f) => f.at);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
  });
});

describe('jumpCovers', () => {
  const rank = (e: string): number => ['e1', 'e2', 'e3'].indexOf(e);
  const jump = (from: Position, to: Position) => ({ at: 0, from, to, told: true, why: '' });

  it('covers the offsets after the start and up to the end within one epoch', () => {
    const j = jump({ epoch: 'e1', offset: 3 }, { epoch: 'e1', offset: 6 });
    assert.deepEqual(range(1, 8).filter((o) => jumpCovers(j, { epoch: 'e1', offset: o }, rank)), [4, 5, 6]);
  });

  it('covers the rest of the old epoch, every epoch in between, and the new one up to the end', () => {
    const j = jump({ epoch: 'e1', offset: 3 }, { epoch: 'e3', offset: 2 });
    assert.equal(jumpCovers(j, { epoch: 'e1', offset: 3 }, rank), false);
    assert.equal(jumpCovers(j, { epoch: 'e1', offset: 900 }, rank), true);
    assert.equal(jumpCovers(j, { epoch: 'e2', offset: 1 }, rank), true);
    assert.equal(jumpCovers(j, { epoch: 'e3', offset: 2 }, rank), true);
    assert.equal(jumpCovers(j, { epoch: 'e3', offset: 3 }, rank), false);
  });
});
