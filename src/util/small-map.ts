/**
 * A map for the few entries most owners have: one entry is kept in two fields, and a Map is
 * made only for a second. Most connections subscribe to one channel, and an empty Map with its
 * hash table costs about 350 bytes per connection (heap snapshot of 10,000 idle sessions,
 * docs/benchmarks.md "Memory"); iteration order is insertion order, as with a Map.
 */
/** The key of an empty SmallMap: no key of the caller's can be it, so no flag is needed beside the key. */
const NONE: unique symbol = Symbol('SmallMap.none');
/** What an empty SmallMap iterates. */
const EMPTY: readonly never[] = Object.freeze([]);

export class SmallMap<K, V> {
  #key: K | typeof NONE = NONE;
  #value: V | undefined = undefined;
  #map: Map<K, V> | undefined = undefined;

  get size(): number {
    return this.#map ? this.#map.size : this.#key !== NONE ? 1 : 0;
  }

  get(key: K): V | undefined {
    if (this.#map) return this.#map.get(key);
    return this.#key === key ? this.#value : undefined;
  }

  has(key: K): boolean {
    if (this.#map) return this.#map.has(key);
    return this.#key === key;
  }

  set(key: K, value: V): void {
    if (this.#map) {
      this.#map.set(key, value);
    } else if (this.#key === NONE || this.#key === key) {
      this.#key = key;
      this.#value = value;
    } else {
      this.#map = new Map([[this.#key, this.#value!], [key, value]]);
      this.#key = NONE;
      this.#value = undefined;
    }
  }

  delete(key: K): boolean {
    if (this.#map) {
      const deleted = this.#map.delete(key);
      if (this.#map.size === 0) this.#map = undefined;
      return deleted;
    }
    if (this.#key === NONE || this.#key !== key) return false;
    this.#key = NONE;
    this.#value = undefined;
    return true;
  }

  // Not generators: a generator object per call was most of what the heartbeat allocated per
  // idle connection (sampled: 377 of 3,832 bytes per tick). One entry is a one-element array.

  keys(): Iterable<K> {
    if (this.#map) return this.#map.keys();
    return this.#key !== NONE ? [this.#key] : EMPTY;
  }

  values(): Iterable<V> {
    if (this.#map) return this.#map.values();
    return this.#key !== NONE ? [this.#value!] : EMPTY;
  }
}
