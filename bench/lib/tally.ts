/**
 * What a load generator counts for one target: every verified reply, and, only inside a
 * measured slice, round trips and their latency. Shared by all the target's connections.
 */
import { Histogram } from './histogram.js';

/** Round trips counted in the current slice, with latency in microseconds. */
export class Tally {
  /** Replies checked and found right, warm-up and drain included. */
  verified = 0;
  /** Round trips completed inside the current (or last) slice. */
  roundTrips = 0;
  readonly latencyMicros = new Histogram();
  #recording = false;

  /** Counts one verified reply that took `latencyMs` from its write to its arrival. */
  record(latencyMs: number): void {
    this.verified++;
    if (!this.#recording) return;
    this.roundTrips++;
    this.latencyMicros.record(latencyMs * 1000);
  }

  /** Opens a slice: the previous slice's counts and latencies are forgotten. */
  start(): void {
    this.roundTrips = 0;
    this.latencyMicros.reset();
    this.#recording = true;
  }

  /** Closes the slice; replies still arriving are verified but not counted. */
  stop(): void {
    this.#recording = false;
  }
}
