/**
 * The end of a chaos run on paper: the counts, each node's peak memory, the faults by kind, and
 * when the run fails the first failures with the faults around them. Pure: values in, text and
 * JSON out.
 */
import type { FaultRecord } from './faults.js';
import type { RunResult } from './run.js';
import { FAULT_KINDS, type FaultKind } from './schedule.js';
import type { Failure } from './verdict.js';

/** Failures printed in detail (all are counted). */
const FAILURES_SHOWN = 8;

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const n = (x: number): string => x.toLocaleString('en-US');

/** Whether the run passed: the verdict, no crashed node, no problem of the run itself. */
export function runPassed(r: RunResult): boolean {
  return r.verdict.passed && r.crashes.length === 0 && r.problems.length === 0;
}

/** Faults of `kind` that were applied. */
export function appliedCount(faults: readonly FaultRecord[], kind: FaultKind): number {
  return faults.filter((f) => f.kind === kind && f.applied).length;
}

/** The faults running at `at` or ended within the 15 s before it. */
export function faultsAround(faults: readonly FaultRecord[], at: number): FaultRecord[] {
  return faults.filter((f) => f.startedAt <= at + 1000 && f.endedAt >= at - 15_000);
}

function describeFailure(f: Failure, faults: readonly FaultRecord[]): string[] {
  const who = f.subscriber ? `${f.subscriber}, ${f.channel}` : f.channel;
  const around = faultsAround(faults, f.at);
  return [
    `  ${f.kind} at ${sec(f.at)} (${who}): ${f.detail}`,
    around.length > 0
      ? `    faults around then: ${around.map((x) => `${x.kind} at ${sec(x.startedAt)}-${sec(x.endedAt)}`).join('; ')}`
      : '    no fault in the 15 s before',
  ];
}

/** The report printed at the end of a run. */
export function formatReport(r: RunResult, replay: string): string {
  const v = r.verdict;
  const passed = runPassed(r);
  const codes = [...r.codes.entries()].filter(([c]) => c !== 0).sort((a, b) => a[0] - b[0]).map(([c, k]) => `${c} x${n(k)}`).join(', ');
  const lines = [
    '',
    `publications     ${n(v.published)} sent, ${n(v.acknowledged)} acknowledged (${n(v.unplaced)} of them received by no subscriber)`,
    `deliveries       ${n(v.deliveries)}`,
    `duplicates       ${n(v.duplicates)}`,
    `out of order     ${n(v.outOfOrder)}`,
    `untold gaps      ${n(v.untoldGaps)}`,
    `conflicts        ${n(v.conflicts)} (a publication at two positions)`,
    `recoveries       ${n(v.recoveries)} resubscribes with recovered: true`,
    `told             ${n(v.toldLosses)} resubscribes with recovered: false (${n(v.epochChanges)} into a new epoch; ${n(v.needlessLosses)} for a gap the history held)`,
    `honest losses    ${n(v.honestLosses)} (subscription, publication) pairs missed after being told`,
    `silent losses    ${n(v.silentLosses)}`,
    `close codes      ${codes || 'none'} (how subscribers' connections ended, as their clients reported it; 1 = transport closed, 2 = no ping)`,
    `faults           ${FAULT_KINDS.map((k) => `${k} ${appliedCount(r.faults, k)}`).join(', ')} (applied, of ${r.plan.length} planned)`,
    `crashes          ${r.crashes.length === 0 ? 'none' : r.crashes.map((c) => `node ${c.node + 1} at ${sec(c.at)} (${c.exit})`).join(', ')}`,
    `peak RSS         ${r.nodes.map((x) => `${x.name} ${mib(x.peakRss)} (${x.starts} start${x.starts === 1 ? '' : 's'})`).join(', ')}; redis-server ${mib(r.redisPeakRss)}; this run ${mib(r.harnessPeakRss)}`,
  ];
  for (const u of v.unplacedSample) {
    lines.push(`  received by none: publication ${u.id} to ${u.channel} by ${u.via}, sent at ${sec(u.sentAt)}, acknowledged at ${sec(u.ackAt ?? 0)}`);
  }
  if (r.skippedTicks > 0) lines.push(`publish ticks    ${n(r.skippedTicks)} skipped (the publisher still waited for earlier answers)`);
  if (r.unsettled.length > 0) {
    lines.push(`unsettled        ${r.unsettled.length} subscriptions did not reach their channel's last publication:`);
    for (const u of r.unsettled.slice(0, FAILURES_SHOWN)) lines.push(`  ${u}`);
  }
  if (r.problems.length > 0) {
    lines.push(`problems         ${r.problems.length}:`);
    for (const p of r.problems.slice(0, FAILURES_SHOWN)) lines.push(`  ${p}`);
  }
  if (v.failures.length > 0) {
    lines.push(`failures         ${n(v.failures.length)}; the first ${Math.min(FAILURES_SHOWN, v.failures.length)}:`);
    for (const f of v.failures.slice(0, FAILURES_SHOWN)) lines.push(...describeFailure(f, r.faults));
  }
  lines.push('', `${passed ? 'PASS' : 'FAIL'}: ${passed ? 'every acknowledged publication reached every subscriber once, in order, or the subscriber was told' : 'see above'}`, `replay: ${replay}`);
  return lines.join('\n');
}

/** The summary written by --summary: counts, faults by kind, memory, verdict. */
export function summaryJson(r: RunResult, seed: number, lengthMs: number, replay: string): Record<string, unknown> {
  const { failures, ...counts } = r.verdict;
  return {
    seed, lengthMs, replay, passed: runPassed(r),
    counts,
    failures: failures.slice(0, 50),
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, { planned: r.plan.filter((p) => p.kind === k).length, applied: appliedCount(r.faults, k) }])),
    faultLog: r.faults,
    crashes: r.crashes,
    problems: r.problems,
    unsettled: r.unsettled,
    closeCodes: Object.fromEntries(r.codes),
    peakRss: { nodes: r.nodes, redis: r.redisPeakRss, harness: r.harnessPeakRss },
    windowMs: r.windowMs,
  };
}
