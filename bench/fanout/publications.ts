/**
 * The publications of one fan-out target, shared by all its subscribers: every publication sent
 * and its send time, every delivery (checked by the subscriber to be the next one it expects
 * from that publisher, and here to be one that was sent and has not yet reached everyone), when
 * a publication has reached every subscriber; deliveries and their latency go to the tally.
 * Publications are numbered in the order they are sent; with P publishers, publication `seq` is
 * sent by publisher `seq % P`.
 */
import { Tally } from '../lib/tally.js';

/** Publications tracked at once; more in flight is an error (the target has stopped delivering). */
export const RING = 1 << 16;

export class Publications {
  readonly subscribers: number;
  /** Deliveries: every one checked, and those of the measured window with their latency. */
  readonly tally = new Tally();
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
   * Throws when no such publication was sent (a wrong or corrupt number), or when it has
   * already reached every subscriber (a duplicate).
   */
  delivered(seq: number, sentUs: number, nowUs: number): void {
    const slot = seq & (RING - 1);
    if (seq >= this.published || seq < this.#oldest || this.#sentUs[slot] !== sentUs || this.#counts[slot]! >= this.subscribers) {
      throw new Error(`received publication ${seq} stamped ${sentUs}, which was not sent (or already reached everyone)`);
    }
    this.tally.record(nowUs - sentUs);
    if (++this.#counts[slot]! === this.subscribers) {
      this.completed++;
      // With several publishers, publications may complete out of their numbering order.
      while (this.#oldest < this.published && this.#counts[this.#oldest & (RING - 1)] === this.subscribers) this.#oldest++;
      this.onComplete?.();
    }
  }

  /** Deliveries of publications in flight that are still missing. */
  get missing(): number {
    let missing = 0;
    for (let seq = this.#oldest; seq < this.published; seq++) missing += this.subscribers - this.#counts[seq & (RING - 1)]!;
    return missing;
  }
}
