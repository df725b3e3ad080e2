/**
 * A dense, bounded store of bucket counts keyed by integer bucket index, used by {@link DDSketch}
 * for positive and for negative values. Counts live in one `Float64Array` addressed with an offset;
 * the array grows rarely (doubling) and never beyond `maxBuckets`. When a new key would widen the
 * range past `maxBuckets`, the lowest buckets are collapsed into the lowest kept one (DDSketch's
 * "collapsing lowest" store), which costs accuracy only at the low end.
 *
 * @internal Not exported from the package; the sketch is the public surface.
 */

/** Sentinels for an empty store, kept in the small-integer range. */
const EMPTY_MIN = 0x3fffffff;
const EMPTY_MAX = -0x3fffffff;
/** Shared zero-length array for stores that have not grown yet (nothing is ever written to it). */
const NO_COUNTS = new Float64Array(0);
/** Spare buckets allocated beyond the needed range when the array grows. */
const GROW_SLACK = 32;

/** Dense bucket counts with a movable window `[offset, offset + counts.length)`. */
export class BucketStore {
  /** Bucket counts; index `i` holds key `offset + i`. */
  counts: Float64Array = NO_COUNTS;
  /** The key of `counts[0]`. */
  offset = 0;
  /** Lowest key with a count, or a sentinel above `maxKey` when empty. */
  minKey = EMPTY_MIN;
  /** Highest key with a count, or a sentinel below `minKey` when empty. */
  maxKey = EMPTY_MAX;

  constructor(readonly maxBuckets: number) {}

  /** True when nothing was added. */
  get isEmpty(): boolean {
    return this.minKey > this.maxKey;
  }

  /** Add `n` to bucket `key`: a field update unless the key falls outside the current array. */
  add(key: number, n: number): void {
    const i = key - this.offset;
    if (i >= 0 && i < this.counts.length) {
      this.counts[i]! += n;
      if (key < this.minKey) this.minKey = key;
      if (key > this.maxKey) this.maxKey = key;
      return;
    }
    this.#addSlow(key, n);
  }

  /** The count in bucket `key` (0 outside the range). */
  get(key: number): number {
    const i = key - this.offset;
    return i >= 0 && i < this.counts.length ? this.counts[i]! : 0;
  }

  /** Add every bucket of `other` into this store. */
  mergeFrom(other: BucketStore): void {
    if (other.isEmpty) return;
    // Highest first, then lowest: at most two re-layouts, then every other key takes the fast path.
    const oc = other.counts;
    const oo = other.offset;
    this.add(other.maxKey, oc[other.maxKey - oo]!);
    if (other.minKey !== other.maxKey) this.add(other.minKey, oc[other.minKey - oo]!);
    for (let k = other.minKey + 1; k < other.maxKey; k++) {
      const c = oc[k - oo]!;
      if (c !== 0) this.add(k, c);
    }
  }

  /**
   * Pre-size an empty store to cover `[lo, hi]` (clamped to `maxBuckets`), so the first values of a
   * new window that look like the last one's take the allocation-free path.
   */
  reserve(lo: number, hi: number): void {
    if (!this.isEmpty || hi < lo) return;
    const span = Math.min(hi - lo + 1, this.maxBuckets);
    if (span <= this.counts.length && lo >= this.offset && hi < this.offset + this.counts.length) return;
    this.counts = new Float64Array(span);
    this.offset = hi - span + 1;
  }

  /** Empty the store, keeping its array. */
  reset(): void {
    this.counts.fill(0);
    this.minKey = EMPTY_MIN;
    this.maxKey = EMPTY_MAX;
  }

  /** A deep copy. */
  clone(): BucketStore {
    const copy = new BucketStore(this.maxBuckets);
    copy.counts = this.counts.slice();
    copy.offset = this.offset;
    copy.minKey = this.minKey;
    copy.maxKey = this.maxKey;
    return copy;
  }

  #addSlow(key: number, n: number): void {
    let lo = key;
    let hi = key;
    if (!this.isEmpty) {
      lo = Math.min(key, this.minKey);
      hi = Math.max(key, this.maxKey);
    }
    if (hi - lo + 1 > this.maxBuckets) lo = hi - this.maxBuckets + 1;
    this.#relayout(lo, hi, key < this.offset);
    const k = Math.max(key, lo);
    this.counts[k - this.offset]! += n;
    if (this.isEmpty) {
      this.minKey = k;
      this.maxKey = k;
    } else {
      if (k < this.minKey) this.minKey = k;
      if (k > this.maxKey) this.maxKey = k;
    }
  }

  /**
   * Make the array cover `[lo, hi]` (`hi - lo + 1 <= maxBuckets`, `hi >= maxKey`), folding counts
   * of keys below `lo` into bucket `lo`. Slack goes below when growing downward, above otherwise.
   */
  #relayout(lo: number, hi: number, downward: boolean): void {
    const span = hi - lo + 1;
    const old = this.counts;
    const oldOffset = this.offset;
    let folded = 0;
    if (!this.isEmpty && this.minKey < lo) {
      const end = Math.min(lo, this.maxKey + 1);
      for (let k = this.minKey; k < end; k++) folded += old[k - oldOffset]!;
    }
    let len = old.length;
    if (span > len) len = Math.min(this.maxBuckets, Math.max(len * 2, span + GROW_SLACK));
    const offset = downward ? hi - len + 1 : lo;
    const target = len === old.length ? old : new Float64Array(len);
    if (!this.isEmpty && this.maxKey >= lo) {
      const from = Math.max(this.minKey, lo);
      // copyWithin handles the overlap when the same array is shifted in place.
      if (target === old) {
        old.copyWithin(from - offset, from - oldOffset, this.maxKey - oldOffset + 1);
        old.fill(0, 0, from - offset);
        old.fill(0, this.maxKey - offset + 1);
      } else {
        target.set(old.subarray(from - oldOffset, this.maxKey - oldOffset + 1), from - offset);
      }
      if (this.minKey < lo) this.minKey = lo;
    } else {
      target.fill(0);
      if (!this.isEmpty) {
        // Everything was below lo: it all folds into bucket lo.
        this.minKey = lo;
        this.maxKey = lo;
      }
    }
    if (folded !== 0) target[lo - offset]! += folded;
    this.counts = target;
    this.offset = offset;
  }
}
