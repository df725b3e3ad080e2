import { validationError } from '../errors.js';
import type { BucketStore } from './bucket-store.js';
import { downscaleKey, gammaOfScale, MAX_SKETCH_SCALE, MIN_SKETCH_SCALE } from './exponential-mapping.js';
import { DDSketch, DEFAULT_MAX_BUCKETS, sketchInternals } from './sketch.js';

/** One sign's buckets of an exponential histogram: `bucketCounts[j]` holds `(γ^(offset+j), γ^(offset+j+1)]`. */
export interface ExponentialBuckets {
  /** Index of the first bucket: `bucketCounts[0]` holds `(γ^offset, γ^(offset+1)]`. */
  offset: number;
  /** Count of each consecutive bucket from `offset` on. */
  bucketCounts: readonly number[];
}

/**
 * An OTLP `ExponentialHistogramDataPoint`'s values (without times and attributes), with numbers for
 * the 64-bit fields. Negative values are bucketed by magnitude.
 */
export interface ExponentialHistogramPoint {
  /** Resolution: bucket boundaries are powers of `γ = 2^(2^-scale)`; 0–20 here. */
  scale: number;
  /** Number of values: `zeroCount` plus every bucket count. */
  count: number;
  /** Exact sum; absent when the sender did not know it. */
  sum?: number;
  /** Smallest value recorded; absent when unknown (then estimated from the buckets). */
  min?: number;
  /** Largest value recorded; absent when unknown (then estimated from the buckets). */
  max?: number;
  /** Number of values whose magnitude is at most `zeroThreshold`. */
  zeroCount: number;
  /** Values of magnitude ≤ this are in `zeroCount`. Default 0. */
  zeroThreshold?: number;
  /** Buckets of the positive values. */
  positive: ExponentialBuckets;
  /** Buckets of the negative values, by magnitude. */
  negative: ExponentialBuckets;
}

/** A span of consecutive Prometheus native-histogram buckets (offset from the previous span's end). */
export interface NativeSpan {
  offset: number;
  length: number;
}

/**
 * A Prometheus native histogram (schema = scale, bucket index `i` holds `(base^(i-1), base^i]`),
 * buckets as spans and delta-encoded counts, as in the Prometheus protobuf `Histogram` message.
 */
export interface NativeHistogram {
  schema: number;
  count: number;
  sum: number;
  zeroThreshold: number;
  zeroCount: number;
  positiveSpans: NativeSpan[];
  positiveDeltas: number[];
  negativeSpans: NativeSpan[];
  negativeDeltas: number[];
}

/** Largest Prometheus native-histogram schema; a finer sketch is downscaled to it. */
export const MAX_NATIVE_SCHEMA = 8;

/**
 * The OTLP ExponentialHistogram form of a sketch that has a `scale` (`E_VALIDATION` otherwise: use
 * `rebucketToScale` first). Lossless: {@link fromExponentialHistogram} gives back an equal
 * sketch. Fractional counts (StatsD sample rates) are rounded, and `count` follows the rounding.
 *
 * @example
 * ```ts
 * const s = new DDSketch({ scale: 6 });
 * s.add(12.5);
 * const point = toExponentialHistogram(s); // { scale: 6, positive: { offset: 233, bucketCounts: [1] }, … }
 * ```
 */
export function toExponentialHistogram(sketch: DDSketch): ExponentialHistogramPoint {
  const scale = requireScale(sketch);
  const p = sketchInternals.parts(sketch);
  const positive = bucketsOf(p.positive);
  const negative = bucketsOf(p.negative);
  const zeroCount = Math.round(p.zeroCount);
  const count = zeroCount + total(positive.bucketCounts) + total(negative.bucketCounts);
  const point: ExponentialHistogramPoint = { scale, count, zeroCount, zeroThreshold: 0, positive, negative };
  if (p.count > 0) {
    point.sum = p.sum;
    point.min = p.min;
    point.max = p.max;
  }
  return point;
}

/** Options of {@link DDSketch.fromExponentialHistogram}. */
export interface FromExponentialOptions {
  /** Bucket cap per sign of the sketch; a wider histogram is downscaled until it fits. Default 2048. */
  maxBuckets?: number;
  /** Path named in validation errors. Default `point`. */
  path?: string;
}

/**
 * A sketch holding exactly the buckets of an OTLP exponential histogram point (scale 0–20; a wider
 * range than `maxBuckets` is downscaled exactly until it fits). Counts must be non-negative
 * integers adding up to `count`; a missing `sum`/`min`/`max` is estimated from the buckets. Bad input
 * throws `E_VALIDATION` with the field's path.
 *
 * @example
 * ```ts
 * const sketch = fromExponentialHistogram({ scale: 2, count: 2, zeroCount: 0,
 *   positive: { offset: -1, bucketCounts: [1, 0, 0, 1] }, negative: { offset: 0, bucketCounts: [] } });
 * sketch.quantile(1); // 1.5 (estimated max)
 * ```
 */
export function fromExponentialHistogram(
  point: ExponentialHistogramPoint,
  options: FromExponentialOptions = {},
): DDSketch {
  if (options === null || typeof options !== 'object') throw validationError('options', 'an object', options);
  const path = options.path ?? 'point';
  if (point === null || typeof point !== 'object')
    throw validationError(path, 'an exponential histogram point', point);
  const { scale } = point;
  if (!Number.isInteger(scale) || scale < MIN_SKETCH_SCALE || scale > MAX_SKETCH_SCALE)
    throw validationError(`${path}.scale`, `an integer in [${MIN_SKETCH_SCALE}, ${MAX_SKETCH_SCALE}]`, scale);
  const zeroCount = countOf(point.zeroCount, `${path}.zeroCount`);
  const pos = checkBuckets(point.positive, `${path}.positive`);
  const neg = checkBuckets(point.negative, `${path}.negative`);
  const count = countOf(point.count, `${path}.count`);
  if (zeroCount + pos.total + neg.total !== count)
    throw validationError(`${path}.count`, 'zeroCount plus every bucket count', count);
  const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  let by = 0;
  while (scale - by > MIN_SKETCH_SCALE && (span(pos, by) > maxBuckets || span(neg, by) > maxBuckets)) by++;
  if (span(pos, by) > maxBuckets || span(neg, by) > maxBuckets)
    throw validationError(`${path}.positive`, `a bucket range that fits ${maxBuckets} buckets`, 'wider');
  const sketch = new DDSketch({ scale: scale - by, maxBuckets });
  const parts = sketchInternals.parts(sketch);
  fill(parts.positive, point.positive, by);
  fill(parts.negative, point.negative, by);
  const gamma = gammaOfScale(scale);
  const min = optionalFinite(point.min, `${path}.min`);
  const max = optionalFinite(point.max, `${path}.max`);
  const sum = optionalFinite(point.sum, `${path}.sum`);
  if (min !== undefined && max !== undefined && min > max) throw validationError(`${path}.min`, '≤ max', min);
  const lowest = lowestValue(point, gamma, zeroCount);
  const highest = highestValue(point, gamma, zeroCount);
  sketchInternals.assign(sketch, {
    zeroCount,
    count,
    sum: sum ?? estimateSum(point, gamma),
    min: count === 0 ? Number.POSITIVE_INFINITY : (min ?? lowest),
    max: count === 0 ? Number.NEGATIVE_INFINITY : (max ?? highest),
  });
  return sketch;
}

/**
 * A copy of `sketch` with a scale: a sketch that already has one is returned downscaled (exactly) if
 * finer than `scale`; an accuracy-based sketch is re-bucketed by each bucket's representative value,
 * which adds up to that scale's relative error to every quantile.
 */
export function rebucketToScale(sketch: DDSketch, scale: number): DDSketch {
  if (sketch.scale !== undefined) return sketch.scale > scale ? sketch.downscaled(scale) : sketch.clone();
  const out = new DDSketch({ scale, maxBuckets: sketch.maxBuckets });
  const p = sketchInternals.parts(sketch);
  const gamma = sketch.base;
  for (const [store, sign] of [
    [p.positive, 1],
    [p.negative, -1],
  ] as const) {
    if (store.isEmpty) continue;
    for (let k = store.minKey; k <= store.maxKey; k++) {
      const c = store.counts[k - store.offset]!;
      if (c !== 0) out.add((sign * 2 * gamma ** k) / (gamma + 1), c);
    }
  }
  if (p.zeroCount > 0) out.add(0, p.zeroCount);
  sketchInternals.assign(out, {
    zeroCount: p.zeroCount,
    count: p.count,
    sum: p.sum,
    min: p.min,
    max: p.max,
  });
  return out;
}

/**
 * The Prometheus native-histogram form of a sketch with a scale (downscaled to schema 8 when finer).
 * `fromNativeHistogram` reads it back.
 */
export function toNativeHistogram(sketch: DDSketch): NativeHistogram {
  const scale = requireScale(sketch);
  const point = toExponentialHistogram(
    scale > MAX_NATIVE_SCHEMA ? sketch.downscaled(MAX_NATIVE_SCHEMA) : sketch,
  );
  const pos = toSpans(point.positive);
  const neg = toSpans(point.negative);
  return {
    schema: point.scale,
    count: point.count,
    sum: point.sum ?? 0,
    zeroThreshold: 0,
    zeroCount: point.zeroCount,
    positiveSpans: pos.spans,
    positiveDeltas: pos.deltas,
    negativeSpans: neg.spans,
    negativeDeltas: neg.deltas,
  };
}

/** A sketch from a Prometheus native histogram (schema 0–8); `E_VALIDATION` on bad input. */
export function fromNativeHistogram(h: NativeHistogram, options: FromExponentialOptions = {}): DDSketch {
  const path = options.path ?? 'histogram';
  return fromExponentialHistogram(
    {
      scale: h.schema,
      count: h.count,
      sum: h.sum,
      zeroCount: h.zeroCount,
      zeroThreshold: h.zeroThreshold,
      positive: fromSpans(h.positiveSpans, h.positiveDeltas, `${path}.positiveSpans`),
      negative: fromSpans(h.negativeSpans, h.negativeDeltas, `${path}.negativeSpans`),
    },
    { ...options, path },
  );
}

function requireScale(sketch: DDSketch): number {
  if (!(sketch instanceof DDSketch)) throw validationError('sketch', 'a DDSketch', sketch);
  const scale = sketch.scale;
  if (scale === undefined) throw validationError('sketch.scale', 'a sketch created with a scale', undefined);
  return scale;
}

function bucketsOf(store: BucketStore): ExponentialBuckets {
  if (store.isEmpty) return { offset: 0, bucketCounts: [] };
  const counts: number[] = [];
  for (let k = store.minKey; k <= store.maxKey; k++) counts.push(Math.round(store.counts[k - store.offset]!));
  return { offset: store.minKey - 1, bucketCounts: counts };
}

function total(counts: readonly number[]): number {
  let t = 0;
  for (const c of counts) t += c;
  return t;
}

function countOf(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw validationError(path, 'a non-negative integer', v);
  return v;
}

function optionalFinite(v: unknown, path: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw validationError(path, 'a finite number', v);
  return v;
}

/** Widest bucket range read from native-histogram spans. */
const MAX_NATIVE_SPAN = 1 << 20;
/** Indexes are bounded so that keys stay exact small integers everywhere. */
const MAX_INDEX = 0x1fffffff;

function checkBuckets(b: ExponentialBuckets, path: string): { total: number; first: number; last: number } {
  if (b === null || typeof b !== 'object') throw validationError(path, 'an object', b);
  if (!Number.isInteger(b.offset) || Math.abs(b.offset) > MAX_INDEX)
    throw validationError(`${path}.offset`, `an integer of magnitude ≤ ${MAX_INDEX}`, b.offset);
  if (!Array.isArray(b.bucketCounts))
    throw validationError(`${path}.bucketCounts`, 'an array', b.bucketCounts);
  if (b.offset + b.bucketCounts.length > MAX_INDEX)
    throw validationError(`${path}.bucketCounts`, 'fewer buckets', b.bucketCounts.length);
  let t = 0;
  let first = -1;
  let last = -1;
  for (let j = 0; j < b.bucketCounts.length; j++) {
    const c = countOf(b.bucketCounts[j], `${path}.bucketCounts[${j}]`);
    if (c > 0) {
      if (first < 0) first = j;
      last = j;
    }
    t += c;
  }
  if (!Number.isSafeInteger(t)) throw validationError(`${path}.bucketCounts`, 'a total below 2^53', t);
  return { total: t, first: b.offset + first, last: b.offset + last };
}

/** Buckets spanned after downscaling by `by` (0 when empty). */
function span(r: { total: number; first: number; last: number }, by: number): number {
  if (r.total === 0) return 0;
  return downscaleKey(r.last + 1, by) - downscaleKey(r.first + 1, by) + 1;
}

function fill(store: BucketStore, b: ExponentialBuckets, by: number): void {
  for (let j = 0; j < b.bucketCounts.length; j++) {
    const c = b.bucketCounts[j]!;
    if (c > 0) store.add(downscaleKey(b.offset + j + 1, by), c);
  }
}

function nonEmpty(b: ExponentialBuckets): { first: number; last: number } | undefined {
  let first = -1;
  let last = -1;
  b.bucketCounts.forEach((c, j) => {
    if (c > 0) {
      if (first < 0) first = j;
      last = j;
    }
  });
  return first < 0 ? undefined : { first: b.offset + first, last: b.offset + last };
}

/** The smallest value the buckets allow (a bucket's lower bound is exclusive: use its midpoint). */
function lowestValue(p: ExponentialHistogramPoint, gamma: number, zeroCount: number): number {
  const neg = nonEmpty(p.negative);
  if (neg !== undefined) return -(gamma ** (neg.last + 1));
  if (zeroCount > 0) return 0;
  const pos = nonEmpty(p.positive);
  return pos === undefined ? 0 : gamma ** pos.first;
}

function highestValue(p: ExponentialHistogramPoint, gamma: number, zeroCount: number): number {
  const pos = nonEmpty(p.positive);
  if (pos !== undefined) return gamma ** (pos.last + 1);
  if (zeroCount > 0) return 0;
  const neg = nonEmpty(p.negative);
  return neg === undefined ? 0 : -(gamma ** neg.first);
}

function estimateSum(p: ExponentialHistogramPoint, gamma: number): number {
  let s = 0;
  const mid = (i: number) => (2 * gamma ** (i + 1)) / (gamma + 1);
  p.positive.bucketCounts.forEach((c, j) => {
    s += c * mid(p.positive.offset + j);
  });
  p.negative.bucketCounts.forEach((c, j) => {
    s -= c * mid(p.negative.offset + j);
  });
  return s;
}

function toSpans(b: ExponentialBuckets): { spans: NativeSpan[]; deltas: number[] } {
  const spans: NativeSpan[] = [];
  const deltas: number[] = [];
  let prevCount = 0;
  let prevEnd: number | undefined;
  b.bucketCounts.forEach((c, j) => {
    if (c === 0) return;
    const index = b.offset + j + 1;
    const last = spans[spans.length - 1];
    if (last !== undefined && prevEnd === index) last.length++;
    else spans.push({ offset: prevEnd === undefined ? index : index - prevEnd, length: 1 });
    prevEnd = index + 1;
    deltas.push(c - prevCount);
    prevCount = c;
  });
  return { spans, deltas };
}

function fromSpans(
  spans: readonly NativeSpan[],
  deltas: readonly number[],
  path: string,
): ExponentialBuckets {
  if (!Array.isArray(spans) || !Array.isArray(deltas))
    throw validationError(path, 'arrays of spans and deltas', spans);
  const byIndex = new Map<number, number>();
  let index = 0;
  let d = 0;
  let count = 0;
  spans.forEach((s, i) => {
    if (!Number.isInteger(s.offset) || !Number.isInteger(s.length) || s.length < 0 || (i > 0 && s.offset < 0))
      throw validationError(`${path}[${i}]`, 'a span with integer offset and length', s);
    index += s.offset;
    for (let j = 0; j < s.length; j++, index++, d++) {
      if (d >= deltas.length) throw validationError(path, 'as many deltas as span buckets', deltas.length);
      count += deltas[d]!;
      byIndex.set(index, count);
    }
  });
  if (d !== deltas.length) throw validationError(path, 'as many deltas as span buckets', deltas.length);
  if (byIndex.size === 0) return { offset: 0, bucketCounts: [] };
  const keys = [...byIndex.keys()];
  const first = keys[0]!;
  const lastIndex = keys[keys.length - 1]!;
  if (lastIndex - first > MAX_NATIVE_SPAN)
    throw validationError(path, 'a bounded bucket range', lastIndex - first);
  const counts = new Array<number>(lastIndex - first + 1).fill(0);
  for (const [i, c] of byIndex) counts[i - first] = c;
  return { offset: first - 1, bucketCounts: counts };
}
