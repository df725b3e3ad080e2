import { validationError } from '../errors.js';
import { asDDSketch, sketchInternals } from './sketch.js';
import type { QuantileSketch } from './types.js';

/**
 * Default classic-histogram bounds: powers of two from 2^-4 to 2^20 (0.0625 … 1 048 576, e.g. ms up
 * to 17 minutes). They are exact bucket bounds of every sketch with a `scale`, so those counts are
 * exact; for an accuracy-based sketch a bound is off by at most one sketch bucket (relative α).
 */
export const DEFAULT_PROMETHEUS_BUCKETS: readonly number[] = Object.freeze(
  Array.from({ length: 25 }, (_, i) => 2 ** (i - 4)),
);

/** Check classic-histogram bounds: finite, strictly increasing, at most 1000. */
export function checkBuckets(bounds: unknown, path: string): readonly number[] {
  if (!Array.isArray(bounds) || bounds.length === 0 || bounds.length > 1000)
    throw validationError(path, 'an array of 1 to 1000 bounds', bounds);
  bounds.forEach((b, i) => {
    if (typeof b !== 'number' || !Number.isFinite(b) || (i > 0 && b <= (bounds[i - 1] as number)))
      throw validationError(`${path}[${i}]`, 'finite, strictly increasing numbers', b);
  });
  return bounds as readonly number[];
}

/**
 * Cumulative counts `≤ bound` for each bound, from a sketch: a sketch bucket counts under a bound
 * when its whole range is ≤ the bound (exact where the bound is a bucket bound, e.g. a power of two
 * for a sketch with a scale); the exact min and max settle bounds outside the data. Counts never
 * decrease along the bounds and never exceed `count`.
 */
export function cumulativeBucketCounts(sketch: QuantileSketch, bounds: readonly number[]): number[] {
  const s = asDDSketch(sketch);
  const p = sketchInternals.parts(s);
  const exactPow2 = s.scale !== undefined;
  const pos = p.positive;
  const neg = p.negative;
  const lnBase = Math.log(s.base);
  const negTotal = storeTotal(neg, Number.NEGATIVE_INFINITY);
  // One sweep over the positive buckets: the bounds ascend, so does the last key each one takes.
  let k = pos.minKey;
  let acc = 0;
  return bounds.map((b) => {
    if (p.count === 0 || b < p.min) return 0;
    if (b >= p.max) return p.count;
    let n = 0;
    if (b >= 0) {
      n += p.zeroCount + negTotal;
      if (b > 0 && !pos.isEmpty) {
        const kb = sketchInternals.key(s, b);
        const onBound = (exactPow2 && isPow2(b)) || b >= Math.exp(kb * lnBase);
        const last = Math.min(onBound ? kb : kb - 1, pos.maxKey);
        for (; k <= last; k++) acc += pos.counts[k - pos.offset]!;
        n += acc;
      }
    } else if (!neg.isEmpty) {
      n += storeTotal(neg, sketchInternals.key(s, -b) + 1, Number.POSITIVE_INFINITY);
    }
    return Math.min(n, p.count);
  });
}

function storeTotal(
  store: { isEmpty: boolean; minKey: number; maxKey: number; offset: number; counts: Float64Array },
  from: number,
  to = Number.POSITIVE_INFINITY,
): number {
  if (store.isEmpty) return 0;
  let t = 0;
  const lo = Math.max(from, store.minKey);
  const hi = Math.min(to, store.maxKey);
  for (let k = lo; k <= hi; k++) t += store.counts[k - store.offset]!;
  return t;
}

function isPow2(v: number): boolean {
  return v > 0 && Number.isFinite(v) && 2 ** Math.round(Math.log2(v)) === v;
}
