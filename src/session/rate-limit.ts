/**
 * Per-connection rate limiting, pure: time is a parameter (STYLE rule 1). A token bucket holds
 * up to `burst` tokens and refills at `ratePerSecond`; each command takes one. Refusals are
 * counted over a fixed window: a client that keeps sending past the rate is flooding, however
 * often a refilled token lets one command through (issue 13: counting refusals "in a row" let
 * 19,100 commands/s run for 5 s, since every refill reset the count).
 *
 * The bucket is kept as GCRA (the generic cell rate algorithm) keeps it: as one number, the time
 * at which it will be full again, at or before now when it is full. So a connection's whole
 * limiter is one number field of its session, and the settings live once per server in a
 * {@link CommandRate} (it was an object per connection: 64 to 72 bytes each, issues 11 and 17).
 * Only a connection that has been refused keeps more: its {@link Refusals}.
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

/** What {@link CommandRate.take} returns when the bucket has no token: below every time it returns otherwise. */
export const REFUSED = Number.NEGATIVE_INFINITY;

/** A bucket as a new connection starts with it: full. */
export const FULL_BUCKET = 0;

/**
 * A nanosecond of slack in the comparison: where a token's time is a fraction of a microsecond,
 * the sum of `burst` of them may round above `burst * interval`, which would refuse the last one.
 */
const SLACK_US = 1e-3;

/** A server's rate and burst, shared by the buckets of all its connections. */
export class CommandRate {
  readonly ratePerSecond: number;
  readonly burst: number;
  /** The time one token takes to refill, in µs: a whole number at every rate that divides a million. */
  readonly #interval: number;
  /** How far past now a bucket's full time may be after a take: `burst` tokens' worth, in µs. */
  readonly #limit: number;
  /**
   * Times are µs since this: whole numbers, exact in a double for 285 years, so a bucket adds up
   * exactly at such rates (a fraction of a µs per token drifts by at most a thousandth of it).
   */
  readonly #origin: number;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#interval = 1_000_000 / ratePerSecond;
    this.#limit = burst * this.#interval + SLACK_US;
    this.#origin = nowMs;
  }

  /**
   * Takes one token from the bucket whose full time is `full` ({@link FULL_BUCKET} for a new
   * one): returns the bucket's full time after it, or {@link REFUSED} when it holds no token
   * (and is then unchanged).
   */
  take(full: number, nowMs: number): number {
    const now = (nowMs - this.#origin) * 1000;
    const next = (full > now ? full : now) + this.#interval;
    return next - now <= this.#limit ? next : REFUSED;
  }

  /** Whether the bucket whose full time is `full` is full at `nowMs` (its owner may then forget it: FULL_BUCKET). */
  isFull(full: number, nowMs: number): boolean {
    return full <= (nowMs - this.#origin) * 1000;
  }
}

/**
 * A refused connection's refusals in the current window; made at its first refusal, and
 * droppable once {@link Refusals.isOver} (a connection that stopped flooding keeps nothing).
 */
export class Refusals {
  #windowStart: number;
  #count = 0;

  constructor(nowMs: number) {
    this.#windowStart = nowMs;
  }

  /** Counts a refusal at `nowMs`: 'flood' when that makes more than `burst` within the window, else 'refused'. */
  count(nowMs: number, burst: number): Verdict {
    if (nowMs - this.#windowStart >= REFUSAL_WINDOW_MS) {
      this.#windowStart = nowMs;
      this.#count = 0;
    }
    this.#count++;
    return this.#count > burst ? 'flood' : 'refused';
  }

  /** Whether the window of the last refusal has passed: the next refusal starts a new count. */
  isOver(nowMs: number): boolean {
    return nowMs - this.#windowStart >= REFUSAL_WINDOW_MS;
  }
}
