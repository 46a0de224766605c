/**
 * Per-connection rate limiting, pure: time is a parameter (STYLE rule 1). A token bucket holds
 * up to `burst` tokens and refills at `ratePerSecond`; each command takes one. Refusals are
 * counted over a fixed window: a client that keeps sending past the rate is flooding, however
 * often a refilled token lets one command through (issue 13: counting refusals "in a row" let
 * 19,100 commands/s run for 5 s, since every refill reset the count).
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

export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  #windowStart: number;
  #refusals = 0;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    this.#rate = ratePerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = nowMs;
    this.#windowStart = nowMs;
  }

  /** Takes a token if there is one; otherwise counts a refusal and says whether that makes a flood. */
  take(nowMs: number): Verdict {
    if (nowMs > this.#last) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (nowMs - this.#last) * this.#rate);
      this.#last = nowMs;
    }
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 'ok';
    }
    if (nowMs - this.#windowStart >= REFUSAL_WINDOW_MS) {
      this.#windowStart = nowMs;
      this.#refusals = 0;
    }
    this.#refusals++;
    return this.#refusals > this.#burst ? 'flood' : 'refused';
  }
}
