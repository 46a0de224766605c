/**
 * A map for the few entries most owners have: one entry is kept in two fields, and a Map is
 * made only for a second. Most connections subscribe to one channel, and an empty Map with its
 * hash table costs about 350 bytes per connection (heap snapshot of 10,000 idle sessions,
 * docs/benchmarks.md "Memory"); iteration order is insertion order, as with a Map.
 */
export class SmallMap<K, V> {
  #key: K | undefined = undefined;
  #value: V | undefined = undefined;
  #one = false;
  #map: Map<K, V> | undefined = undefined;

  get size(): number {
    return this.#map ? this.#map.size : this.#one ? 1 : 0;
  }

  get(key: K): V | undefined {
    if (this.#map) return this.#map.get(key);
    return this.#one && this.#key === key ? this.#value : undefined;
  }

  has(key: K): boolean {
    if (this.#map) return this.#map.has(key);
    return this.#one && this.#key === key;
  }

  set(key: K, value: V): void {
    if (this.#map) {
      this.#map.set(key, value);
    } else if (!this.#one || this.#key === key) {
      this.#one = true;
      this.#key = key;
      this.#value = value;
    } else {
      this.#map = new Map([[this.#key!, this.#value!], [key, value]]);
      this.#one = false;
      this.#key = undefined;
      this.#value = undefined;
    }
  }

  delete(key: K): boolean {
    if (this.#map) {
      const deleted = this.#map.delete(key);
      if (this.#map.size === 0) this.#map = undefined;
      return deleted;
    }
    if (!this.#one || this.#key !== key) return false;
    this.#one = false;
    this.#key = undefined;
    this.#value = undefined;
    return true;
  }

  *keys(): IterableIterator<K> {
    if (this.#map) yield* this.#map.keys();
    else if (this.#one) yield this.#key!;
  }

  *values(): IterableIterator<V> {
    if (this.#map) yield* this.#map.values();
    else if (this.#one) yield this.#value!;
  }
}
