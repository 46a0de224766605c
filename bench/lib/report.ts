/**
 * The one report table and the lines around it. Every benchmark that measures in slices prints,
 * per measurement, one Markdown table with a row per target: the median of its figure over its
 * quiet slices, their range, how many were quiet, the benchmark's own columns, and the ratio to
 * each baseline (the median over rounds of the pair in the same round). Then a line per goal,
 * each a ratio of two targets in the same run with its bound and verdict, and the machine line.
 */
import { countedSlices, DISTURBED_CPU, pairedRatios, quietCount, verdict, type Round, type Slice } from './quiet-slices.js';
import { median, quantile, range } from './stats.js';
import { formatCount, formatFixed, markdownTable } from './table.js';

/** A share of one CPU as a percentage (`97%`). */
export function percent(cpus: number): string {
  return `${formatFixed(cpus * 100, 0)}%`;
}

/** The middle half of `values` (first to third quartile), as `q1 – q3`. */
export function middleHalf(values: readonly number[]): string {
  return `${formatFixed(quantile(values, 0.25), 2)} – ${formatFixed(quantile(values, 0.75), 2)}`;
}

/** The median of `pick` over the slices of `target` that count. */
export function medianOf<S extends Slice>(rounds: readonly Round<S>[], target: string, pick: (s: S) => number): number {
  return median(countedSlices(rounds, target).map(pick));
}

/** The median over rounds of `pick(numerator) / pick(denominator)`, pairs of quiet slices only (see pairedRatios). */
export function pairedRatio<S extends Slice>(rounds: readonly Round<S>[], numerator: string, denominator: string, pick: (s: S) => number): number {
  return median(pairedRatios(rounds, numerator, denominator, pick).values);
}

/** The figure a table is about. */
export interface Metric<S extends Slice> {
  /** Its column header, `(median)` is added. */
  readonly header: string;
  pick(s: S): number;
  format(value: number): string;
}

/** A column of the benchmark's own, computed from the slices of a target that count. */
export interface Column<S extends Slice> {
  readonly header: string;
  cell(target: string, slices: readonly S[]): string;
}

export interface TableSpec<S extends Slice> {
  readonly rounds: readonly Round<S>[];
  readonly targets: readonly string[];
  readonly metric: Metric<S>;
  readonly columns: readonly Column<S>[];
  /** A `vs X` column for each of these that ran, in this order. */
  readonly baselines: readonly string[];
}

/** The table: target, median, min – max, quiet, the benchmark's columns, then `vs X` per baseline. */
export function sliceTable<S extends Slice>(spec: TableSpec<S>): string {
  const { rounds, targets, metric } = spec;
  const baselines = spec.baselines.filter((b) => targets.includes(b));
  const rows = targets.map((t) => {
    const slices = countedSlices(rounds, t);
    const { min, max } = range(slices.map((s) => metric.pick(s)));
    return [
      t,
      metric.format(median(slices.map((s) => metric.pick(s)))),
      `${metric.format(min)} – ${metric.format(max)}`,
      `${quietCount(rounds, t)}/${rounds.length}`,
      ...spec.columns.map((c) => c.cell(t, slices)),
      ...baselines.map((b) => formatFixed(t === b ? 1 : pairedRatio(rounds, t, b, (s) => metric.pick(s)), 2)),
    ];
  });
  const headers = ['target', `${metric.header} (median)`, 'min – max', 'quiet', ...spec.columns.map((c) => c.header), ...baselines.map((b) => `vs ${b}`)];
  return markdownTable(headers, rows, headers.map((_, i) => i > 0));
}

/** A ratio of two targets in the same run that an issue sets a bound on. */
export interface Goal<S extends Slice> {
  /** Where the bound comes from (`issue 11`). */
  readonly source: string;
  readonly subject: string;
  readonly baseline: string;
  /** What the ratio is of (`server CPU per delivery`). */
  readonly what: string;
  pick(s: S): number;
  readonly atMost?: number;
  readonly atLeast?: number;
}

/**
 * The line for `goal`: the median over rounds of the pair, its middle half, the ratio of
 * medians, and the verdict (CANNOT TELL when no round had both slices quiet); undefined when
 * one of the two targets did not run.
 */
export function goalLine<S extends Slice>(rounds: readonly Round<S>[], targets: readonly string[], goal: Goal<S>): string | undefined {
  if (!targets.includes(goal.subject) || !targets.includes(goal.baseline)) return undefined;
  const pairs = pairedRatios(rounds, goal.subject, goal.baseline, goal.pick);
  const ratio = median(pairs.values);
  const ofMedians = medianOf(rounds, goal.subject, goal.pick) / medianOf(rounds, goal.baseline, goal.pick);
  const bound =
    goal.atMost !== undefined
      ? `; ${goal.source}: <= ${formatFixed(goal.atMost, 2)}: ${verdict(ratio <= goal.atMost, pairs)}`
      : goal.atLeast !== undefined
        ? `; ${goal.source}: >= ${formatFixed(goal.atLeast, 2)}: ${verdict(ratio >= goal.atLeast, pairs)}`
        : '';
  return (
    `${goal.subject}/${goal.baseline} ${goal.what} = ${formatFixed(ratio, 2)} (median over rounds of the pair, middle half ${middleHalf(pairs.values)}; ` +
    `ratio of medians ${formatFixed(ofMedians, 2)})${bound}`
  );
}

/** The A/A line: how far two identical servers land, against which every other ratio is read. */
export function controlLine<S extends Slice>(rounds: readonly Round<S>[], control: string, baseline: string, what: string, pick: (s: S) => number): string {
  const pairs = pairedRatios(rounds, control, baseline, pick);
  return (
    `A/A control: ${control}/${baseline} = ${formatFixed(median(pairs.values), 2)} ${what} (two identical servers, middle half ${middleHalf(pairs.values)}): ` +
    'a difference between two targets inside that spread is noise'
  );
}

/** The machine line: the quiet-slice rule, and whether every target got the quiet slices asked for. */
export function quietLine(fewest: number, wanted: number, perPhase = false): string {
  return (
    `machine: only quiet slices count (other work under ${percent(DISTURBED_CPU)} of a CPU; column "quiet"), ratios pair slices of the same round; ` +
    (fewest === 0
      ? `a target had NO quiet slice${perPhase ? ' in a phase' : ''}: its figures mostly measure the neighbours; rerun on a quieter machine`
      : fewest < wanted
        ? `a target had only ${fewest} of the ${wanted} quiet slices asked for${perPhase ? ' in a phase' : ''}: the figures are less certain; rerun on a quieter machine`
        : `every target had at least the ${wanted} asked for${perPhase ? ' in each phase' : ''}`)
  );
}

/** The fewest quiet slices any of `targets` had in `rounds`. */
export function fewestQuiet<S extends Slice>(rounds: readonly Round<S>[], targets: readonly string[]): number {
  return Math.min(...targets.map((t) => quietCount(rounds, t)));
}

/** A progress line's cell: `value` with `*` after a disturbed slice. */
export function mark<S extends Slice>(slice: S | undefined, value: string): string {
  return `${value}${slice?.quiet === false ? '*' : ' '}`;
}

/** `n/d` of one round's slices, `-` when one is missing. */
export function roundRatio<S extends Slice>(round: Round<S>, numerator: string, denominator: string, pick: (s: S) => number): string {
  const n = round.get(numerator);
  const d = round.get(denominator);
  return n && d ? formatFixed(pick(n) / pick(d), 2) : '-';
}

export { formatCount, formatFixed };
