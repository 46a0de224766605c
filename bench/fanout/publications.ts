/**
 * What a fan-out load generator counts for its target, shared by all the target's subscribers:
 * every publication sent and its send time, every delivery (checked by the subscriber to be the
 * next one it expects from that publisher), when a publication has reached every subscriber,
 * and, inside a measured slice, deliveries and their latency. Publications are numbered in the
 * order they are sent; with P publishers, publication `seq` is sent by publisher `seq % P`.
 */
import { Histogram } from './histogram.js';

/** Publications tracked at once; more in flight is an error (the target has stopped delivering). */
export const RING = 1 << 16;

export class FanoutTally {
  readonly subscribers: number;
  /** Deliveries of each publication in flight, by sequence number modulo RING. */
  readonly #counts = new Int32Array(RING);
  /** Send time of each publication in flight, in microseconds since the Unix epoch. */
  readonly #sentUs = new Float64Array(RING);
  /** Publications sent; the next one's sequence number. */
  published = 0;
  /** Publications every subscriber received. */
  completed = 0;
  /** The oldest publication some subscriber has not received yet (publications before it are done). */
  #oldest = 0;
  /** Deliveries checked, warm-up included. */
  verified = 0;
  /** Deliveries counted since {@link startWindow}. */
  windowDeliveries = 0;
  /** Latency of the deliveries counted in the window, in microseconds. */
  readonly latencyUs = new Histogram();
  #recording = false;
  /** Called each time a publication has reached every subscriber. */
  onComplete: (() => void) | undefined;

  constructor(subscribers: number) {
    this.subscribers = subscribers;
  }

  /** Records the next publication as sent at `sentUs`; returns its sequence number. Throws when RING are in flight. */
  send(sentUs: number): number {
    const seq = this.published;
    if (seq - this.#oldest >= RING) throw new Error(`${RING} publications in flight: the target stopped delivering`);
    const slot = seq & (RING - 1);
    this.#counts[slot] = 0;
    this.#sentUs[slot] = sentUs;
    this.published = seq + 1;
    return seq;
  }

  /**
   * One delivery of publication `seq`, stamped `sentUs` in its data, received at `nowUs`.
   * Throws when no such publication was sent (a wrong or corrupt number).
   */
  delivered(seq: number, sentUs: number, nowUs: number): void {
    const slot = seq & (RING - 1);
    if (seq >= this.published || seq < this.#oldest || this.#sentUs[slot] !== sentUs || this.#counts[slot]! >= this.subscribers) {
      throw new Error(`received publication ${seq} stamped ${sentUs}, which was not sent (or already reached everyone)`);
    }
    this.verified++;
    if (this.#recording) {
      this.windowDeliveries++;
      this.latencyUs.record(nowUs - sentUs);
    }
    if (++this.#counts[slot]! === this.subscribers) {
      this.completed++;
      // With several publishers, publications may complete out of their numbering order.
      while (this.#oldest < this.published && this.#counts[this.#oldest & (RING - 1)] === this.subscribers) this.#oldest++;
      this.onComplete?.();
    }
  }

  /** Opens a measured window: deliveries and latencies from now on are counted. */
  startWindow(): void {
    this.windowDeliveries = 0;
    this.latencyUs.reset();
    this.#recording = true;
  }

  stopWindow(): void {
    this.#recording = false;
  }

  /** Deliveries of publications in flight that are still missing. */
  get missing(): number {
    let missing = 0;
    for (let seq = this.#oldest; seq < this.published; seq++) missing += this.subscribers - this.#counts[seq & (RING - 1)]!;
    return missing;
  }
}
