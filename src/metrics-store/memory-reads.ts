import type { FleetReader, SketchRow as FleetSketchRow } from './fleet.js';
import { keysInRange, type RawBucket } from './memory-buckets.js';
import type { MemoryStoreState, SeriesData, SketchRow } from './memory-state.js';
import type { CoverSegment } from './resolution.js';
import { isRetained, type RollupResolution } from './rollup-slots.js';
import type { RawPoint, Resolution, RollupPoint } from './types.js';
import { RESOLUTION_MS } from './types.js';

/**
 * The retained raw points of a series in `[from, to)` at `now`, combined by its policy (compacting
 * its buckets, whose dropped rows leave the point count).
 *
 * @internal
 * @example
 * ```ts
 * const points = rawPointsIn(state, series, from, to, clock.now());
 * ```
 */
export function rawPointsIn(
  state: MemoryStoreState,
  s: SeriesData,
  from: number,
  to: number,
  now: number,
): RawPoint[] {
  const out: RawPoint[] = [];
  const step = RESOLUTION_MS['5m'];
  for (const slot of keysInRange(s.raw, from, to, step)) {
    if (!isRetained(slot, 'raw', state.retention, now)) continue;
    const bucket = s.raw.get(slot) as RawBucket;
    const { points, dropped } = bucket.points(s.policy ?? 'last');
    state.pointCount -= dropped;
    for (const p of points) if (p.ts >= from && p.ts < to) out.push(p);
  }
  return out;
}

/**
 * The retained rollup points (stored objects, not copies) of a series at `res` whose slot starts in
 * `[from, to)` at `now`.
 *
 * @internal
 * @example
 * ```ts
 * const hours = rollupsIn(state, series, '1h', from, to, clock.now()).map((p) => ({ ...p }));
 * ```
 */
export function rollupsIn(
  state: MemoryStoreState,
  s: SeriesData,
  res: RollupResolution,
  from: number,
  to: number,
  now: number,
): RollupPoint[] {
  const map = s.rollups[res];
  const out: RollupPoint[] = [];
  for (const k of keysInRange(map, from, to, RESOLUTION_MS[res])) {
    if (k >= from && isRetained(k, res, state.retention, now)) out.push(map.get(k) as RollupPoint);
  }
  return out;
}

/**
 * The retained sketches of a series at `res` in `[from, to)` at `now`: raw rows by their ts, rollups
 * by their slot start (in slot order; raw rows in slot order, then as stored).
 *
 * @internal
 * @example
 * ```ts
 * const merged = mergeSketches(sketchesIn(state, series, '5m', from, to, now).map((r) => r.sketch));
 * ```
 */
export function sketchesIn(
  state: MemoryStoreState,
  s: SeriesData,
  res: Resolution,
  from: number,
  to: number,
  now: number,
): FleetSketchRow[] {
  const out: FleetSketchRow[] = [];
  const retention = state.retention;
  if (res === 'raw') {
    for (const slot of keysInRange(s.sketchRaw, from, to, RESOLUTION_MS['5m'])) {
      if (!isRetained(slot, 'raw', retention, now)) continue;
      for (const r of s.sketchRaw.get(slot) as SketchRow[])
        if (r.ts >= from && r.ts < to) out.push({ ts: r.ts, sketch: r.bytes });
    }
  } else {
    const map = s.sketchRollups[res];
    for (const slot of keysInRange(map, from, to, RESOLUTION_MS[res])) {
      if (slot >= from && isRetained(slot, res, retention, now))
        out.push({ ts: slot, sketch: map.get(slot) as Uint8Array });
    }
  }
  return out;
}

/**
 * The encoded sketches of a series covering a plan of segments (finest data at the edges).
 *
 * @internal
 * @example
 * ```ts
 * const parts = sketchesOfPlan(state, series, planCover({ from, to, now, retention }), now);
 * ```
 */
export function sketchesOfPlan(
  state: MemoryStoreState,
  s: SeriesData,
  plan: readonly CoverSegment[],
  now: number,
): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const seg of plan) {
    for (const r of sketchesIn(state, s, seg.res, seg.from, seg.to, now)) parts.push(r.sketch);
  }
  return parts;
}

/**
 * The fleet engine's view of a memory store at `now` (retained data only).
 *
 * @internal
 * @example
 * ```ts
 * await aggregateSeries(series, query, memoryReader(state, now), limits);
 * ```
 */
export function memoryReader(state: MemoryStoreState, now: number): FleetReader<SeriesData> {
  return {
    rollups: async (s, res, from, to) => rollupsIn(state, s, res, from, to, now),
    sketches: async (s, res, from, to) => {
      const out = sketchesIn(state, s, res, from, to, now);
      if (res === 'raw') out.sort((a, b) => a.ts - b.ts);
      return out;
    },
    each: async (items, fn) => {
      for (const item of items) await fn(item);
    },
  };
}
