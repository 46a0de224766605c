/**
 * The fault schedule: drawn from the seed alone, before anything starts, so a run can be replayed
 * with `--seed` (the system's timing still varies; the plan does not). Pure.
 *
 * The run's fault window is cut into slots of at most `--fault-gap` seconds; each slot gets one
 * fault, at a random point of its first half, and the kinds are dealt in rounds (each round is
 * every kind once, shuffled), so even a short run has every kind at least once.
 */

/** The kinds of fault, in the order the docs list them. */
export const FAULT_KINDS = ['drop', 'kill-node', 'pause-redis', 'restart-redis', 'slow-consumer', 'raw-flood'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One fault of the plan; `at` is ms after the fault window opened. */
export type PlannedFault =
  /** Cut these subscribers' connections (indexes into the subscribers): no close frame. */
  | { readonly at: number; readonly kind: 'drop'; readonly subscribers: readonly number[] }
  /** SIGKILL this node, leave it down `downMs`, start it again on its port. */
  | { readonly at: number; readonly kind: 'kill-node'; readonly node: number; readonly downMs: number }
  /** `DEBUG SLEEP`: Redis answers nothing for `sleepMs`. */
  | { readonly at: number; readonly kind: 'pause-redis'; readonly sleepMs: number }
  /** SIGKILL redis-server (its data is gone: no persistence), start it again after `downMs`. */
  | { readonly at: number; readonly kind: 'restart-redis'; readonly downMs: number }
  /** This one of the slow-consumer candidates stops reading for `stopMs` while a burst is published to it. */
  | { readonly at: number; readonly kind: 'slow-consumer'; readonly candidate: number; readonly stopMs: number }
  /** Plain WebSockets flood /raw/ on this node. */
  | { readonly at: number; readonly kind: 'raw-flood'; readonly node: number };

export interface PlanInput {
  /** Length of the fault window (ms). */
  readonly lengthMs: number;
  readonly kinds: readonly FaultKind[];
  /** Mean time between two planned faults (ms). */
  readonly meanGapMs: number;
  readonly nodes: number;
  readonly subscribers: number;
  readonly slowCandidates: number;
  readonly dropMax: number;
}

/** No fault before this much of the window has passed (ms), so every subscriber has a position first. */
export function warmupMs(lengthMs: number): number {
  return Math.min(3000, Math.round(lengthMs * 0.1));
}

/** No fault starts in this last part of the window (ms). */
export function tailMs(lengthMs: number): number {
  return Math.min(5000, Math.round(lengthMs * 0.15));
}

function pick(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** An integer in [lo, hi], rounded to `step`. */
function between(random: () => number, lo: number, hi: number, step = 100): number {
  return Math.round((lo + random() * (hi - lo)) / step) * step;
}

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = pick(random, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function plan(random: () => number, kind: FaultKind, at: number, input: PlanInput): PlannedFault {
  switch (kind) {
    case 'drop': {
      const count = Math.min(input.subscribers, 1 + pick(random, input.dropMax));
      const subscribers = shuffled(random, Array.from({ length: input.subscribers }, (_, i) => i)).slice(0, count).sort((a, b) => a - b);
      return { at, kind, subscribers };
    }
    case 'kill-node': return { at, kind, node: pick(random, input.nodes), downMs: between(random, 500, 3000) };
    case 'pause-redis': return { at, kind, sleepMs: between(random, 500, 2500) };
    case 'restart-redis': return { at, kind, downMs: between(random, 200, 2000) };
    case 'slow-consumer': return { at, kind, candidate: pick(random, input.slowCandidates), stopMs: between(random, 3000, 8000) };
    case 'raw-flood': return { at, kind, node: pick(random, input.nodes) };
  }
}

/** The faults of a run, in the order they start. */
export function planFaults(random: () => number, input: PlanInput): PlannedFault[] {
  if (input.kinds.length === 0) return [];
  const warmup = warmupMs(input.lengthMs);
  const window = input.lengthMs - warmup - tailMs(input.lengthMs);
  const slot = Math.min(input.meanGapMs, window / input.kinds.length);
  const slots = Math.floor(window / slot);
  const out: PlannedFault[] = [];
  let round: FaultKind[] = [];
  for (let i = 0; i < slots; i++) {
    if (round.length === 0) round = shuffled(random, input.kinds);
    const at = Math.round(warmup + i * slot + random() * slot * 0.5);
    out.push(plan(random, round.shift()!, at, input));
  }
  return out;
}

/** One line for the printed plan: `12.3 s  kill-node  node 2, down 1.4 s`. */
export function describePlanned(f: PlannedFault): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const what = ((): string => {
    switch (f.kind) {
      case 'drop': return `${f.subscribers.length} subscriber${f.subscribers.length === 1 ? '' : 's'} (#${f.subscribers.slice(0, 8).join(', #')}${f.subscribers.length > 8 ? ', ...' : ''})`;
      case 'kill-node': return `node ${f.node + 1}, down ${s(f.downMs)}`;
      case 'pause-redis': return `DEBUG SLEEP ${s(f.sleepMs)}`;
      case 'restart-redis': return `down ${s(f.downMs)}, data lost`;
      case 'slow-consumer': return `candidate ${f.candidate + 1} stops reading for ${s(f.stopMs)}`;
      case 'raw-flood': return `on node ${f.node + 1}`;
    }
  })();
  return `${s(f.at).padStart(8)}  ${f.kind.padEnd(14)}${what}`;
}
