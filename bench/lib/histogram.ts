/**
 * A latency histogram with bounded memory and ~3% resolution, so the load generator can record
 * every round trip at a few nanoseconds each instead of keeping millions of samples.
 * Log-linear buckets, as HdrHistogram does: values below 32 get their own bucket; each
 * power-of-two range above is split into 32 equal buckets.
 */

const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
/** The largest value recorded as itself; larger values count in the last bucket. */
const MAX_VALUE = 0x7fffffff;
const BUCKETS = (31 - SUB_BITS + 1) * SUB;

function bucketOf(value: number): number {
  const v = value <= 0 ? 0 : value >= MAX_VALUE ? MAX_VALUE : Math.floor(value);
  if (v < SUB) return v;
  const msb = 31 - Math.clz32(v);
  return (msb - SUB_BITS + 1) * SUB + ((v >>> (msb - SUB_BITS)) - SUB);
}

/** The middle of bucket `index`, as the value reported for samples in it. */
function valueOf(index: number): number {
  if (index < SUB) return index;
  const group = Math.floor(index / SUB);
  const low = (SUB + (index % SUB)) * 2 ** (group - 1);
  return low + 2 ** (group - 1) / 2;
}

/** Counts of non-negative integer values (the bench records microseconds). */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;

  /** Counts one sample; negative values count as 0, values past 2^31 as 2^31. */
  record(value: number): void {
    this.#counts[bucketOf(value)]! += 1;
    this.#total += 1;
  }

  get total(): number {
    return this.#total;
  }

  /** Adds every sample of `other` to this one. */
  add(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#total += other.#total;
  }

  /** Forgets every sample (the end of a warm-up). */
  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }

  /**
   * The value below which a fraction `q` (0..1) of the samples fall, within the bucket
   * resolution; NaN when nothing was recorded.
   */
  quantile(q: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return valueOf(i);
    }
    return valueOf(BUCKETS - 1);
  }
}
