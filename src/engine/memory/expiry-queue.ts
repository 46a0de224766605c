/**
 * Things with a due time, popped when due.
 *
 * {@link DueHeap} is a binary min-heap of items that carry their own due time (`due`): no
 * wrapper per item, and no check that an item is queued once — its owner makes sure of that, as
 * the in-memory presence does (an entry is queued when made, and again only after it was popped).
 * {@link ExpiryQueue} is built on it for keys that may be scheduled again while queued (user and
 * stream names): it keeps at most one entry per key, so the heap stays as small as the number of
 * live keys, not of updates. The owner decides what "due" means — it may find a popped key or
 * item was extended and queue it again.
 */

/** An item a {@link DueHeap} orders: `due` is read while it is queued, so it must not change then. */
export interface Due {
  due: number;
}

export class DueHeap<T extends Due> {
  readonly #heap: T[] = [];

  /** How many items are waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /** Queues `item` for `item.due`. The caller queues an item at most once at a time. */
  push(item: T): void {
    const heap = this.#heap;
    const at = item.due;
    // Sift up by moving parents down into the hole, then drop the new item in once.
    let i = heap.length;
    heap.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p.due <= at) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = item;
  }

  /** Removes and returns every item whose due time is `<= now`, earliest first. */
  popDue(now: number): T[] {
    const out: T[] = [];
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.due <= now) {
      const top = heap[0]!;
      const last = heap.pop()!;
      const n = heap.length;
      if (n > 0) {
        // Sift the last item down from the root, moving smaller children up into the hole.
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= n) break;
          const r = l + 1;
          const c = r < n && heap[r]!.due < heap[l]!.due ? r : l;
          if (heap[c]!.due >= last.due) break;
          heap[i] = heap[c]!;
          i = c;
        }
        heap[i] = last;
      }
      out.push(top);
    }
    return out;
  }
}

interface Slot<K> {
  readonly due: number;
  readonly key: K;
}

export class ExpiryQueue<K> {
  readonly #heap = new DueHeap<Slot<K>>();
  readonly #queued = new Set<K>();

  /** How many keys are waiting. */
  get size(): number {
    return this.#heap.size;
  }

  /** Queues `key` for `at` unless it is already queued (then it will be seen at its earlier time). */
  schedule(key: K, at: number): void {
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#heap.push({ due: at, key });
  }

  /** Removes and returns every key whose time is `<= now`, earliest first. */
  popDue(now: number): K[] {
    const due = this.#heap.popDue(now);
    const out: K[] = new Array(due.length);
    for (let i = 0; i < due.length; i++) {
      const key = due[i]!.key;
      this.#queued.delete(key);
      out[i] = key;
    }
    return out;
  }
}
