/**
 * The echo benchmark's printed output: one line per round as it completes, then the report
 * table (bench/lib/report.ts), the goals with their verdicts, the A/A control, and the ceiling
 * check that says which targets the load generator can measure in full.
 */
import { countedSlices, pairedRatios, type Round } from '../lib/quiet-slices.js';
import {
  controlLine, fewestQuiet, formatCount, formatFixed, goalLine, mark, medianOf, percent, quietLine, roundRatio, sliceTable, type Goal,
} from '../lib/report.js';
import { median } from '../lib/stats.js';
import type { EchoDone, EchoSlice } from './types.js';

/**
 * The ceiling must beat a target by this factor; below it the generator may be what limits the
 * target, whose figure is then a lower bound (and its ratios pulled toward the ceiling's).
 */
export const CEILING_MARGIN = 1.5;

const rate = (s: EchoSlice): number => s.perSecond;

/** The bounds issues set on echo ratios; a goal whose targets did not run is left out. */
export const ECHO_GOALS: readonly Goal<EchoSlice>[] = [
  { source: 'the echo target', subject: 'canal', baseline: 'ws', what: 'round trips/s', pick: rate, atLeast: 0.95 },
  { source: 'issue 17', subject: 'canal-bun', baseline: 'bun', what: 'round trips/s', pick: rate, atLeast: 0.8 },
  { source: 'canal on Bun vs on Node', subject: 'canal-bun', baseline: 'canal', what: 'round trips/s', pick: rate },
];

/** The ratios a round line shows: each canal against its peer, and the A/A control. */
function roundPairs(targets: readonly string[]): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [
    ['canal', 'ws'],
    ['canal-bun', 'bun'],
    ['ws2', 'ws'],
  ];
  return pairs.filter(([n, d]) => targets.includes(n) && targets.includes(d));
}

/** The progress line for one completed round; disturbed slices are marked `*`. */
export function roundLine(round: Round<EchoSlice>, index: number, targets: readonly string[]): string {
  const rates = targets.map((t) => `${t} ${mark(round.get(t), formatCount(round.get(t)?.perSecond ?? Number.NaN).padStart(7))}`).join(' ');
  const ratios = roundPairs(targets).map(([n, d]) => `${n}/${d} ${roundRatio(round, n, d, rate)}`).join('  ');
  const cpu = targets.map((t) => percent(round.get(t)?.cpu.server ?? Number.NaN)).join('/');
  const other = Math.max(...targets.map((t) => round.get(t)).map((s) => (s ? s.cpu.other + s.cpu.steal : 0)));
  return `round ${String(index).padStart(2)}  ${rates}  ${ratios}  server CPU ${cpu}  other work ${percent(other)}`;
}

/**
 * The summary of a run: `rounds` in order, `wanted` quiet slices per target asked for, each
 * target's `done` line. Only quiet slices count, unless a target has none.
 */
export function echoReport(rounds: readonly Round<EchoSlice>[], wanted: number, targets: readonly string[], done: Readonly<Record<string, EchoDone>>): string {
  const table = sliceTable<EchoSlice>({
    rounds,
    targets,
    metric: { header: 'round trips/s', pick: rate, format: formatCount },
    columns: [
      { header: 'p50 ms', cell: (t) => formatFixed(done[t]?.latency.p50Ms ?? Number.NaN, 2) },
      { header: 'p99 ms', cell: (t) => formatFixed(done[t]?.latency.p99Ms ?? Number.NaN, 2) },
      { header: 'server CPU', cell: (_t, slices) => percent(median(slices.map((s) => s.cpu.server))) },
      { header: 'generator CPU', cell: (_t, slices) => percent(median(slices.map((s) => s.cpu.generator))) },
      { header: 'per server CPU-s', cell: (_t, slices) => formatCount(median(slices.map((s) => s.perSecond / s.cpu.server))) },
    ],
    baselines: ['ws', 'bun'],
  });
  const lines = [table, ''];
  for (const goal of ECHO_GOALS) {
    const line = goalLine(rounds, targets, goal);
    if (line === undefined) continue;
    const perCpu = (t: string): number => medianOf(rounds, t, (s) => s.perSecond / s.cpu.server);
    lines.push(`${line}; per server CPU-second ${formatFixed(perCpu(goal.subject) / perCpu(goal.baseline), 2)}`);
  }
  if (targets.includes('ws2') && targets.includes('ws')) lines.push(controlLine(rounds, 'ws2', 'ws', 'round trips/s', rate));
  if (targets.includes('ceiling')) lines.push(ceilingLine(rounds, targets));
  lines.push(quietLine(fewestQuiet(rounds, targets), wanted));
  lines.push(`replies verified (each one "echo: " + the message it answers, in order): ${targets.map((t) => `${t} ${formatCount(done[t]?.verified ?? 0)}`).join(', ')}`);
  return lines.join('\n');
}

/** Which targets the ceiling beats by {@link CEILING_MARGIN} (the generator is not their bound) and which it does not. */
function ceilingLine(rounds: readonly Round<EchoSlice>[], targets: readonly string[]): string {
  const others = targets.filter((t) => t !== 'ceiling');
  const ratios = others.map((t) => ({ t, pairs: pairedRatios(rounds, 'ceiling', t, rate) }));
  const shown = ratios.map(({ t, pairs }) => `ceiling/${t} = ${formatFixed(median(pairs.values), 2)}x`).join(', ');
  const unsure = ratios.filter(({ pairs }) => !pairs.quiet).map(({ t }) => t);
  const bound = ratios.filter(({ pairs }) => pairs.quiet && median(pairs.values) < CEILING_MARGIN).map(({ t }) => t);
  const ceilingRate = formatCount(median(countedSlices(rounds, 'ceiling').map(rate)));
  let verdict: string;
  if (unsure.length > 0) verdict = `CANNOT TELL for ${unsure.join(', ')} (no round with both slices quiet)`;
  else if (bound.length === 0) verdict = 'met for every target: the load generator is not their bottleneck';
  else {
    verdict =
      `NOT MET for ${bound.join(', ')}: the load generator (${ceilingRate} round trips/s at most here) may be what limits ${bound.length > 1 ? 'them' : 'it'}; ` +
      'their figures are lower bounds and their ratios to slower targets understated (more --connections or --window may raise them)';
  }
  return `${shown}; need >= ${CEILING_MARGIN}x: ${verdict}`;
}

