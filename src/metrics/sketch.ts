/**
 * A DDSketch-style quantile sketch (Masson, Rim, Lee, VLDB 2019): values fall into logarithmic
 * buckets `(γ^(k-1), γ^k]` with `γ = (1+α)/(1-α)`, so every quantile is returned within relative
 * error `α` of the true one — and merging sketches is adding bucket counts, so a sketch merged from
 * many processes is exactly as accurate as one built on the union. Percentiles are never averaged.
 */
import { rejectUnknownKeys } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import { BucketStore } from './bucket-store.js';
import { ByteReader, ByteWriter } from './bytes.js';
import {
  type ExponentialHistogramPoint,
  type FromExponentialOptions,
  fromExponentialHistogram,
  type NativeHistogram,
  toExponentialHistogram,
  toNativeHistogram,
} from './exponential.js';
import {
  downscaleKey,
  exponentialKey,
  gammaOfScale,
  MAX_SKETCH_SCALE,
  MIN_SKETCH_SCALE,
  scaleOfGamma,
} from './exponential-mapping.js';
import { type LogIndex, logIndexFor } from './log-index.js';
import type { QuantileSketch } from './types.js';

/** Options of {@link DDSketch}. */
export interface DDSketchOptions {
  /** Relative accuracy α of every quantile, in (0, 0.5]. Default 0.01 (1%). */
  relativeAccuracy?: number;
  /**
   * Most buckets kept per sign (positive, negative). Past it the lowest buckets collapse, which
   * costs accuracy only for the lowest quantiles. Default 2048 (at 1%: 80 µs to a year in ms).
   */
  maxBuckets?: number;
  /**
   * Use the base-2 exponential mapping of OpenTelemetry exponential histograms and Prometheus native
   * histograms instead of `relativeAccuracy`: `γ = 2^(2^-scale)`, an integer in [0, 20] (5 ≈ 1.08%,
   * 6 ≈ 0.54%, 7 ≈ 0.27%). Such a sketch converts to an OTLP ExponentialHistogram and back without
   * loss (the OTLP exporter sends it as one), and merges with a sketch of another scale by downscaling
   * the finer one exactly. Give either `scale` or `relativeAccuracy`, not both.
   */
  scale?: number;
}

/** Default relative accuracy of {@link DDSketch}. */
export const DEFAULT_RELATIVE_ACCURACY = 0.01;
/** Default bucket cap of {@link DDSketch}. */
export const DEFAULT_MAX_BUCKETS = 2048;
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

/** Encoding version written by {@link DDSketch.encode}. */
export const SKETCH_ENCODING_VERSION = 1;

const MAX_BUCKETS_LIMIT = 1 << 20;
/** Magnitudes at or below this go to the zero bucket (smallest normal double). */
const MIN_INDEXABLE = 2.2250738585072014e-308;
const FLAG_FLOAT_COUNTS = 1;
/** Module-private option key carrying an exact γ (decoded or copied), invisible to `Object.keys`. */
const GAMMA = Symbol('gamma');
interface InternalOptions extends DDSketchOptions {
  [GAMMA]?: number;
}

/**
 * A mergeable quantile sketch with relative-error guarantees. See the module doc.
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
    if (typeof options !== 'object' || options === null)
      throw validationError('options', 'an object', options);
    rejectUnknownKeys(options, ['relativeAccuracy', 'maxBuckets', 'scale']);
    const internalGamma = (options as InternalOptions)[GAMMA];
    let scale = internalGamma === undefined ? -1 : (scaleOfGamma(internalGamma) ?? -1);
    if (options.scale !== undefined) {
      if (
        !Number.isInteger(options.scale) ||
        options.scale < MIN_SKETCH_SCALE ||
        options.scale > MAX_SKETCH_SCALE
      ) {
        throw validationError(
          'options.scale',
          `an integer in [${MIN_SKETCH_SCALE}, ${MAX_SKETCH_SCALE}]`,
          options.scale,
        );
      }
      if (options.relativeAccuracy !== undefined && internalGamma === undefined)
        throw validationError(
          'options.relativeAccuracy',
          'absent when scale is given',
          options.relativeAccuracy,
        );
      scale = options.scale;
    }
    const scaleGamma = scale >= 0 ? gammaOfScale(scale) : undefined;
    const alpha =
      scaleGamma !== undefined
        ? (scaleGamma - 1) / (scaleGamma + 1)
        : (options.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY);
    if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 0.5)) {
      throw validationError('options.relativeAccuracy', 'a number in (0, 0.5]', alpha);
    }
    const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
    if (!Number.isInteger(maxBuckets) || maxBuckets < 1 || maxBuckets > MAX_BUCKETS_LIMIT) {
      throw validationError('options.maxBuckets', `an integer in [1, ${MAX_BUCKETS_LIMIT}]`, maxBuckets);
    }
    this.#alpha = alpha;
    this.maxBuckets = maxBuckets;
    this.#scale = scale;
    this.#gamma = scaleGamma ?? internalGamma ?? (1 + alpha) / (1 - alpha);
    this.#multiplier = 1 / Math.log(this.#gamma);
    this.#index = logIndexFor(this.#gamma);
    this.#positive = new BucketStore(maxBuckets);
    this.#negative = new BucketStore(maxBuckets);
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
    let o = other instanceof DDSketch ? other : decodeSketch(other.encode());
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
    const floatCounts =
      !Number.isSafeInteger(this.#n) ||
      !Number.isSafeInteger(this.#zeroCount) ||
      !isIntegral(this.#positive) ||
      !isIntegral(this.#negative);
    const w = new ByteWriter(32 + 2 * (this.#span(this.#positive) + this.#span(this.#negative)));
    w.u8(SKETCH_ENCODING_VERSION);
    w.u8(floatCounts ? FLAG_FLOAT_COUNTS : 0);
    w.f64(this.#gamma);
    w.uvarint(this.maxBuckets);
    const num = floatCounts ? (v: number) => w.f64(v) : (v: number) => w.uvarint(v);
    num(this.#n);
    num(this.#zeroCount);
    if (this.#n > 0) {
      w.f64(this.#total);
      w.f64(this.#lo);
      w.f64(this.#hi);
    }
    for (const store of [this.#positive, this.#negative]) {
      const span = this.#span(store);
      w.uvarint(span);
      if (span === 0) continue;
      w.svarint(store.minKey);
      for (let k = store.minKey; k <= store.maxKey; k++) num(store.counts[k - store.offset]!);
    }
    return w.finish();
  }

  /**
   * Read a sketch written by {@link DDSketch.encode} (in this process or another). Malformed bytes
   * (truncated, unknown version, inconsistent counts) throw `FleetwatchError` `E_MALFORMED_RESPONSE`,
   * never a crash or a silently wrong sketch; a value that is not a `Uint8Array` throws `E_VALIDATION`.
   *
   * @example
   * ```ts
   * const bytes = sketch.encode();          // e.g. stored, or sent to another process
   * const copy = DDSketch.decode(bytes);
   * copy.quantile(0.99) === sketch.quantile(0.99); // true
   * ```
   */
  static decode(bytes: Uint8Array): DDSketch {
    try {
      return DDSketch.#decodeUnchecked(bytes);
    } catch (err) {
      if (err instanceof FleetwatchError) throw err;
      throw new FleetwatchError('E_MALFORMED_RESPONSE', 'sketch: cannot decode', { cause: err });
    }
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

  static #decodeUnchecked(bytes: Uint8Array): DDSketch {
    if (!(bytes instanceof Uint8Array)) throw validationError('bytes', 'a Uint8Array', bytes);
    const r = new ByteReader(bytes, 'sketch');
    const version = r.u8();
    if (version !== SKETCH_ENCODING_VERSION) throw r.fail(`unknown sketch version ${version}`);
    const flags = r.u8();
    if ((flags & ~FLAG_FLOAT_COUNTS) !== 0) throw r.fail('unknown flags');
    const gamma = r.f64();
    if (!(gamma > 1 && gamma <= 3)) throw r.fail('gamma out of range');
    const maxBuckets = r.uvarint();
    if (maxBuckets < 1 || maxBuckets > MAX_BUCKETS_LIMIT) throw r.fail('maxBuckets out of range');
    const num =
      (flags & FLAG_FLOAT_COUNTS) !== 0
        ? () => {
            const v = r.f64();
            if (!(v >= 0 && v < Number.POSITIVE_INFINITY)) throw r.fail('bad count');
            return v;
          }
        : () => r.uvarint();
    const s = new DDSketch({
      relativeAccuracy: (gamma - 1) / (gamma + 1),
      maxBuckets,
      [GAMMA]: gamma,
    } as DDSketchOptions);
    const n = num();
    s.#zeroCount = num();
    if (n > 0) {
      s.#total = r.f64();
      s.#lo = r.f64();
      s.#hi = r.f64();
      // The sum may legitimately have overflowed to ±Infinity (or NaN from +Inf + −Inf); min/max may not.
      if (!Number.isFinite(s.#lo) || !Number.isFinite(s.#hi) || s.#lo > s.#hi) {
        throw r.fail('bad min/max');
      }
    }
    let binTotal = s.#zeroCount;
    for (const store of [s.#positive, s.#negative]) {
      const span = r.uvarint();
      if (span === 0) continue;
      if (span > maxBuckets || span > r.remaining) throw r.fail('store span out of range');
      const minKey = r.svarint();
      if (Math.abs(minKey) > 0x1fffffff) throw r.fail('bucket key out of range');
      store.reserve(minKey, minKey + span - 1);
      for (let k = minKey; k < minKey + span; k++) {
        const c = num();
        if (c > 0) store.add(k, c);
        binTotal += c;
      }
      if (store.isEmpty || store.minKey !== minKey || store.maxKey !== minKey + span - 1) {
        throw r.fail('store ends with empty buckets');
      }
    }
    if (r.remaining !== 0) throw r.fail('trailing bytes');
    const tolerance = (flags & FLAG_FLOAT_COUNTS) !== 0 ? 1e-9 * Math.max(1, n) : 0;
    if (Math.abs(binTotal - n) > tolerance) throw r.fail('count does not match buckets');
    s.#n = n;
    return s;
  }

  #key(v: number): number {
    return this.#scale >= 0 ? exponentialKey(v, this.#scale) : this.#index.key(v);
  }

  /** Move every bucket to `scale` (≤ the current one), in place. */
  #rescale(scale: number): void {
    const by = this.#scale - scale;
    const target = new DDSketch({ scale, maxBuckets: this.maxBuckets });
    for (const [from, to] of [
      [this.#positive, target.#positive],
      [this.#negative, target.#negative],
    ] as const) {
      if (from.isEmpty) continue;
      to.reserve(downscaleKey(from.minKey, by), downscaleKey(from.maxKey, by));
      for (let k = from.minKey; k <= from.maxKey; k++) {
        const c = from.counts[k - from.offset]!;
        if (c !== 0) to.add(downscaleKey(k, by), c);
      }
    }
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
    const options: InternalOptions = {
      relativeAccuracy: this.relativeAccuracy,
      maxBuckets: this.maxBuckets,
      [GAMMA]: this.#gamma,
    };
    return new DDSketch(options);
  }

  #span(store: BucketStore): number {
    return store.isEmpty ? 0 : store.maxKey - store.minKey + 1;
  }

  /** Representative value of bucket `k`: within α of every value in `(γ^(k-1), γ^k]`. */
  #valueOf(k: number): number {
    return (2 * Math.exp(k / this.#multiplier)) / (this.#gamma + 1);
  }

  #clamp(v: number): number {
    return Math.min(Math.max(v, this.#lo), this.#hi);
  }
}

function isIntegral(store: BucketStore): boolean {
  if (store.isEmpty) return true;
  for (let k = store.minKey; k <= store.maxKey; k++) {
    if (!Number.isSafeInteger(store.counts[k - store.offset]!)) return false;
  }
  return true;
}

/** {@link DDSketch.decode}, as a function (for callers that pass it around). */
export function decodeSketch(bytes: Uint8Array): DDSketch {
  return DDSketch.decode(bytes);
}
