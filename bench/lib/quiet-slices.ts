/**
 * Which measurements count. On a shared machine, a slice during which other work (other
 * processes, hypervisor steal) took CPU measured the neighbours, not the server: it is
 * *disturbed* and left out of every median. Targets are compared within a round (their slices
 * a second or two apart), which cancels the machine's drift; a round counts for a ratio only
 * when both slices were quiet. When no slice (or no pair) was quiet, every one is used and the
 * report must say so: {@link Paired.quiet} carries that.
 */
import type { CpuShares } from './cpu.js';

/**
 * Other work above this share of a CPU makes a slice disturbed: on a two-core machine that
 * time was taken from the server or the generator. Our own loopback traffic handled by kernel
 * threads stays well below it (under 10% at the ceiling's rate).
 */
export const DISTURBED_CPU = 0.25;

/** The shortest slice worth sampling: /proc/stat counts the machine in 10 ms ticks, so 500 ms is ~2%. */
export const MIN_SLICE_MS = 500;

/** Whether other work stayed at or under {@link DISTURBED_CPU} during a slice with these CPU shares. */
export function isQuiet(cpu: CpuShares): boolean {
  return cpu.other + cpu.steal <= DISTURBED_CPU;
}

/** One target's measurement in one round, as every benchmark's slices are. */
export interface Slice {
  readonly target: string;
  readonly quiet: boolean;
}

/** One round of one measurement: each target's slice, by target name. */
export type Round<S extends Slice> = ReadonlyMap<string, S>;

/** The slices of `target` that count: its quiet ones, or all of them when none was quiet. */
export function countedSlices<S extends Slice>(rounds: readonly Round<S>[], target: string): S[] {
  const all = rounds.flatMap((r) => r.get(target) ?? []);
  const quiet = all.filter((s) => s.quiet);
  return quiet.length > 0 ? quiet : all;
}

/** How many of `target`'s slices were quiet. */
export function quietCount<S extends Slice>(rounds: readonly Round<S>[], target: string): number {
  return rounds.filter((r) => r.get(target)?.quiet === true).length;
}

/** Ratios of two targets, one per round; `quiet` says whether they come from quiet pairs only. */
export interface Paired {
  readonly values: number[];
  readonly quiet: boolean;
}

/**
 * `pick(numerator) / pick(denominator)` in each round where both slices were quiet (they ran a
 * second or two apart, under the same conditions); in every round where both ran, with `quiet`
 * false, when no round had both quiet.
 */
export function pairedRatios<S extends Slice>(rounds: readonly Round<S>[], numerator: string, denominator: string, pick: (s: S) => number): Paired {
  const pairs = rounds.flatMap((r) => {
    const n = r.get(numerator);
    const d = r.get(denominator);
    return n && d ? [{ n, d }] : [];
  });
  const quiet = pairs.filter(({ n, d }) => n.quiet && d.quiet);
  const kept = quiet.length > 0 ? quiet : pairs;
  return { values: kept.map(({ n, d }) => pick(n) / pick(d)), quiet: quiet.length > 0 };
}

/** A verdict, or why there is none: figures from disturbed slices only decide nothing. */
export function verdict(met: boolean, ...basis: readonly Paired[]): string {
  if (!basis.every((b) => b.quiet)) return 'CANNOT TELL (no round with both slices quiet)';
  return met ? 'met' : 'NOT MET';
}
