/**
 * The rollup steps shared by every {@link MetricsStore}: combining what several sources wrote for a
 * timestamp, rolling a slot from raw points (5m) or from its children (1h, 1d), and merging the
 * sketches of a slot. The statistics live in ./rollup-stats.ts, the slots and their retention in
 * ./rollup-slots.ts.
 */
import { FleetwatchError, validationError } from '../errors.js';
import { asDDSketch, DDSketch, decodeSketch } from '../metrics/sketch.js';
import type { RollupResolution } from './rollup-slots.js';
import { addValue, emptyStats, statsFromRollups, toRollupPoint } from './rollup-stats.js';
import type { CombinePolicy, PercentileResult, RawPoint, RollupPoint } from './types.js';
import { RESOLUTION_MS } from './types.js';

// ---------------------------------------------------------------------------------------------
// Combining sources

/** One stored raw value: what `source` wrote for a timestamp, and when (for `last`). */
export interface SourcedValue {
  ts: number;
  value: number;
  source: string;
  /**
   * Write order: a store clock reading or sequence number taken when the value was written. The same
   * source's later write replaces its earlier one; for the `last` policy the latest write wins.
   */
  writtenAt: number;
}

/**
 * Combine the values several sources wrote for one timestamp by `policy`. Entries must all have the
 * same `ts` and at most one entry per source (see {@link combineRaw} for deduplication). `last` takes
 * the latest `writtenAt` (ties: the greatest source id, so every store agrees).
 */
export function combineValues(policy: CombinePolicy, values: readonly SourcedValue[]): number {
  const first = values[0];
  if (first === undefined) return Number.NaN;
  if (values.length === 1) return first.value;
  switch (policy) {
    case 'sum': {
      let s = 0;
      for (const v of values) s += v.value;
      return s;
    }
    case 'min': {
      let m = first.value;
      for (const v of values) if (v.value < m) m = v.value;
      return m;
    }
    case 'max': {
      let m = first.value;
      for (const v of values) if (v.value > m) m = v.value;
      return m;
    }
    case 'avg': {
      let s = 0;
      for (const v of values) s += v.value;
      return s / values.length;
    }
    default: {
      let best = first;
      for (const v of values) {
        if (v.writtenAt > best.writtenAt || (v.writtenAt === best.writtenAt && v.source > best.source))
          best = v;
      }
      return best.value;
    }
  }
}

/**
 * Turn stored raw rows (any order, possibly several per timestamp from several sources, possibly
 * the same source twice) into one point per timestamp, sorted by `ts`: for each (ts, source) the
 * latest write is kept (idempotent resend), then sources are combined by `policy`.
 */
export function combineRaw(rows: readonly SourcedValue[], policy: CombinePolicy): RawPoint[] {
  const sorted = [...rows].sort(
    (a, b) =>
      a.ts - b.ts || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0) || a.writtenAt - b.writtenAt,
  );
  const out: RawPoint[] = [];
  const group: SourcedValue[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const row = sorted[i] as SourcedValue;
    const next = sorted[i + 1];
    // keep only the latest write of each (ts, source): the last one in this order
    if (next !== undefined && next.ts === row.ts && next.source === row.source) continue;
    group.push(row);
    if (next === undefined || next.ts !== row.ts) {
      out.push({ ts: row.ts, value: combineValues(policy, group) });
      group.length = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rolling

/**
 * Roll one 5m slot from combined raw points: the points inside `[start, start + 5m)` (any others are
 * ignored), in ts order. Returns undefined when the slot has no points.
 */
export function rollup5mFromRaw(start: number, points: readonly RawPoint[]): RollupPoint | undefined {
  const end = start + RESOLUTION_MS['5m'];
  const s = emptyStats();
  let sorted = true;
  for (let i = 1; i < points.length; i++) {
    if ((points[i] as RawPoint).ts < (points[i - 1] as RawPoint).ts) sorted = false;
  }
  const list = sorted ? points : [...points].sort((a, b) => a.ts - b.ts);
  for (const p of list) if (p.ts >= start && p.ts < end) addValue(s, p.value);
  return s.count === 0 ? undefined : toRollupPoint(start, s);
}

/**
 * Roll one slot of `res` (1h or 1d; 5m is accepted too, from raw, via {@link rollup5mFromRaw}) from
 * the child rollup points of the next finer resolution that start inside it. Returns undefined when
 * there are none.
 */
export function rollupFromChildren(
  res: Exclude<RollupResolution, '5m'>,
  start: number,
  children: readonly RollupPoint[],
): RollupPoint | undefined {
  const end = start + RESOLUTION_MS[res];
  const inside = children.filter((c) => c.ts >= start && c.ts < end && c.count > 0);
  if (inside.length === 0) return undefined;
  return toRollupPoint(start, statsFromRollups(inside));
}

// ---------------------------------------------------------------------------------------------
// Sketches

/**
 * Decode a written sketch, turning a malformed one into `E_VALIDATION` at `path`
 * (`points[3].sketch`), so a bad sketch rejects the batch like any other bad field.
 */
export function decodeSketchAt(bytes: Uint8Array, path: string): DDSketch {
  try {
    return decodeSketch(bytes);
  } catch (err) {
    const reason = err instanceof FleetwatchError ? err.message : String(err);
    throw validationError(path, `a sketch in DDSketch#encode() form (${reason})`, bytes, { cause: err });
  }
}

/**
 * Merge encoded sketches (or decoded ones) into one, exactly: DDSketch merging adds bucket counts, so
 * the result answers every quantile as if built from all the values. Returns undefined for an empty
 * list. All must share one relative accuracy (bucket base γ), or all have a scale (the finer are
 * downscaled to the coarsest, exactly); otherwise `E_VALIDATION`.
 */
export function mergeSketches(sketches: Iterable<Uint8Array | DDSketch>): DDSketch | undefined {
  let out: DDSketch | undefined;
  for (const s of sketches) {
    const d = asDDSketch(s);
    if (out === undefined) out = d instanceof DDSketch && d !== s ? d : d.clone();
    else out.merge(d);
  }
  return out;
}

/**
 * The sketch rows of one slot with each (ts, source)'s latest write kept and the rest merged: what a
 * sketch rollup slot or a raw segment holds. Rows may come in any order; `writtenAt` orders a
 * source's rewrites.
 */
export function latestSketchRows<T extends { ts: number; source: string; writtenAt: number }>(
  rows: readonly T[],
): T[] {
  const best = new Map<string, T>();
  for (const r of rows) {
    const k = `${r.ts}\u0000${r.source}`;
    const cur = best.get(k);
    if (cur === undefined || r.writtenAt >= cur.writtenAt) best.set(k, r);
  }
  return [...best.values()];
}

/** The {@link PercentileResult} of one series from its merged sketch (`quantiles` keyed `String(q)`). */
export function percentileResult(
  metric: string,
  tags: Record<string, string>,
  sketch: DDSketch,
  quantiles: readonly number[],
): PercentileResult {
  const q: Record<string, number> = {};
  for (const x of quantiles) q[String(x)] = sketch.quantile(x);
  return {
    metric,
    tags,
    count: sketch.count,
    sum: sketch.sum,
    min: sketch.min,
    max: sketch.max,
    quantiles: q,
  };
}
