/**
 * Cooperative yielding for long loops on the event loop: a server API call that publishes to
 * 60,000 channels must not hold every other client for the whole call (issue 13: a ping waited
 * 10 s behind one broadcast). The loop asks `due()` between steps and, when its slice of time is
 * used up, awaits `yield()`, which lets one turn of the event loop run.
 */
export class TimeSlice {
  readonly #budgetMs: number;
  #since = performance.now();

  constructor(budgetMs: number) {
    this.#budgetMs = budgetMs;
  }

  /** Whether the loop has run for its budget since it started or last yielded. */
  due(): boolean {
    return performance.now() - this.#since >= this.#budgetMs;
  }

  /** Resolves after one turn of the event loop (timers and I/O run), and starts a new slice. */
  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#since = performance.now();
  }
}
