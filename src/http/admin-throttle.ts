/**
 * Slows down password guessing on the admin page. Each wrong password from an address holds its
 * answer back for a delay that doubles with every failure in a row (250 ms, 500 ms, 1 s ... up to
 * 8 s), and the address may not try again until that delay is over: an attempt before then is
 * refused at once without looking at the password, so sending many guesses in parallel gains
 * nothing. A right password clears the address. Bounded: failures are forgotten 15 minutes after
 * the last one, and at most `maxAddresses` addresses are remembered (the oldest go first). Time
 * is a parameter, so it is tested without waiting.
 */

export interface LoginThrottleOptions {
  /** Delay after the first wrong password; default 250 ms. */
  readonly baseDelayMs?: number;
  /** Longest delay; default 8 000 ms. */
  readonly maxDelayMs?: number;
  /** Failures older than this are forgotten; default 15 minutes. */
  readonly forgetAfterMs?: number;
  /** Addresses remembered at most; default 10 000. */
  readonly maxAddresses?: number;
}

interface Failures {
  count: number;
  /** When the address may try again (Unix ms). */
  until: number;
  /** When the last failure happened. */
  last: number;
}

export class LoginThrottle {
  readonly #base: number;
  readonly #max: number;
  readonly #forgetAfter: number;
  readonly #maxAddresses: number;
  /** By address, oldest first (an entry is moved to the end when it fails again). */
  readonly #failures = new Map<string, Failures>();

  constructor(options: LoginThrottleOptions = {}) {
    this.#base = options.baseDelayMs ?? 250;
    this.#max = options.maxDelayMs ?? 8000;
    this.#forgetAfter = options.forgetAfterMs ?? 15 * 60_000;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
  }

  /** Milliseconds before `address` may try a password at `now`; 0 when it may now. */
  retryAfter(address: string, now: number): number {
    const f = this.#current(address, now);
    return f ? Math.max(0, f.until - now) : 0;
  }

  /**
   * Records a wrong password from `address` at `now`; returns how long to hold the answer back.
   * The address may not try again until then.
   */
  failed(address: string, now: number): number {
    const previous = this.#current(address, now);
    const count = (previous?.count ?? 0) + 1;
    const delay = Math.min(this.#max, this.#base * 2 ** Math.min(count - 1, 30));
    this.#failures.delete(address);
    this.#failures.set(address, { count, until: now + delay, last: now });
    while (this.#failures.size > this.#maxAddresses) this.#failures.delete(this.#failures.keys().next().value!);
    return delay;
  }

  /** A right password from `address`: its failures are forgotten. */
  succeeded(address: string): void {
    this.#failures.delete(address);
  }

  /** Addresses remembered now (for tests of the bound). */
  get size(): number {
    return this.#failures.size;
  }

  #current(address: string, now: number): Failures | undefined {
    const f = this.#failures.get(address);
    if (f && now - f.last > this.#forgetAfter) {
      this.#failures.delete(address);
      return undefined;
    }
    return f;
  }
}
