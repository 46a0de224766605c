/**
 * What makes a fan-out delivery count (bench/fanout/message.ts, publications.ts) and what a load
 * process counts (bench/lib/tally.ts): a publication's numbers read in place from what a
 * subscriber received, a delivery refused when it was never sent or already reached everyone,
 * and only deliveries inside a window counted with their latency.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findPublication, MIN_DATA_BYTES, publicationData, type FoundPublication } from '../../../bench/fanout/message.js';
import { Publications } from '../../../bench/fanout/publications.js';
import { Histogram } from '../../../bench/lib/histogram.js';
import { LatencySummary, Tally } from '../../../bench/lib/tally.js';

describe('publication data', () => {
  it('is JSON of the size asked for, carrying its number and send time', () => {
    const text = publicationData(12, 1795823922867123, 100);
    assert.equal(text.length, 100);
    const data = JSON.parse(text) as { seq: number; t: number; pad: string };
    assert.deepEqual([data.seq, data.t], [12, 1795823922867123]);
    assert.match(data.pad, /^x+$/);
    assert.ok(publicationData(0, 1, MIN_DATA_BYTES).length >= MIN_DATA_BYTES);
  });

  it('is found in a protocol push frame holding several, in order, without parsing JSON', () => {
    const push = (seq: number): string => `{"push":{"channel":"bench:fanout","pub":{"data":${publicationData(seq, 1000 + seq, 60)}}}}`;
    const buf = Buffer.from(`${push(7)}\n${push(8)}`);
    const found: FoundPublication = { seq: -1, sentUs: -1 };
    let at = findPublication(buf, 0, buf.length, found);
    assert.deepEqual(found, { seq: 7, sentUs: 1007 });
    at = findPublication(buf, at, buf.length, found);
    assert.deepEqual(found, { seq: 8, sentUs: 1008 });
    assert.equal(findPublication(buf, at, buf.length, found), -1);
  });

  it('is not looked for past the end of the frame, and a cut one fails loudly', () => {
    const buf = Buffer.from(`${publicationData(1, 5, 60)}${publicationData(2, 6, 60)}`);
    const found: FoundPublication = { seq: -1, sentUs: -1 };
    assert.notEqual(findPublication(buf, 0, 60, found), -1);
    assert.equal(findPublication(buf, 60, 60, found), -1);
    assert.throws(() => findPublication(Buffer.from('{"seq":12,"x":1}'), 0, 16, found), /malformed publication data/);
  });
});

describe('Publications', () => {
  it('completes a publication when every subscriber has it, and counts each delivery once', () => {
    const p = new Publications(2);
    let completions = 0;
    p.onComplete = () => completions++;
    const seq = p.send(100);
    p.delivered(seq, 100, 150);
    assert.equal(p.missing, 1);
    p.delivered(seq, 100, 170);
    assert.deepEqual([p.completed, completions, p.missing, p.tally.verified], [1, 1, 0, 2]);
  });

  it('refuses a delivery never sent, with the wrong send time, or past every subscriber', () => {
    const p = new Publications(1);
    assert.throws(() => p.delivered(0, 100, 150), /was not sent/);
    const seq = p.send(100);
    assert.throws(() => p.delivered(seq, 101, 150), /was not sent/);
    p.delivered(seq, 100, 150);
    assert.throws(() => p.delivered(seq, 100, 150), /already reached everyone/);
  });

  it('counts deliveries and their latency only inside a window', () => {
    const p = new Publications(1);
    p.delivered(p.send(0), 0, 500);
    p.tally.startWindow();
    p.delivered(p.send(1000), 1000, 1250);
    p.tally.stopWindow();
    p.delivered(p.send(2000), 2000, 9000);
    assert.deepEqual([p.tally.verified, p.tally.counted, p.tally.latencyUs.total], [3, 1, 1]);
    assert.equal(p.tally.latencyUs.quantile(1), 250);
  });
});

describe('Tally and LatencySummary', () => {
  it('forgets the previous window when a new one opens', () => {
    const t = new Tally();
    t.startWindow();
    t.record(10);
    t.startWindow();
    t.record(20);
    assert.deepEqual([t.verified, t.counted, t.latencyUs.total], [2, 1, 1]);
  });

  it('reports the quiet windows\' latency, or every window\'s when none was quiet', () => {
    const window = (...values: number[]): Histogram => {
      const h = new Histogram();
      for (const v of values) h.record(v);
      return h;
    };
    const summary = new LatencySummary();
    summary.add(window(30, 30), false);
    assert.deepEqual(summary.figures(), { p50Ms: 0.03, p99Ms: 0.03, maxMs: 0.03, samples: 2 });
    summary.add(window(10, 20), true);
    assert.deepEqual(summary.figures(), { p50Ms: 0.01, p99Ms: 0.02, maxMs: 0.02, samples: 2 });
  });
});
