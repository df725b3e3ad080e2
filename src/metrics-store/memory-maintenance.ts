import type { DDSketch } from '../metrics/sketch.js';
import type { MemoryStoreState, SeriesData } from './memory-state.js';
import { mergeSketches, rollupFromChildren } from './rollup.js';
import { expiresAt, parentResolution, ROLLUP_RESOLUTIONS, type RollupResolution } from './rollup-slots.js';
import { statsFromRaw, toRollupPoint } from './rollup-stats.js';
import type { RollupPoint } from './types.js';
import { RESOLUTION_MS } from './types.js';

/**
 * Roll every dirty slot of a memory store closed at `now` (optionally only of `only`), 5m then 1h
 * then 1d, numbers and sketches.
 *
 * @internal
 * @example
 * ```ts
 * rollClosedSlots(state, clock.now());
 * ```
 */
export function rollClosedSlots(state: MemoryStoreState, now: number, only?: ReadonlySet<SeriesData>): void {
  rollNumbers(state, now, only);
  rollSketches(state, now, only);
}

/** Sketch rollups: 5m merges the slot's raw rows (latest per source and ts), 1h the 5m ones, 1d the 1h. */
function rollSketches(state: MemoryStoreState, now: number, only?: ReadonlySet<SeriesData>): void {
  for (const res of ROLLUP_RESOLUTIONS) {
    for (const { series: s, start } of state.sketchDirty.takeClosed(res, now, only)) {
      let merged: DDSketch | undefined;
      if (res === '5m') {
        const rows = s.sketchRaw.get(start);
        if (rows !== undefined) merged = mergeSketches(rows.map((r) => r.bytes));
      } else {
        const childRes: RollupResolution = res === '1h' ? '5m' : '1h';
        const map = s.sketchRollups[childRes];
        const parts: Uint8Array[] = [];
        const step = RESOLUTION_MS[childRes];
        for (let t = start; t < start + RESOLUTION_MS[res]; t += step) {
          const c = map.get(t);
          if (c !== undefined) parts.push(c);
        }
        merged = mergeSketches(parts);
      }
      const target = s.sketchRollups[res];
      state.sketchBytes -= target.get(start)?.length ?? 0;
      if (merged === undefined || merged.count === 0) target.delete(start);
      else {
        const bytes = merged.encode();
        target.set(start, bytes);
        state.sketchBytes += bytes.length;
      }
      const parent = parentResolution(res);
      if (parent !== undefined) state.sketchDirty.mark(s, parent, start);
    }
  }
}

function rollNumbers(state: MemoryStoreState, now: number, only?: ReadonlySet<SeriesData>): void {
  for (const res of ROLLUP_RESOLUTIONS) {
    for (const { series: s, start } of state.dirty.takeClosed(res, now, only)) {
      let point: RollupPoint | undefined;
      if (res === '5m') {
        const bucket = s.raw.get(start);
        if (bucket !== undefined) {
          const { points, dropped } = bucket.points(s.policy ?? 'last');
          state.pointCount -= dropped;
          if (points.length > 0) point = toRollupPoint(start, statsFromRaw(points));
          // a closed, compacted bucket gets no more writes in the common case: trim its slack
          bucket.trim();
        }
      } else {
        const childRes: RollupResolution = res === '1h' ? '5m' : '1h';
        const children: RollupPoint[] = [];
        const map = s.rollups[childRes];
        const step = RESOLUTION_MS[childRes];
        for (let t = start; t < start + RESOLUTION_MS[res]; t += step) {
          const c = map.get(t);
          if (c !== undefined) children.push(c);
        }
        point = rollupFromChildren(res, start, children);
      }
      const target = s.rollups[res];
      if (target.has(start)) state.rollupCount--;
      if (point === undefined) target.delete(start);
      else {
        target.set(start, point);
        state.rollupCount++;
      }
      const parent = parentResolution(res);
      if (parent !== undefined) state.dirty.mark(s, parent, start);
    }
  }
}

/**
 * Drop a memory store's expired raw buckets, rollups and sketches at `now`, and series left empty.
 *
 * @internal
 * @example
 * ```ts
 * sweepExpired(state, clock.now());
 * ```
 */
export function sweepExpired(state: MemoryStoreState, now: number): void {
  const r = state.retention;
  for (const [tenant, metrics] of state.tenants) {
    for (const [metric, series] of metrics) {
      for (const [key, s] of series) {
        for (const [slot, bucket] of s.raw) {
          if (expiresAt(slot, 'raw', r) <= now) {
            s.raw.delete(slot);
            state.pointCount -= bucket.length;
          }
        }
        for (const [slot, rows] of s.sketchRaw) {
          if (expiresAt(slot, 'raw', r) <= now) {
            s.sketchRaw.delete(slot);
            state.sketchCount -= rows.length;
            for (const row of rows) state.sketchBytes -= row.bytes.length;
          }
        }
        for (const res of ROLLUP_RESOLUTIONS) {
          for (const slot of s.rollups[res].keys()) {
            if (expiresAt(slot, res, r) <= now) {
              s.rollups[res].delete(slot);
              state.rollupCount--;
            }
          }
          for (const [slot, bytes] of s.sketchRollups[res]) {
            if (expiresAt(slot, res, r) <= now) {
              s.sketchRollups[res].delete(slot);
              state.sketchBytes -= bytes.length;
            }
          }
        }
        if (s.empty) {
          series.delete(key);
          state.dirty.forget(s);
          state.sketchDirty.forget(s);
          state.seriesCount--;
        }
      }
      if (series.size === 0) metrics.delete(metric);
    }
    if (metrics.size === 0) state.tenants.delete(tenant);
  }
}
