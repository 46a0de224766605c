/**
 * Runs async operations one at a time per key, in call order, and forgets a key once its last
 * operation settles, except the last such key while no other is held (so the map does not grow
 * with keys seen). Used to keep a channel's local-subscriber count and its broker subscription
 * in step.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();
  /**
   * A key kept in #tails after its operations settled, because it was the only one: emptying a
   * Map makes V8 shrink it into a new table, and once the Map is long-lived that table is made
   * in the old generation. One subscribe after another to the same channel emptied and refilled
   * the map each time: about 150 bytes of old-space garbage per subscribe (allocation samples of
   * 10,000 connects + subscribes with no mark-compact in the window, docs/benchmarks.md
   * "Memory"). Now the same key is overwritten instead.
   */
  #idle: string | undefined = undefined;

  /** Runs `fn` after every earlier operation on `key` has settled; resolves or rejects as `fn` does. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.then(noop, noop);
    this.#tails.set(key, tail);
    // Forgotten after the new key is in, so the map does not go empty (see #idle).
    if (this.#idle !== undefined) {
      if (this.#idle !== key) this.#tails.delete(this.#idle);
      this.#idle = undefined;
    }
    void tail.then(() => {
      if (this.#tails.get(key) !== tail) return;
      if (this.#tails.size === 1) this.#idle = key;
      else this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with an operation pending, for tests that prove nothing is left behind. */
  get size(): number {
    return this.#tails.size - (this.#idle === undefined ? 0 : 1);
  }
}

function noop(): void {}
