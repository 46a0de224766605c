/**
 * What a load generator counts for its target, shared by all the target's connections: every
 * checked reply or delivery, and, only inside a measured window, how many and their latency.
 * Over a run, {@link LatencySummary} keeps the latency of the quiet windows apart from all.
 */
import { Histogram } from './histogram.js';

/** Checked events (echo replies, fan-out deliveries), with latency in microseconds. */
export class Tally {
  /** Events checked and found right, warm-up and drains included (a wrong one ends the run). */
  verified = 0;
  /** Events counted inside the current (or last) window. */
  counted = 0;
  /** Latency of the events counted in the window, in microseconds. */
  readonly latencyUs = new Histogram();
  #recording = false;

  /** Counts one checked event that took `latencyUs` from its send to its arrival. */
  record(latencyUs: number): void {
    this.verified++;
    if (!this.#recording) return;
    this.counted++;
    this.latencyUs.record(latencyUs);
  }

  /** Opens a window: the previous window's count and latencies are forgotten. */
  startWindow(): void {
    this.counted = 0;
    this.latencyUs.reset();
    this.#recording = true;
  }

  /** Closes the window; events still arriving are checked but not counted. */
  stopWindow(): void {
    this.#recording = false;
  }
}

/** Latency over a whole run of one measurement, in milliseconds. */
export interface LatencyFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Events the percentiles are over. */
  readonly samples: number;
}

/** Latency over the windows of a run: the quiet ones, and all of them (used when none was quiet). */
export class LatencySummary {
  readonly #quiet = new Histogram();
  readonly #all = new Histogram();
  #maxQuietUs = 0;
  #maxAllUs = 0;

  /** Adds one window's latencies; `quiet` says whether the window counts. */
  add(window: Histogram, quiet: boolean): void {
    this.#all.add(window);
    const max = window.total > 0 ? window.quantile(1) : 0;
    this.#maxAllUs = Math.max(this.#maxAllUs, max);
    if (!quiet) return;
    this.#quiet.add(window);
    this.#maxQuietUs = Math.max(this.#maxQuietUs, max);
  }

  /** Percentiles over the quiet windows, or over all when none was quiet; NaN when nothing was counted. */
  figures(): LatencyFigures {
    const useQuiet = this.#quiet.total > 0;
    const h = useQuiet ? this.#quiet : this.#all;
    return {
      p50Ms: h.quantile(0.5) / 1000,
      p99Ms: h.quantile(0.99) / 1000,
      maxMs: h.total > 0 ? (useQuiet ? this.#maxQuietUs : this.#maxAllUs) / 1000 : Number.NaN,
      samples: h.total,
    };
  }
}
