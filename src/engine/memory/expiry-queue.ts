/**
 * Keys with a due time, popped when due: a binary min-heap with at most one entry per key.
 * The owner decides what "due" means — it may find the key was extended and schedule it
 * again — so the heap stays as small as the number of live keys, not of updates.
 */
export class ExpiryQueue<K> {
  readonly #heap: Array<{ at: number; key: K }> = [];
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
    heap.push({ at, key });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  /** Removes and returns every key whose time is `<= now`, earliest first. */
  popDue(now: number): K[] {
    const out: K[] = [];
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.at <= now) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && heap[l]!.at < heap[m]!.at) m = l;
          if (r < heap.length && heap[r]!.at < heap[m]!.at) m = r;
          if (m === i) break;
          [heap[m], heap[i]] = [heap[i]!, heap[m]!];
          i = m;
        }
      }
      this.#queued.delete(top.key);
      out.push(top.key);
    }
    return out;
  }
}
