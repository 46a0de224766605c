import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter, REFUSAL_WINDOW_MS, type Verdict } from '../../../src/session/rate-limit.js';

/** Takes `n` tokens at `now` and returns the verdicts. */
function takeMany(limiter: RateLimiter, n: number, now: number): Verdict[] {
  return Array.from({ length: n }, () => limiter.take(now));
}

describe('RateLimiter', () => {
  it('lets a full burst through at once, then refuses', () => {
    const limiter = new RateLimiter(10, 5, 0);
    assert.deepEqual(takeMany(limiter, 6, 0), ['ok', 'ok', 'ok', 'ok', 'ok', 'refused']);
  });

  it('refills at the rate, never above the burst', () => {
    const limiter = new RateLimiter(10, 5, 0);
    takeMany(limiter, 5, 0);
    assert.equal(limiter.take(100), 'ok', 'one token after 100 ms at 10/s');
    assert.equal(limiter.take(100), 'refused');
    assert.deepEqual(takeMany(limiter, 6, 60_000), ['ok', 'ok', 'ok', 'ok', 'ok', 'refused'], 'a long pause refills only the burst');
  });

  it('says flood once more than burst commands are refused within one window', () => {
    const limiter = new RateLimiter(10, 5, 0);
    takeMany(limiter, 5, 0);
    assert.deepEqual(takeMany(limiter, 6, 0), ['refused', 'refused', 'refused', 'refused', 'refused', 'flood']);
  });

  it('says flood for a sustained flood even though refills let a command through between refusals', () => {
    // 10/s with a burst of 5; the client sends one command every 25 ms (40/s): every fourth is
    // accepted, so refusals never run 5 in a row, yet 30 are refused within a second.
    const limiter = new RateLimiter(10, 5, 0);
    takeMany(limiter, 5, 0);
    const verdicts: Verdict[] = [];
    for (let t = 25; t < REFUSAL_WINDOW_MS; t += 25) verdicts.push(limiter.take(t));
    assert.ok(verdicts.includes('ok'), 'refills let some commands through');
    const firstFlood = verdicts.indexOf('flood');
    assert.ok(firstFlood > 0, `a flood is seen within the window: ${verdicts.join(',')}`);
    assert.equal(verdicts.slice(0, firstFlood).filter((v) => v === 'refused').length, 5);
  });

  it('forgives refusals of an earlier window: a client slightly over the rate only gets refusals', () => {
    const limiter = new RateLimiter(10, 5, 0);
    takeMany(limiter, 5, 0);
    // 12/s against 10/s: about 2 refusals a second, never more than 5 in one window.
    const verdicts: Verdict[] = [];
    for (let t = 0; t < 10_000; t += 1000 / 12) verdicts.push(limiter.take(Math.round(t)));
    assert.ok(verdicts.includes('refused'));
    assert.ok(!verdicts.includes('flood'), 'never a flood');
  });
});
