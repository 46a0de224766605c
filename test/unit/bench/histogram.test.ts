/**
 * The latency histogram (bench/lib/histogram.ts) behind every p50 and p99 the benchmarks print:
 * exact below 32, within its bucket's half-width (1/64 of the value) above, nearest-rank
 * quantiles, and merging and resetting that lose no sample.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram } from '../../../bench/lib/histogram.js';
import { seededRandom } from '../../helpers/random.js';

/** The nearest-rank quantile of `values`, as the histogram defines it. */
function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('Histogram', () => {
  it('answers NaN for every quantile when nothing was recorded', () => {
    const h = new Histogram();
    assert.equal(h.total, 0);
    assert.ok(Number.isNaN(h.quantile(0.5)));
    assert.ok(Number.isNaN(h.quantile(0.99)));
  });

  it('gives values below 32 exactly, one bucket each', () => {
    const h = new Histogram();
    for (let v = 0; v < 32; v++) h.record(v);
    for (let v = 0; v < 32; v++) assert.equal(h.quantile((v + 1) / 32), v);
  });

  it('takes nearest ranks: p50 of 1..100 is 50, p99 is 99, p100 is 100 (within 1/64)', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    assert.equal(h.total, 100);
    for (const [q, exact] of [[0.5, 50], [0.99, 99], [1, 100]] as const) {
      assert.ok(Math.abs(h.quantile(q) - exact) <= exact / 64, `q ${q}: ${h.quantile(q)} vs ${exact}`);
    }
  });

  it('stays within 1/64 of the exact quantile over four decades of random latencies', () => {
    const random = seededRandom(11);
    const values = Array.from({ length: 20_000 }, () => Math.floor(10 ** (1 + random() * 6)));
    const h = new Histogram();
    for (const v of values) h.record(v);
    for (const q of [0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1]) {
      const exact = exactQuantile(values, q);
      assert.ok(Math.abs(h.quantile(q) - exact) <= exact / 64, `q ${q}: ${h.quantile(q)} vs ${exact}`);
    }
  });

  it('is not moved by a 1% tail below p99, and shows it at p100', () => {
    const h = new Histogram();
    for (let i = 0; i < 99; i++) h.record(1000);
    h.record(1_000_000);
    assert.ok(Math.abs(h.quantile(0.99) - 1000) <= 1000 / 64);
    assert.ok(Math.abs(h.quantile(1) - 1_000_000) <= 1_000_000 / 64);
  });

  it('counts negative values as 0, fractions by their integer part, and values past 2^31 in its last bucket', () => {
    const h = new Histogram();
    h.record(-5);
    h.record(3.9);
    h.record(2 ** 40);
    assert.equal(h.total, 3);
    assert.equal(h.quantile(1 / 3), 0);
    assert.equal(h.quantile(2 / 3), 3);
    const top = h.quantile(1);
    assert.ok(top >= 2 ** 30 && top <= 2 ** 31, `${top}`);
  });

  it('adds another histogram as if its samples had been recorded here', () => {
    const random = seededRandom(5);
    const values = Array.from({ length: 1000 }, () => Math.floor(random() * 100_000));
    const whole = new Histogram();
    const a = new Histogram();
    const b = new Histogram();
    values.forEach((v, i) => {
      whole.record(v);
      (i % 3 === 0 ? a : b).record(v);
    });
    a.add(b);
    assert.equal(a.total, whole.total);
    for (const q of [0.1, 0.5, 0.99, 1]) assert.equal(a.quantile(q), whole.quantile(q));
  });

  it('forgets every sample on reset', () => {
    const h = new Histogram();
    h.record(100);
    h.reset();
    assert.equal(h.total, 0);
    assert.ok(Number.isNaN(h.quantile(0.5)));
    h.record(7);
    assert.equal(h.quantile(1), 7);
  });
});
