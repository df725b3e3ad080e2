import { validationError } from '../errors.js';
import { BucketStore } from './bucket-store.js';
import {
  type ExponentialHistogramPoint,
  type FromExponentialOptions,
  fromExponentialHistogram,
  type NativeHistogram,
  toExponentialHistogram,
  toNativeHistogram,
} from './exponential.js';
import { downscaleStore, exponentialKey, MIN_SKETCH_SCALE } from './exponential-mapping.js';
import { type LogIndex, logIndexFor } from './log-index.js';
import { asDDSketch, decodeSketch, encodeSketch } from './sketch-codec.js';
import { type DDSketchOptions, exactGammaOptions, resolveSketchOptions } from './sketch-options.js';
import type { QuantileSketch } from './types.js';

export { asDDSketch, decodeSketch } from './sketch-codec.js';
export { type DDSketchOptions, DEFAULT_MAX_BUCKETS, DEFAULT_RELATIVE_ACCURACY } from './sketch-options.js';

/** The raw state of a sketch, for the exponential-histogram conversions. @internal */
export interface SketchParts {
  positive: BucketStore;
  negative: BucketStore;
  zeroCount: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Read and write a sketch's raw state (set once by the class's static block). @internal */
export let sketchInternals: {
  parts(s: DDSketch): SketchParts;
  /** The bucket key of a positive value. */
  key(s: DDSketch, v: number): number;
  assign(s: DDSketch, p: Omit<SketchParts, 'positive' | 'negative'>): void;
};

/** Magnitudes at or below this go to the zero bucket (smallest normal double). */
const MIN_INDEXABLE = 2.2250738585072014e-308;

/**
 * A mergeable quantile sketch with relative-error guarantees (DDSketch: Masson, Rim, Lee, VLDB 2019):
 * values fall into logarithmic buckets `(γ^(k-1), γ^k]` with `γ = (1+α)/(1-α)`, so every quantile is
 * returned within relative error `α` of the true one, and merging sketches is adding bucket counts, so
 * a sketch merged from many processes is exactly as accurate as one built on the union. Percentiles
 * are never averaged.
 *
 * @example
 * ```ts
 * const a = new DDSketch();            // α = 1%, at most 2048 buckets per sign
 * for (const ms of latencies) a.add(ms);
 * const b = DDSketch.decode(bytesFromAnotherProcess);
 * a.merge(b);
 * a.quantile(0.99);                    // within 1% of the true p99 of both together
 * ```
 */
export class DDSketch implements QuantileSketch {
  #alpha: number;
  /** The bucket cap per sign. */
  readonly maxBuckets: number;
  #gamma: number;
  #multiplier: number;
  #index: LogIndex;
  #positive: BucketStore;
  #negative: BucketStore;
  #zeroCount = 0;
  #n = 0;
  #total = 0;
  #lo = Number.POSITIVE_INFINITY;
  #hi = Number.NEGATIVE_INFINITY;
  /** The exponential scale, or -1 for an accuracy-based γ. */
  #scale: number;

  static {
    sketchInternals = {
      parts: (s) => ({
        positive: s.#positive,
        negative: s.#negative,
        zeroCount: s.#zeroCount,
        count: s.#n,
        sum: s.#total,
        min: s.#lo,
        max: s.#hi,
      }),
      key: (s, v) => s.#key(v),
      assign: (s, p) => {
        s.#zeroCount = p.zeroCount;
        s.#n = p.count;
        s.#total = p.sum;
        s.#lo = p.min;
        s.#hi = p.max;
      },
    };
  }

  constructor(options: DDSketchOptions = {}) {
    const shape = resolveSketchOptions(options);
    this.#alpha = shape.alpha;
    this.maxBuckets = shape.maxBuckets;
    this.#scale = shape.scale;
    this.#gamma = shape.gamma;
    this.#multiplier = 1 / Math.log(this.#gamma);
    this.#index = logIndexFor(this.#gamma);
    this.#positive = new BucketStore(shape.maxBuckets);
    this.#negative = new BucketStore(shape.maxBuckets);
  }

  /** The relative accuracy α (for a sketch with a scale: `(γ−1)/(γ+1)`). */
  get relativeAccuracy(): number {
    return this.#alpha;
  }

  /** Number of values recorded (sum of weights). */
  get count(): number {
    return this.#n;
  }

  /** Exact sum of the values recorded. */
  get sum(): number {
    return this.#total;
  }

  /** Exact smallest value recorded; NaN when empty. */
  get min(): number {
    return this.#n === 0 ? Number.NaN : this.#lo;
  }

  /** Exact largest value recorded; NaN when empty. */
  get max(): number {
    return this.#n === 0 ? Number.NaN : this.#hi;
  }

  /** The exponential scale (`γ = 2^(2^-scale)`), or undefined for an accuracy-based sketch. */
  get scale(): number | undefined {
    return this.#scale >= 0 ? this.#scale : undefined;
  }

  /** The bucket base γ; sketches merge only when it is equal (or both have a scale). */
  get base(): number {
    return this.#gamma;
  }

  /**
   * Record `value` (`weight` times, default once; a weight may be fractional, e.g. StatsD's
   * 1/sample-rate). Allocation-free unless the value lands outside the current bucket range.
   * Non-finite values or weights throw `E_VALIDATION`.
   */
  add(value: number, weight = 1): void {
    if (!Number.isFinite(value)) throw validationError('value', 'a finite number', value);
    if (weight !== 1 && !(weight > 0 && weight < Number.POSITIVE_INFINITY)) {
      throw validationError('weight', 'a positive finite number', weight);
    }
    if (value > MIN_INDEXABLE) {
      this.#positive.add(this.#key(value), weight);
    } else if (value < -MIN_INDEXABLE) {
      this.#negative.add(this.#key(-value), weight);
    } else {
      this.#zeroCount += weight;
    }
    this.#n += weight;
    this.#total += value * weight;
    if (value < this.#lo) this.#lo = value;
    if (value > this.#hi) this.#hi = value;
  }

  /**
   * Merge `other` into this sketch exactly. It must have the same relative accuracy (equal γ),
   * else `E_VALIDATION` — except that two sketches with a `scale` always merge: the finer one is
   * downscaled to the coarser scale first (exactly, as OpenTelemetry merges exponential histograms),
   * and this sketch takes the coarser scale. A sketch of another class is read through its
   * `encode()` form.
   */
  merge(other: QuantileSketch): void {
    let o = asDDSketch(other);
    if (o.#scale >= 0 && this.#scale >= 0 && o.#scale !== this.#scale) {
      if (o.#scale > this.#scale) o = o.downscaled(this.#scale);
      else {
        this.#rescale(o.#scale);
        this.merge(o);
        return;
      }
    }
    if (o.#gamma !== this.#gamma) {
      throw validationError(
        'other.relativeAccuracy',
        `a sketch with relativeAccuracy ${this.relativeAccuracy}`,
        o.relativeAccuracy,
      );
    }
    if (o.#n === 0) return;
    this.#positive.mergeFrom(o.#positive);
    this.#negative.mergeFrom(o.#negative);
    this.#zeroCount += o.#zeroCount;
    this.#n += o.#n;
    this.#total += o.#total;
    if (o.#lo < this.#lo) this.#lo = o.#lo;
    if (o.#hi > this.#hi) this.#hi = o.#hi;
  }

  /**
   * The q-quantile (q in [0, 1]): the value of rank `⌊q·(count−1)⌋` in sorted order, within
   * relative accuracy α (exact for q = 0 and q = 1). NaN when empty; a bad `q` throws `E_VALIDATION`.
   */
  quantile(q: number): number {
    if (typeof q !== 'number' || !(q >= 0 && q <= 1)) throw validationError('q', 'a number in [0, 1]', q);
    if (this.#n === 0) return Number.NaN;
    if (q === 0) return this.#lo;
    if (q === 1) return this.#hi;
    const rank = q * (this.#n - 1);
    let seen = 0;
    const neg = this.#negative;
    if (!neg.isEmpty) {
      // Larger keys are more negative values: walk them first.
      for (let k = neg.maxKey; k >= neg.minKey; k--) {
        seen += neg.counts[k - neg.offset]!;
        if (seen > rank) return this.#clamp(-this.#valueOf(k));
      }
    }
    seen += this.#zeroCount;
    if (seen > rank) return this.#clamp(0);
    const pos = this.#positive;
    if (!pos.isEmpty) {
      for (let k = pos.minKey; k <= pos.maxKey; k++) {
        seen += pos.counts[k - pos.offset]!;
        if (seen > rank) return this.#clamp(this.#valueOf(k));
      }
    }
    return this.#hi;
  }

  /**
   * A copy at the lower `scale` (only for a sketch with a scale): each bucket's count moves to the
   * coarser bucket that contains it, exactly. `E_VALIDATION` for a scale above this sketch's.
   */
  downscaled(scale: number): DDSketch {
    if (this.#scale < 0 || !Number.isInteger(scale) || scale < MIN_SKETCH_SCALE || scale > this.#scale)
      throw validationError('scale', `an integer in [${MIN_SKETCH_SCALE}, ${this.#scale}]`, scale);
    const copy = this.clone();
    copy.#rescale(scale);
    return copy;
  }

  /** A deep copy. */
  clone(): DDSketch {
    const copy = this.#sameShape();
    copy.#positive = this.#positive.clone();
    copy.#negative = this.#negative.clone();
    copy.#zeroCount = this.#zeroCount;
    copy.#n = this.#n;
    copy.#total = this.#total;
    copy.#lo = this.#lo;
    copy.#hi = this.#hi;
    return copy;
  }

  /**
   * A new empty sketch with the same accuracy and cap whose buckets are pre-sized to this sketch's
   * range: the next window of a histogram records without growing its arrays.
   */
  emptyLike(): DDSketch {
    const fresh = this.#sameShape();
    fresh.#positive.reserve(this.#positive.minKey, this.#positive.maxKey);
    fresh.#negative.reserve(this.#negative.minKey, this.#negative.maxKey);
    return fresh;
  }

  /** Forget everything recorded, keeping the allocated buckets. */
  reset(): void {
    this.#positive.reset();
    this.#negative.reset();
    this.#zeroCount = 0;
    this.#n = 0;
    this.#total = 0;
    this.#lo = Number.POSITIVE_INFINITY;
    this.#hi = Number.NEGATIVE_INFINITY;
  }

  /**
   * Compact binary form (version 1): `u8 version, u8 flags, f64 γ, varint maxBuckets, count,
   * zeroCount` (varints, or f64 when a weight was fractional), and when not empty `f64 sum, min,
   * max`; then the positive and the negative store, each `varint span` and, if non-empty,
   * `zigzag minKey` and `span` dense counts. Read it back with {@link DDSketch.decode}.
   */
  encode(): Uint8Array {
    return encodeSketch(this);
  }

  /**
   * Read a sketch written by {@link DDSketch.encode} (in this process or another). Malformed bytes
   * (truncated, unknown version, inconsistent counts) throw `FleetwatchError` `E_MALFORMED_RESPONSE`,
   * never a crash or a sketch that breaks its own invariants; a value that is not a `Uint8Array` throws
   * `E_VALIDATION`. The checks are structural, not a checksum: a well-formed encoding whose values were
   * changed (a different sum, say) decodes to that different sketch.
   *
   * @example
   * ```ts
   * const bytes = sketch.encode();          // e.g. stored, or sent to another process
   * const copy = DDSketch.decode(bytes);
   * copy.quantile(0.99) === sketch.quantile(0.99); // true
   * ```
   */
  static decode(bytes: Uint8Array): DDSketch {
    return decodeSketch(bytes);
  }

  /**
   * This sketch as an OpenTelemetry (OTLP) `ExponentialHistogramDataPoint`'s values, losslessly. The
   * sketch must have been made with `scale` (`E_VALIDATION` otherwise); fractional counts (StatsD
   * sample rates) are rounded.
   *
   * @example
   * ```ts
   * const s = new DDSketch({ scale: 6 });
   * s.add(12.5);
   * const point = s.toExponentialHistogram(); // { scale: 6, count: 1, positive: { offset: 233, bucketCounts: [1] }, … }
   * DDSketch.fromExponentialHistogram(point).quantile(0.5) === s.quantile(0.5); // true
   * ```
   */
  toExponentialHistogram(): ExponentialHistogramPoint {
    return toExponentialHistogram(this);
  }

  /**
   * A sketch holding exactly the buckets of an OTLP exponential histogram point (scale 0–20; wider
   * than `maxBuckets` is downscaled exactly until it fits). Bad input throws `E_VALIDATION` naming
   * the field at fault.
   *
   * @example
   * ```ts
   * const sketch = DDSketch.fromExponentialHistogram({ scale: 2, count: 2, zeroCount: 0,
   *   positive: { offset: -1, bucketCounts: [1, 0, 0, 1] }, negative: { offset: 0, bucketCounts: [] } });
   * sketch.count; // 2
   * ```
   */
  static fromExponentialHistogram(
    point: ExponentialHistogramPoint,
    options?: FromExponentialOptions,
  ): DDSketch {
    return fromExponentialHistogram(point, options);
  }

  /**
   * This sketch as a Prometheus native histogram (schema = scale, downscaled to 8 when finer), buckets
   * as spans and delta-encoded counts. The sketch must have a `scale`.
   *
   * @example
   * ```ts
   * const s = new DDSketch({ scale: 3 });
   * s.add(1.5);
   * s.toNativeHistogram().schema; // 3
   * ```
   */
  toNativeHistogram(): NativeHistogram {
    return toNativeHistogram(this);
  }

  #key(v: number): number {
    return this.#scale >= 0 ? exponentialKey(v, this.#scale) : this.#index.key(v);
  }

  /** Move every bucket to `scale` (≤ the current one), in place. */
  #rescale(scale: number): void {
    const by = this.#scale - scale;
    const target = new DDSketch({ scale, maxBuckets: this.maxBuckets });
    downscaleStore(this.#positive, by, target.#positive);
    downscaleStore(this.#negative, by, target.#negative);
    this.#alpha = target.#alpha;
    this.#gamma = target.#gamma;
    this.#multiplier = target.#multiplier;
    this.#index = target.#index;
    this.#scale = scale;
    this.#positive = target.#positive;
    this.#negative = target.#negative;
  }

  /** An empty sketch with exactly this γ and cap. */
  #sameShape(): DDSketch {
    return new DDSketch(exactGammaOptions(this.#gamma, this.maxBuckets, this.#alpha));
  }

  /** Representative value of bucket `k`: within α of every value in `(γ^(k-1), γ^k]`. */
  #valueOf(k: number): number {
    return (2 * Math.exp(k / this.#multiplier)) / (this.#gamma + 1);
  }

  #clamp(v: number): number {
    return Math.min(Math.max(v, this.#lo), this.#hi);
  }
}
