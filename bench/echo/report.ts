/**
 * The echo benchmark's printed output: one line per round as it completes, then the medians per
 * target over its quiet slices as a Markdown table, the canal/ws ratio against its target, and
 * the ceiling check that makes the other figures trustworthy.
 */
import type { SliceReport, TargetSummary } from './lib/echo-load-types.js';
import { DISTURBED_CPU } from './lib/quiet-slices.js';
import { median, quantile, range } from './lib/stats.js';
import { formatCount, formatFixed, markdownTable } from './lib/table.js';

/** The goal: canal's echo at least this fraction of a raw ws server's. */
export const CANAL_VS_WS_TARGET = 0.95;

/**
 * The ceiling must beat both servers by this factor; below it the generator may be what limits
 * them, which would pull canal/ws toward 1 whatever canal costs.
 */
export const CEILING_MARGIN = 1.5;

function percent(cpus: number): string {
  return `${formatFixed(cpus * 100, 0)}%`;
}

/** One round: each target's slice, by target name. */
export type Round = ReadonlyMap<string, SliceReport>;

/** The progress line for one completed round; disturbed slices are marked `*`. */
export function roundLine(round: Round, index: number, targets: readonly string[]): string {
  const slices = targets.map((t) => round.get(t));
  const rates = targets
    .map((t, i) => `${t} ${formatCount(slices[i]?.perSecond ?? Number.NaN).padStart(7)}${slices[i]?.quiet === false ? '*' : ' '}`)
    .join(' ');
  const vsWs = (target: string): string => {
    const n = round.get(target);
    const d = round.get('ws');
    return n && d ? formatFixed(n.perSecond / d.perSecond, 2) : '-';
  };
  const cpu = slices.map((s) => percent(s?.cpu.server ?? Number.NaN)).join('/');
  const other = Math.max(...slices.map((s) => (s ? s.cpu.other + s.cpu.steal : 0)));
  return (
    `round ${String(index).padStart(2)}  ${rates}  canal/ws ${vsWs('canal')}  ws2/ws ${vsWs('ws2')}` +
    `  server CPU ${cpu}  other work ${percent(other)}`
  );
}

/** The middle half of `values` (first to third quartile), as `q1 – q3`. */
function middleHalf(values: readonly number[]): string {
  return `${formatFixed(quantile(values, 0.25), 2)} – ${formatFixed(quantile(values, 0.75), 2)}`;
}

/**
 * The slices of `target` that count: its quiet ones, or all of them when none was quiet (the
 * report then says so).
 */
function countedSlices(rounds: readonly Round[], target: string): SliceReport[] {
  const all = rounds.flatMap((r) => r.get(target) ?? []);
  const quiet = all.filter((s) => s.quiet);
  return quiet.length > 0 ? quiet : all;
}

/** Ratios of two targets' rates, one per round; `quiet` says whether they come from quiet pairs only. */
interface PairedRatios {
  readonly values: number[];
  readonly quiet: boolean;
}

/**
 * `numerator/denominator` in each round where both slices were quiet (the two ran a second
 * apart, under the same conditions); in every round, with `quiet` false, when none was.
 */
function pairedRatios(rounds: readonly Round[], numerator: string, denominator: string): PairedRatios {
  const pairs = rounds.flatMap((r) => {
    const n = r.get(numerator);
    const d = r.get(denominator);
    return n && d ? [{ n, d }] : [];
  });
  const quiet = pairs.filter(({ n, d }) => n.quiet && d.quiet);
  const kept = quiet.length > 0 ? quiet : pairs;
  return { values: kept.map(({ n, d }) => n.perSecond / d.perSecond), quiet: quiet.length > 0 };
}

/** A verdict, or why there is none: figures from disturbed slices only decide nothing. */
function verdict(met: boolean, ...basis: readonly PairedRatios[]): string {
  if (!basis.every((b) => b.quiet)) return 'CANNOT TELL (no round with both slices quiet)';
  return met ? 'met' : 'NOT MET';
}

/**
 * The summary of a run: `rounds` in order, `wanted` quiet slices per target asked for,
 * per-target summaries from the generator. Only quiet slices count, unless a target has none.
 */
export function echoReport(rounds: readonly Round[], wanted: number, targets: readonly string[], summaries: Readonly<Record<string, TargetSummary>>): string {
  const medianOf = (target: string, pick: (s: SliceReport) => number): number => median(countedSlices(rounds, target).map(pick));
  const ratio = (numerator: string, denominator: string): number => median(pairedRatios(rounds, numerator, denominator).values);
  const quietCount = (target: string): number => rounds.filter((r) => r.get(target)?.quiet).length;

  const rows = targets.map((target) => {
    const { min, max } = range(countedSlices(rounds, target).map((s) => s.perSecond));
    const summary = summaries[target];
    return [
      target,
      formatCount(medianOf(target, (s) => s.perSecond)),
      `${formatCount(min)} – ${formatCount(max)}`,
      `${quietCount(target)}/${rounds.length}`,
      formatFixed(summary?.p50Ms ?? Number.NaN, 2),
      formatFixed(summary?.p99Ms ?? Number.NaN, 2),
      percent(medianOf(target, (s) => s.cpu.server)),
      percent(medianOf(target, (s) => s.cpu.generator)),
      formatCount(medianOf(target, (s) => s.perSecond / s.cpu.server)),
      formatFixed(ratio(target, 'ws'), 2),
    ];
  });
  const table = markdownTable(
    ['target', 'round trips/s (median)', 'min – max', 'quiet', 'p50 ms', 'p99 ms', 'server CPU', 'generator CPU', 'per server CPU-s', 'vs ws'],
    rows,
    [false, true, true, true, true, true, true, true, true, true],
  );

  const canalVsWs = ratio('canal', 'ws');
  const ratioOfMedians = medianOf('canal', (s) => s.perSecond) / medianOf('ws', (s) => s.perSecond);
  const perCpu = (target: string): number => medianOf(target, (s) => s.perSecond / s.cpu.server) / medianOf('ws', (s) => s.perSecond / s.cpu.server);
  const ceilingVsCanal = ratio('ceiling', 'canal');
  const ceilingVsWs = ratio('ceiling', 'ws');
  const ceilingOk = ceilingVsCanal >= CEILING_MARGIN && ceilingVsWs >= CEILING_MARGIN;
  const canalPairs = pairedRatios(rounds, 'canal', 'ws');
  const aaPairs = pairedRatios(rounds, 'ws2', 'ws');
  const ceilingVerdict = verdict(ceilingOk, pairedRatios(rounds, 'ceiling', 'canal'), pairedRatios(rounds, 'ceiling', 'ws'));
  const fewest = Math.min(...targets.map(quietCount));
  const verified = targets.map((t) => `${t} ${formatCount(summaries[t]?.verified ?? 0)}`).join(', ');
  return [
    table,
    '',
    `canal/ws = ${formatFixed(canalVsWs, 2)} (median over rounds of canal/ws in the same round, middle half ${middleHalf(canalPairs.values)}; ` +
      `ratio of medians ${formatFixed(ratioOfMedians, 2)}, per server CPU-second ${formatFixed(perCpu('canal'), 2)}); ` +
      `target >= ${CANAL_VS_WS_TARGET}: ${verdict(canalVsWs >= CANAL_VS_WS_TARGET, canalPairs)}`,
    `A/A control: ws2/ws = ${formatFixed(ratio('ws2', 'ws'), 2)} (two identical ws servers, middle half ${middleHalf(aaPairs.values)}; ` +
      `per server CPU-second ${formatFixed(perCpu('ws2'), 2)}): ` +
      'a canal/ws difference inside that spread is noise',
    `ceiling/canal = ${formatFixed(ceilingVsCanal, 2)}x, ceiling/ws = ${formatFixed(ceilingVsWs, 2)}x; need >= ${CEILING_MARGIN}x: ${ceilingVerdict}` +
      (ceilingVerdict === 'met' ? ', the load generator is not the bottleneck' : '') +
      (ceilingVerdict === 'NOT MET' ? ': the load generator may be what limits canal and ws here; their figures are lower bounds and canal/ws is pulled toward 1' : ''),
    `machine: only quiet slices count (other work under ${percent(DISTURBED_CPU)} of a CPU; column "quiet"), ratios pair slices of the same round; ` +
      (fewest === 0
        ? 'a target had NO quiet slice: its figures mostly measure the neighbours; rerun on a quieter machine'
        : fewest < wanted
          ? `a target had only ${fewest} of the ${wanted} quiet slices asked for: the figures are less certain; rerun on a quieter machine`
          : `every target had at least the ${wanted} asked for`),
    `replies verified (each one "echo: " + the message it answers, in order): ${verified}`,
  ].join('\n');
}
