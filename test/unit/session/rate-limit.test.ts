import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandRate, FULL_BUCKET, REFUSAL_WINDOW_MS, REFUSED, Refusals, type Verdict } from '../../../src/session/rate-limit.js';
import { seededRandom } from '../../helpers/random.js';

/** A connection's limiter as ClientSession keeps it: a bucket number, and refusals once refused. */
class Limiter {
  readonly #rate: CommandRate;
  #bucket = FULL_BUCKET;
  refusals: Refusals | undefined;

  constructor(ratePerSecond: number, burst: number, nowMs = 0) {
    this.#rate = new CommandRate(ratePerSecond, burst, nowMs);
  }

  take(now: number): Verdict {
    const bucket = this.#rate.take(this.#bucket, now);
    if (bucket !== REFUSED) {
      this.#bucket = bucket;
      return 'ok';
    }
    return (this.refusals ??= new Refusals(now)).count(now, this.#rate.burst);
  }
}

/** Takes `n` tokens at `now` and returns the verdicts. */
function takeMany(limiter: Limiter, n: number, now: number): Verdict[] {
  return Array.from({ length: n }, () => limiter.take(now));
}

/** The token bucket the limiter must behave as, in exact integers: thousandths of a token, whole ms. */
class ReferenceBucket {
  #units: number;
  #last: number;

  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.#units = burst * 1000;
    this.#last = now;
  }

  take(now: number): boolean {
    if (now > this.#last) {
      this.#units = Math.min(this.burst * 1000, this.#units + (now - this.#last) * this.rate);
      this.#last = now;
    }
    if (this.#units < 1000) return false;
    this.#units -= 1000;
    return true;
  }
}

describe('CommandRate and Refusals', () => {
  it('lets a full burst through at once, then refuses', () => {
    const limiter = new Limiter(10, 5);
    assert.deepEqual(takeMany(limiter, 6, 0), ['ok', 'ok', 'ok', 'ok', 'ok', 'refused']);
  });

  it('refills at the rate, never above the burst', () => {
    const limiter = new Limiter(10, 5);
    takeMany(limiter, 5, 0);
    assert.equal(limiter.take(100), 'ok', 'one token after 100 ms at 10/s');
    assert.equal(limiter.take(100), 'refused');
    assert.deepEqual(takeMany(limiter, 6, 60_000), ['ok', 'ok', 'ok', 'ok', 'ok', 'refused'], 'a long pause refills only the burst');
  });

  it('takes times relative to the server start: a full burst at any wall-clock time', () => {
    const start = 1_765_000_000_000;
    const limiter = new Limiter(1_000_000, 1_000_000, start);
    const verdicts = takeMany(limiter, 1_000_001, start + 86_400_000);
    assert.equal(verdicts.lastIndexOf('ok'), 999_999, 'the whole burst of a million, a day after the start');
    assert.equal(verdicts[1_000_000], 'refused');
  });

  it('adds up within a thousandth of a token where a token takes a fraction of a µs, months after the start', () => {
    const start = 1_765_000_000_000;
    const limiter = new Limiter(999_983, 1_000_000, start);
    const ok = takeMany(limiter, 1_001_000, start + 200 * 86_400_000).filter((v) => v === 'ok').length;
    assert.ok(Math.abs(ok - 1_000_000) <= 1000, `${ok} of a burst of a million, 200 days after the start`);
  });

  it('lets the whole burst through when a token takes a time that does not add up exactly', () => {
    for (const [rate, burst] of [[3, 3], [7, 49], [999_983, 1_000_000], [1000, 2000], [300_007, 17]] as const) {
      const limiter = new Limiter(rate, burst, 5);
      const verdicts = takeMany(limiter, burst + 1, 1234);
      assert.equal(verdicts.filter((v) => v === 'ok').length, burst, `rate ${rate}, burst ${burst}`);
      assert.equal(verdicts[burst], 'refused');
    }
  });

  it('behaves as a token bucket counted in exact integers, over random sequences', () => {
    // Rates whose token time is a whole number of ms, so that both sides compute exactly.
    const rates = [1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 125, 200, 250, 500, 1000];
    for (let seed = 1; seed <= 300; seed++) {
      const next = seededRandom(seed);
      const rate = rates[Math.floor(next() * rates.length)]!;
      const burst = 1 + Math.floor(next() * 20);
      const start = Math.floor(next() * 1e12);
      const limiter = new Limiter(rate, burst, start);
      const reference = new ReferenceBucket(rate, burst, start);
      let now = start;
      for (let step = 0; step < 200; step++) {
        // Bursts at one instant, small steps, and now and then a long pause.
        const r = next();
        now += r < 0.4 ? 0 : r < 0.95 ? Math.floor(next() * 3000 / rate) : Math.floor(next() * 100_000);
        const expected = reference.take(now);
        assert.equal(limiter.take(now) === 'ok', expected, `seed ${seed}, step ${step}: rate ${rate}, burst ${burst}, at +${now - start} ms`);
      }
    }
  });

  it('says when a bucket is full again, which its owner may then forget', () => {
    const rate = new CommandRate(10, 5, 1000);
    assert.equal(rate.isFull(FULL_BUCKET, 1000), true);
    const full = rate.take(rate.take(FULL_BUCKET, 1000), 1000);
    assert.equal(rate.isFull(full, 1199), false, 'two tokens take 200 ms to come back at 10/s');
    assert.equal(rate.isFull(full, 1200), true);
  });

  it('says flood once more than burst commands are refused within one window', () => {
    const limiter = new Limiter(10, 5);
    takeMany(limiter, 5, 0);
    assert.deepEqual(takeMany(limiter, 6, 0), ['refused', 'refused', 'refused', 'refused', 'refused', 'flood']);
  });

  it('says flood for a sustained flood even though refills let a command through between refusals', () => {
    // 10/s with a burst of 5; the client sends one command every 25 ms (40/s): every fourth is
    // accepted, so refusals never run 5 in a row, yet 30 are refused within a second.
    const limiter = new Limiter(10, 5);
    takeMany(limiter, 5, 0);
    const verdicts: Verdict[] = [];
    for (let t = 25; t < REFUSAL_WINDOW_MS; t += 25) verdicts.push(limiter.take(t));
    assert.ok(verdicts.includes('ok'), 'refills let some commands through');
    const firstFlood = verdicts.indexOf('flood');
    assert.ok(firstFlood > 0, `a flood is seen within the window: ${verdicts.join(',')}`);
    assert.equal(verdicts.slice(0, firstFlood).filter((v) => v === 'refused').length, 5);
  });

  it('forgives refusals of an earlier window: a client slightly over the rate only gets refusals', () => {
    const limiter = new Limiter(10, 5);
    takeMany(limiter, 5, 0);
    // 12/s against 10/s: about 2 refusals a second, never more than 5 in one window.
    const verdicts: Verdict[] = [];
    for (let t = 0; t < 10_000; t += 1000 / 12) verdicts.push(limiter.take(Math.round(t)));
    assert.ok(verdicts.includes('refused'));
    assert.ok(!verdicts.includes('flood'), 'never a flood');
  });

  it('counts refusals from the first one, and says when their window is over', () => {
    const refusals = new Refusals(400);
    assert.equal(refusals.isOver(400 + REFUSAL_WINDOW_MS - 1), false);
    assert.equal(refusals.isOver(400 + REFUSAL_WINDOW_MS), true);
    for (let i = 0; i < 3; i++) assert.equal(refusals.count(400 + REFUSAL_WINDOW_MS - 1, 3), 'refused');
    assert.equal(refusals.count(400 + REFUSAL_WINDOW_MS - 1, 3), 'flood', 'the fourth within the window');
    assert.equal(refusals.count(400 + REFUSAL_WINDOW_MS, 3), 'refused', 'a new window starts the count again');
    assert.equal(refusals.isOver(400 + 2 * REFUSAL_WINDOW_MS - 1), false, 'the new window runs from its first refusal');
  });
});
