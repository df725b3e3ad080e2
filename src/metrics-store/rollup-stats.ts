/**
 * The accumulator maths of a rollup slot, shared by every {@link MetricsStore}: Welford's one-pass
 * statistics, Chan et al.'s merge of two of them, and the conversions to and from the public
 * {@link RollupPoint}.
 */
import type { RawPoint, RollupPoint } from './types.js';

/**
 * Running statistics of a slot. `m2` is Welford's sum of squared deviations from the mean, so
 * population variance is `m2 / count`. `last` is the value with the latest timestamp.
 */
export interface RollupStats {
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  m2: number;
  last: number;
}

/** Fresh, empty statistics (count 0; min/max are ±Infinity until a value arrives). */
export function emptyStats(): RollupStats {
  return {
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    mean: 0,
    m2: 0,
    last: Number.NaN,
  };
}

/**
 * Add one value (Welford's one-pass update). Values must be added in timestamp order: the last one
 * added becomes `last`.
 */
export function addValue(s: RollupStats, value: number): void {
  const n = s.count + 1;
  const delta = value - s.mean;
  s.mean += delta / n;
  s.m2 += delta * (value - s.mean);
  s.count = n;
  s.sum += value;
  if (value < s.min) s.min = value;
  if (value > s.max) s.max = value;
  s.last = value;
}

/**
 * Merge `later` into `into` (Chan et al.'s parallel Welford combination through the grand mean, as
 * Blueflood's `Variance` does). `later` must cover times after `into`'s, because its `last` wins
 * (merging adjacent child slots in time order satisfies this). Empty stats merge as a no-op.
 */
export function mergeStats(into: RollupStats, later: Readonly<RollupStats>): void {
  if (later.count === 0) return;
  if (into.count === 0) {
    Object.assign(into, later);
    return;
  }
  const n = into.count + later.count;
  const delta = later.mean - into.mean;
  into.m2 += later.m2 + (delta * delta * into.count * later.count) / n;
  into.mean += (delta * later.count) / n;
  into.count = n;
  into.sum += later.sum;
  if (later.min < into.min) into.min = later.min;
  if (later.max > into.max) into.max = later.max;
  into.last = later.last;
}

/** Statistics of raw points, which must be sorted by `ts` (one value per timestamp, already combined). */
export function statsFromRaw(points: readonly RawPoint[]): RollupStats {
  const s = emptyStats();
  for (const p of points) addValue(s, p.value);
  return s;
}

/** Statistics of child rollup points merged in `ts` order (they are sorted here if needed). */
export function statsFromRollups(children: readonly RollupPoint[]): RollupStats {
  let sorted = children;
  for (let i = 1; i < children.length; i++) {
    if ((children[i] as RollupPoint).ts < (children[i - 1] as RollupPoint).ts) {
      sorted = [...children].sort((a, b) => a.ts - b.ts);
      break;
    }
  }
  const s = emptyStats();
  for (const c of sorted) mergeStats(s, statsFromRollupPoint(c));
  return s;
}

/** The public {@link RollupPoint} for a slot starting at `ts` (variance = M2 / count). */
export function toRollupPoint(ts: number, s: Readonly<RollupStats>): RollupPoint {
  return {
    ts,
    count: s.count,
    sum: s.sum,
    min: s.min,
    max: s.max,
    mean: s.mean,
    variance: s.count > 0 ? s.m2 / s.count : 0,
    last: s.last,
  };
}

/** Statistics back from a {@link RollupPoint} (M2 = variance × count). */
export function statsFromRollupPoint(p: Readonly<RollupPoint>): RollupStats {
  return {
    count: p.count,
    sum: p.sum,
    min: p.min,
    max: p.max,
    mean: p.mean,
    m2: p.variance * p.count,
    last: p.last,
  };
}
