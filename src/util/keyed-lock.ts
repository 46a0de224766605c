/**
 * Runs async operations one at a time per key, in call order, and forgets a key once its last
 * operation settles (so the map does not grow with keys seen). Used to keep a channel's
 * local-subscriber count and its broker subscription in step.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier operation on `key` has settled; resolves or rejects as `fn` does. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.then(noop, noop);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with an operation pending, for tests that prove nothing is left behind. */
  get size(): number {
    return this.#tails.size;
  }
}

function noop(): void {}
