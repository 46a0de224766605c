/** What bench/run.ts dispatches to, and how a benchmark reports a failure a person can fix. */

/** One benchmark, run as `npm run bench -- <name> [flags]`. */
export interface Benchmark {
  /** One line for the list of benchmarks. */
  readonly summary: string;
  /** Runs with the flags after the name; resolves with the process exit code. Throws BenchError. */
  run(argv: readonly string[]): Promise<number>;
}

/**
 * The benchmark cannot run or its figures are void (bad flag, missing build, wrong reply);
 * run.ts prints the message alone, without a stack, and exits 1.
 */
export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}
