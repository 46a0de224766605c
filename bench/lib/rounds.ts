/**
 * Interleaved rounds: in a round each target in turn carries the whole load for one slice of
 * each measurement (phase), the order rotating from round to round so that no target always
 * follows the same one (an order effect, such as the ceiling's far higher rate just before,
 * then falls on every target alike). Interleaving at this grain, rather than whole runs per
 * server, puts the targets under the same conditions on a machine whose speed drifts within
 * seconds. Rounds are added, up to a bound, while a target has fewer quiet slices than asked.
 */
import type { Round, Slice } from './quiet-slices.js';

/** A slice of one measurement of a benchmark that has several (the fan-out's fixed load and saturation). */
export interface PhaseSlice extends Slice {
  readonly phase: string;
}

/** Each phase's rounds, in order. */
export type PhaseRounds<S extends PhaseSlice> = ReadonlyMap<string, readonly Round<S>[]>;

export interface RoundsPlan<S extends PhaseSlice> {
  readonly targets: readonly string[];
  readonly phases: readonly string[];
  /** Quiet slices wanted per target and phase. */
  readonly wanted: number;
  /** Rounds run at most, quiet or not. */
  readonly maxRounds: number;
  /** Loads `target` for round `round`: one slice per phase. */
  measure(target: string, round: number): Promise<readonly S[]>;
  /** Called when a round is complete (to print it): each phase's slices of that round. */
  onRound?(round: ReadonlyMap<string, Round<S>>, index: number): void;
}

/** The targets of round `round` (1-based) in the order they are loaded. */
export function rotation<T>(targets: readonly T[], round: number): T[] {
  const shift = (round - 1) % targets.length;
  return [...targets.slice(shift), ...targets.slice(0, shift)];
}

/** Runs rounds until every target has `wanted` quiet slices in every phase, or `maxRounds` were run. */
export async function runRounds<S extends PhaseSlice>(plan: RoundsPlan<S>): Promise<PhaseRounds<S>> {
  const rounds = new Map<string, Round<S>[]>(plan.phases.map((p) => [p, []]));
  const quiet = new Map(plan.targets.map((t) => [t, new Map(plan.phases.map((p) => [p, 0]))]));
  const enough = (): boolean => [...quiet.values()].every((byPhase) => [...byPhase.values()].every((n) => n >= plan.wanted));
  for (let round = 1; round <= plan.maxRounds && !enough(); round++) {
    const current = new Map<string, Map<string, S>>(plan.phases.map((p) => [p, new Map()]));
    for (const target of rotation(plan.targets, round)) {
      for (const slice of await plan.measure(target, round)) {
        current.get(slice.phase)?.set(target, slice);
        const byPhase = quiet.get(target)!;
        if (slice.quiet) byPhase.set(slice.phase, (byPhase.get(slice.phase) ?? 0) + 1);
      }
    }
    for (const [phase, slices] of current) rounds.get(phase)!.push(slices);
    plan.onRound?.(current, round);
  }
  return rounds;
}
