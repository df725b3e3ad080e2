/**
 * Rollup math shared by every {@link MetricsStore}: Welford accumulation and merging, slot math,
 * retention expiry, combine-policy application, and the raw → 5m → 1h → 1d rollup steps plus a
 * dirty-slot tracker that says what to roll once a slot closes.
 *
 * A rollup slot of resolution `r` starting at `s` covers `[s, s + RESOLUTION_MS[r])`, aligned to the
 * Unix epoch (UTC). 5m is built from raw, 1h from 5m, 1d from 1h (as Blueflood does), so each level
 * only ever reads the next finer one.
 */
import { FleetwatchError, validationError } from '../errors.js';
import { asDDSketch, DDSketch, decodeSketch } from '../metrics/sketch.js';
import type {
  CombinePolicy,
  PercentileResult,
  RawPoint,
  Resolution,
  Retention,
  RollupPoint,
} from './types.js';
import { RESOLUTION_MS } from './types.js';

/** A resolution that has slots: `5m`, `1h` or `1d`. */
export type RollupResolution = Exclude<Resolution, 'raw'>;

/** The rollup resolutions, finest first. */
export const ROLLUP_RESOLUTIONS: readonly RollupResolution[] = ['5m', '1h', '1d'];

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

// ---------------------------------------------------------------------------------------------
// Slot math and retention

/** Start of the slot of resolution `res` containing `ts` (epoch-aligned, UTC). */
export function slotStart(ts: number, res: RollupResolution): number {
  const w = RESOLUTION_MS[res];
  return Math.floor(ts / w) * w;
}

/** End (exclusive) of the slot of resolution `res` containing `ts`. */
export function slotEnd(ts: number, res: RollupResolution): number {
  return slotStart(ts, res) + RESOLUTION_MS[res];
}

/** The resolution a rollup is built from: 5m ← raw, 1h ← 5m, 1d ← 1h. */
export function sourceResolution(res: RollupResolution): Resolution {
  return res === '5m' ? 'raw' : res === '1h' ? '5m' : '1h';
}

/** The rollup built from `res`: raw → 5m, 5m → 1h, 1h → 1d, 1d → none. */
export function parentResolution(res: Resolution): RollupResolution | undefined {
  return res === 'raw' ? '5m' : res === '5m' ? '1h' : res === '1h' ? '1d' : undefined;
}

/** True when the slot of `res` starting at `start` has ended at `now` (and can be rolled). */
export function isSlotClosed(start: number, res: RollupResolution, now: number): boolean {
  return now >= start + RESOLUTION_MS[res];
}

/**
 * When data at `ts` and resolution `res` expires: the end of its slot plus the retention (for raw,
 * the end of its 5m slot). Whole slots expire together, so a late point accepted inside the raw
 * window always finds the rest of its 5m slot still there to re-roll with. A Cassandra TTL for the
 * row is `ceil((expiresAt - now) / 1000)` seconds.
 */
export function expiresAt(ts: number, res: Resolution, retention: Readonly<Retention>): number {
  return slotEnd(ts, res === 'raw' ? '5m' : res) + retention[res];
}

/** True while data at `ts` and `res` is still retained at `now` (stores filter reads with this). */
export function isRetained(
  ts: number,
  res: Resolution,
  retention: Readonly<Retention>,
  now: number,
): boolean {
  return now < expiresAt(ts, res, retention);
}

/** The oldest slot start (of `res`, or 5m for raw) still retained at `now`: data before it is gone. */
export function oldestRetained(res: Resolution, retention: Readonly<Retention>, now: number): number {
  const r: RollupResolution = res === 'raw' ? '5m' : res;
  // expiresAt(ts) > now  ⇔  slotEnd(ts) > now - retention  ⇔  the smallest such slot start is the
  // start of the slot containing now - retention.
  return slotStart(now - retention[res], r);
}

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

/** A slot that needs (re)rolling: of which series, which resolution, starting when. */
export interface DirtySlot<K> {
  series: K;
  res: RollupResolution;
  start: number;
}

/**
 * Which slots need rolling. A write at `ts` marks the 5m slot of `ts` dirty ({@link markRaw}); rolling
 * a slot marks its parent dirty. {@link DirtySlots.takeClosed} hands out every dirty slot that has
 * closed at `now`, finest first, so a 1h slot is rolled only after its 5m children. A late point simply
 * marks its (closed) slot dirty again and it is rolled on the next pass.
 *
 * `K` identifies a series (a key string, or the store's own series object).
 */
export class DirtySlots<K> {
  readonly #dirty: Record<RollupResolution, Map<K, Set<number>>> = {
    '5m': new Map(),
    '1h': new Map(),
    '1d': new Map(),
  };

  /** Mark the slot of `res` containing `ts` dirty for `series`. */
  mark(series: K, res: RollupResolution, ts: number): void {
    const map = this.#dirty[res];
    let set = map.get(series);
    if (set === undefined) {
      set = new Set();
      map.set(series, set);
    }
    set.add(slotStart(ts, res));
  }

  /** Mark the 5m slot of a raw point at `ts` dirty. */
  markRaw(series: K, ts: number): void {
    this.mark(series, '5m', ts);
  }

  /** Number of dirty slots (all resolutions). */
  get size(): number {
    let n = 0;
    for (const res of ROLLUP_RESOLUTIONS) for (const set of this.#dirty[res].values()) n += set.size;
    return n;
  }

  /** Forget every dirty slot of `series` (when it is deleted). */
  forget(series: K): void {
    for (const res of ROLLUP_RESOLUTIONS) this.#dirty[res].delete(series);
  }

  /**
   * Remove and return the dirty slots of `res` that are closed at `now` (optionally only for the
   * series in `only`), sorted by series insertion order then start. Roll them, then call
   * {@link mark} on the parent resolution for each rolled slot.
   */
  takeClosed(res: RollupResolution, now: number, only?: ReadonlySet<K>): DirtySlot<K>[] {
    const out: DirtySlot<K>[] = [];
    const map = this.#dirty[res];
    for (const [series, set] of map) {
      if (only !== undefined && !only.has(series)) continue;
      const starts = [...set].filter((s) => isSlotClosed(s, res, now)).sort((a, b) => a - b);
      for (const start of starts) {
        set.delete(start);
        out.push({ series, res, start });
      }
      if (set.size === 0) map.delete(series);
    }
    return out;
  }
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
