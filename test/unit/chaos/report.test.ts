/** The chaos run's report: the faults shown beside a failure, and the verdict line. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FaultRecord } from '../../../scripts/chaos/faults.js';
import { Ledger } from '../../../scripts/chaos/ledger.js';
import { faultsAround, formatReport, runPassed } from '../../../scripts/chaos/report.js';
import type { RunResult } from '../../../scripts/chaos/run.js';
import { SubscriptionTracker } from '../../../scripts/chaos/tracker.js';
import { judge } from '../../../scripts/chaos/verdict.js';

function fault(kind: FaultRecord['kind'], startedAt: number, endedAt: number): FaultRecord {
  return { kind, plannedAt: startedAt, startedAt, endedAt, applied: true, detail: '' };
}

/** A run whose one subscriber skipped offset 2 of 3 during a node kill. */
function failedRun(): RunResult {
  const ledger = new Ledger();
  const t = new SubscriptionTracker(ledger, 'subscriber #7', 'chaos:c1');
  t.subscribed(1000, { epoch: 'E', offset: 0 }, false, false);
  for (const [id, offset] of [[1, 1], [2, 2], [3, 3]] as const) {
    ledger.sent(id, 'chaos:c1', 'api', 20_000 + id);
    ledger.acknowledged(id, 20_100 + id, { epoch: 'E', offset });
  }
  t.publication(21_000, 1, 1);
  t.publication(22_000, 3, 3);
  return {
    verdict: judge(ledger, [t], { recoveryMax: 300 }),
    plan: [],
    faults: [fault('drop', 1000, 1000), fault('kill-node', 19_000, 23_000), fault('raw-flood', 40_000, 41_000)],
    crashes: [], problems: [], unsettled: [], codes: new Map([[1, 3]]), windowMs: [0, 60_000], skippedTicks: 0,
    nodes: [{ name: 'node 1', peakRss: 150 * 2 ** 20, starts: 2 }], redisPeakRss: 50 * 2 ** 20, harnessPeakRss: 100 * 2 ** 20,
  };
}

describe('chaos report', () => {
  it('shows beside a failure the faults running then or ended in the 15 s before', () => {
    const faults = [fault('drop', 1000, 1000), fault('kill-node', 19_000, 23_000), fault('pause-redis', 5000, 6000), fault('raw-flood', 40_000, 41_000)];
    assert.deepEqual(faultsAround(faults, 20_000).map((f) => f.kind), ['kill-node', 'pause-redis']);
  });

  it('prints a failing run with the subscriber, channel, offsets and faults around, and FAIL', () => {
    const r = failedRun();
    assert.equal(runPassed(r), false);
    const text = formatReport(r, 'npm run chaos -- --seed 1');
    assert.match(text, /^silent losses +1$/m);
    assert.match(text, /silent-loss at 20\.1 s \(subscriber #7, chaos:c1\): publication 2 at E:2 skipped when the position moved from E:1 to E:2/);
    assert.match(text, /faults around then: kill-node at 19\.0 s-23\.0 s$/m);
    assert.match(text, /peak RSS +node 1 150 MiB \(2 starts\); redis-server 50 MiB; this run 100 MiB/);
    assert.match(text, /^FAIL: see above\nreplay: npm run chaos -- --seed 1$/m);
  });

  it('fails a run whose node crashed even when no publication was lost', () => {
    const r = { ...failedRun(), verdict: judge(new Ledger(), [], { recoveryMax: 300 }), crashes: [{ node: 0, at: 5000, exit: 'signal SIGABRT', stderr: 'FATAL ERROR' }] };
    assert.equal(r.verdict.passed, true);
    assert.equal(runPassed(r), false);
    assert.match(formatReport(r, ''), /^crashes +node 1 at 5\.0 s \(signal SIGABRT\)$/m);
  });
});
