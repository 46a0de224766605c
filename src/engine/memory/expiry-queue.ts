/**
 * Keys with a due time, popped when due: a binary min-heap with at most one entry per key.
 * The owner decides what "due" means — it may find the key was extended and schedule it
 * again — so the heap stays as small as the number of live keys, not of updates.
 */
interface Slot<K> {
  readonly at: number;
  readonly key: K;
}

export class ExpiryQueue<K> {
  readonly #heap: Array<Slot<K>> = [];
  readonly #queued = new Set<K>();

  /** How many keys are waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /** Queues `key` for `at` unless it is already queued (then it will be seen at its earlier time). */
  schedule(key: K, at: number): void {
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    const heap = this.#heap;
    const slot = { at, key };
    // Sift up by moving parents down into the hole, then drop the new slot in once.
    let i = heap.length;
    heap.push(slot);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p.at <= at) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = slot;
  }

  /** Removes and returns every key whose time is `<= now`, earliest first. */
  popDue(now: number): K[] {
    const out: K[] = [];
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.at <= now) {
      const top = heap[0]!;
      const last = heap.pop()!;
      const n = heap.length;
      if (n > 0) {
        // Sift the last slot down from the root, moving smaller children up into the hole.
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= n) break;
          const r = l + 1;
          const c = r < n && heap[r]!.at < heap[l]!.at ? r : l;
          if (heap[c]!.at >= last.at) break;
          heap[i] = heap[c]!;
          i = c;
        }
        heap[i] = last;
      }
      this.#queued.delete(top.key);
      out.push(top.key);
    }
    return out;
  }
}
