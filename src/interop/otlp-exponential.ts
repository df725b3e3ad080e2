import type { ExponentialHistogramPoint } from '../metrics/exponential.js';
import { downscaleKey, gammaOfScale } from '../metrics/exponential-mapping.js';

/**
 * The same point at a lower scale (exact: each bucket adds into the coarser bucket holding it).
 *
 * @example
 * ```ts
 * const coarse = downscalePoint(point, 4);
 * ```
 */
export function downscalePoint(p: ExponentialHistogramPoint, scale: number): ExponentialHistogramPoint {
  const by = p.scale - scale;
  const side = (b: ExponentialHistogramPoint['positive']) => {
    if (b.bucketCounts.length === 0) return { offset: 0, bucketCounts: [] as number[] };
    const first = downscaleKey(b.offset + 1, by) - 1;
    const last = downscaleKey(b.offset + b.bucketCounts.length, by) - 1;
    const counts = new Array<number>(last - first + 1).fill(0);
    b.bucketCounts.forEach((c, j) => {
      counts[downscaleKey(b.offset + j + 1, by) - 1 - first]! += c;
    });
    return { offset: first, bucketCounts: counts };
  };
  return { ...p, scale, positive: side(p.positive), negative: side(p.negative) };
}

/**
 * `cur − prev` of two cumulative points of one stream (at the coarser of their scales). When a count
 * went down (a reset the start time did not show), `cur` itself. min/max of the delta are `cur`'s
 * where they moved, else left to the buckets. Used on ingest (cumulative OTLP points into deltas) and
 * on export (delta temporality).
 *
 * @example
 * ```ts
 * const delta = subtractExponential(current, previous);
 * ```
 */
export function subtractExponential(
  cur: ExponentialHistogramPoint,
  prev: ExponentialHistogramPoint,
): ExponentialHistogramPoint {
  const scale = Math.min(cur.scale, prev.scale);
  const a = cur.scale > scale ? downscalePoint(cur, scale) : cur;
  const b = prev.scale > scale ? downscalePoint(prev, scale) : prev;
  const side = (x: ExponentialHistogramPoint['positive'], y: ExponentialHistogramPoint['positive']) => {
    const counts = [...x.bucketCounts];
    for (let j = 0; j < y.bucketCounts.length; j++) {
      const i = y.offset + j - x.offset;
      const c = y.bucketCounts[j]!;
      if (c === 0) continue;
      if (i < 0 || i >= counts.length || counts[i]! < c) return undefined;
      counts[i]! -= c;
    }
    return { offset: x.offset, bucketCounts: counts };
  };
  const positive = side(a.positive, b.positive);
  const negative = side(a.negative, b.negative);
  if (positive === undefined || negative === undefined || a.zeroCount < b.zeroCount || a.count < b.count)
    return cur;
  const delta: ExponentialHistogramPoint = {
    scale,
    count: a.count - b.count,
    zeroCount: a.zeroCount - b.zeroCount,
    zeroThreshold: a.zeroThreshold ?? 0,
    positive,
    negative,
  };
  if (a.sum !== undefined && b.sum !== undefined) delta.sum = a.sum - b.sum;
  // The cumulative min/max bound the delta's: exact where they moved in this interval, else the
  // tighter of them and the delta's outermost bucket bounds.
  const gamma = gammaOfScale(scale);
  const [lowB, highB] = bucketRange(delta, gamma);
  if (a.min !== undefined) delta.min = b.min === undefined || a.min < b.min ? a.min : Math.max(a.min, lowB);
  if (a.max !== undefined) delta.max = b.max === undefined || a.max > b.max ? a.max : Math.min(a.max, highB);
  if (delta.min !== undefined && delta.max !== undefined && delta.min > delta.max) delta.max = delta.min;
  return delta;
}

/** Lower and upper bounds of the values a point's non-empty buckets can hold. */
function bucketRange(p: ExponentialHistogramPoint, gamma: number): [number, number] {
  const first = (b: ExponentialHistogramPoint['positive']) => b.bucketCounts.findIndex((c) => c > 0);
  const last = (b: ExponentialHistogramPoint['positive']) => {
    for (let j = b.bucketCounts.length - 1; j >= 0; j--) if (b.bucketCounts[j]! > 0) return j;
    return -1;
  };
  const pf = first(p.positive);
  const nl = last(p.negative);
  const low =
    nl >= 0
      ? -(gamma ** (p.negative.offset + nl + 1))
      : p.zeroCount > 0
        ? 0
        : pf >= 0
          ? gamma ** (p.positive.offset + pf)
          : 0;
  const pl = last(p.positive);
  const nf = first(p.negative);
  const high =
    pl >= 0
      ? gamma ** (p.positive.offset + pl + 1)
      : p.zeroCount > 0
        ? 0
        : nf >= 0
          ? -(gamma ** (p.negative.offset + nf))
          : 0;
  return [low, high];
}
