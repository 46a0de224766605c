/**
 * When `canal serve --workers N` replaces a worker that exited, and when it stops trying. Pure:
 * times are parameters, so every rule is tested without waiting.
 *
 * A worker that served for a while (listening for at least `stableMs`) and then died — killed,
 * out of memory — is replaced at once. One that died before it listened, or soon after, failed
 * at start; whatever made it fail (Redis unreachable, a broken install) usually makes the next
 * one fail too, so each further failure of that slot waits twice as long as the one before, and
 * after `maxFailures` in a row the primary gives up instead of restarting in a loop.
 */

export interface RestartRules {
  /** A worker listening at least this long before it exited did not fail at start. */
  readonly stableMs: number;
  /** The wait after the first failed start; each further one doubles it. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** Failed starts in a row, for one slot, after which the primary gives up. */
  readonly maxFailures: number;
}

export const RESTART_RULES: RestartRules = { stableMs: 10_000, firstDelayMs: 500, maxDelayMs: 8000, maxFailures: 4 };

/** How a worker ended: when it started listening (undefined: it never did), and when it exited. */
export interface WorkerEnd {
  readonly listenedAt: number | undefined;
  readonly exitedAt: number;
}

/** What to do about a slot whose worker exited. */
export type RestartDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly failures: number }
  | { readonly action: 'give-up'; readonly failures: number };

/** The restart decisions of N worker slots; each slot counts its own failed starts in a row. */
export class RestartPolicy {
  readonly #rules: RestartRules;
  readonly #failures = new Map<number, number>();

  constructor(rules: RestartRules = RESTART_RULES) {
    this.#rules = rules;
  }

  /** Whether `end` was a failed start: it never listened, or listened for less than `stableMs`. */
  failedAtStart(end: WorkerEnd): boolean {
    return end.listenedAt === undefined || end.exitedAt - end.listenedAt < this.#rules.stableMs;
  }

  /** The worker of `slot` exited: restart it (after `delayMs`), or give up on it. */
  onExit(slot: number, end: WorkerEnd): RestartDecision {
    if (!this.failedAtStart(end)) {
      this.#failures.set(slot, 0);
      return { action: 'restart', delayMs: 0, failures: 0 };
    }
    const failures = (this.#failures.get(slot) ?? 0) + 1;
    this.#failures.set(slot, failures);
    if (failures >= this.#rules.maxFailures) return { action: 'give-up', failures };
    return { action: 'restart', delayMs: Math.min(this.#rules.maxDelayMs, this.#rules.firstDelayMs * 2 ** (failures - 1)), failures };
  }
}
