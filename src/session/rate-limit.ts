/**
 * Per-connection rate limiting, pure: time is a parameter (STYLE rule 1). A token bucket holds
 * up to `burst` tokens and refills at `ratePerSecond`; each command takes one. Refusals are
 * counted over a fixed window: a client that keeps sending past the rate is flooding, however
 * often a refilled token lets one command through (issue 13: counting refusals "in a row" let
 * 19,100 commands/s run for 5 s, since every refill reset the count).
 *
 * One limiter per connection, so it is kept small: every field is a small integer (V8 stores
 * those in the object itself; a fractional or large number would be a separate 16-byte box).
 * Tokens are counted in thousandths, and times in ms since the first limiter was made.
 */

/** What a command gets from the limiter. */
export type Verdict =
  /** Within the rate: handle it. */
  | 'ok'
  /** Over the rate: refuse it (protocol clients get error 111). */
  | 'refused'
  /** Over the rate, and more than `burst` refusals within one window: end the connection. */
  | 'flood';

/** The window over which refusals are counted. */
export const REFUSAL_WINDOW_MS = 1000;

/** A token, in the units the bucket counts. */
const UNIT = 1000;

/** Times are kept relative to this (set by the first limiter), so they stay small integers for weeks. */
let origin: number | undefined;

export class RateLimiter {
  /** Units added per ms: `ratePerSecond` tokens a second is that many thousandths a ms. */
  readonly #rate: number;
  readonly #burst: number;
  #units: number;
  #last: number;
  #windowStart: number;
  #refusals = 0;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    origin ??= nowMs;
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#units = burst * UNIT;
    this.#last = nowMs - origin;
    this.#windowStart = this.#last;
  }

  /**
   * Whether the limiter is back where a new one starts — a full bucket, no refusal within the
   * window — so its owner may drop it and make a new one at the next command (an idle connection
   * then keeps no limiter).
   */
  isRested(nowMs: number): boolean {
    const now = nowMs - origin!;
    const full = this.#units + (now - this.#last) * this.#rate >= this.#burst * UNIT;
    return full && (this.#refusals === 0 || now - this.#windowStart >= REFUSAL_WINDOW_MS);
  }

  /** Takes a token if there is one; otherwise counts a refusal and says whether that makes a flood. */
  take(nowMs: number): Verdict {
    const now = nowMs - origin!;
    if (now > this.#last) {
      this.#units = Math.min(this.#burst * UNIT, this.#units + (now - this.#last) * this.#rate);
      this.#last = now;
    }
    if (this.#units >= UNIT) {
      this.#units -= UNIT;
      return 'ok';
    }
    if (now - this.#windowStart >= REFUSAL_WINDOW_MS) {
      this.#windowStart = now;
      this.#refusals = 0;
    }
    this.#refusals++;
    return this.#refusals > this.#burst ? 'flood' : 'refused';
  }
}
