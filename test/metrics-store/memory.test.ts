/**
 * MemoryMetricsStore: the conformance suite, plus what only the memory store has (bounds, sweeping,
 * options).
 */

import { describe, expect, it } from 'vitest';
import { DDSketch } from '../../src/metrics/sketch.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import { FakeClock, metricsStoreConformance } from '../../src/testing/metrics-store-conformance.js';
import { rejection } from '../helpers/errors.js';

metricsStoreConformance(
  'MemoryMetricsStore',
  async ({ retention, clock, queryLimits }) =>
    new MemoryMetricsStore({
      maintenanceIntervalMs: 0,
      ...(queryLimits?.maxSeries ? { maxQuerySeries: queryLimits.maxSeries } : {}),
      ...(queryLimits?.maxPoints ? { maxQueryPoints: queryLimits.maxPoints } : {}),
      ...(retention ? { retention } : {}),
      ...(clock ? { clock } : {}),
    }),
);

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Math.floor(Date.now() / DAY) * DAY;

describe('MemoryMetricsStore', () => {
  it('new MemoryMetricsStore() - rejects unknown and bad options', () => {
    expect(() => new MemoryMetricsStore({ maxPoint: 3 } as never)).toThrow(/options.maxPoint/);
    expect(() => new MemoryMetricsStore({ maxSeries: 0 })).toThrow(/options.maxSeries/);
    expect(() => new MemoryMetricsStore({ retention: { raw: -1 } })).toThrow(/options.retention.raw/);
    expect(() => new MemoryMetricsStore({ retention: { raw: 40 * DAY } })).toThrow(
      /options\.retention\["5m"\]/,
    );
    expect(() => new MemoryMetricsStore({ maintenanceIntervalMs: -1 })).toThrow(/maintenanceIntervalMs/);
  });

  it('write() - maxSeries rejects a batch that would add too many series, writing none of it', async () => {
    const clock = new FakeClock(T0 + 10 * MIN);
    const store = new MemoryMetricsStore({ clock, maxSeries: 3, maintenanceIntervalMs: 0 });
    await store.write([0, 1].map((i) => ({ metric: 'm', tags: { i: String(i) }, ts: T0, value: i })));
    const err = await rejection(
      store.write([1, 2, 3].map((i) => ({ metric: 'm', tags: { i: String(i) }, ts: T0, value: i }))),
    );
    expect(err.code).toBe('E_STORE_UNAVAILABLE');
    expect(err.details).toMatchObject({ limit: 'maxSeries', max: 3, current: 2, adding: 2 });
    expect(err.message).toMatch(/maxSeries/);
    expect(store.stats()).toMatchObject({ series: 2, points: 2 });
    // existing series still take points
    await store.write([{ metric: 'm', tags: { i: '0' }, ts: T0 + 1, value: 1 }]);
    await store.write([{ metric: 'm', tags: { i: '2' }, ts: T0 + 1, value: 1 }]);
    expect(store.stats().series).toBe(3);
    await store.close();
  });

  it('write() - maxPoints rejects a batch that would exceed it', async () => {
    const clock = new FakeClock(T0 + 10 * MIN);
    const store = new MemoryMetricsStore({ clock, maxPoints: 10, maintenanceIntervalMs: 0 });
    await store.write(Array.from({ length: 8 }, (_, i) => ({ metric: 'm', ts: T0 + i, value: i })));
    const err = await rejection(
      store.write(Array.from({ length: 3 }, (_, i) => ({ metric: 'm', ts: T0 + 100 + i, value: i }))),
    );
    expect(err.code).toBe('E_STORE_UNAVAILABLE');
    expect(err.details).toMatchObject({ limit: 'maxPoints', max: 10, current: 8, adding: 3 });
    expect(store.stats().points).toBe(8);
    await store.close();
  });

  it('resends stop counting against maxPoints once their slot is compacted', async () => {
    const clock = new FakeClock(T0 + 10 * MIN);
    const store = new MemoryMetricsStore({ clock, maxPoints: 12, maintenanceIntervalMs: 0 });
    const batch = Array.from({ length: 6 }, (_, i) => ({ metric: 'm', ts: T0 + i, value: i }));
    await store.write(batch);
    await store.write(batch);
    expect(store.stats().points).toBe(12);
    await expect(store.write([{ metric: 'm', ts: T0 + 99, value: 1 }])).rejects.toThrow(/maxPoints/);
    await store.flush(); // rolls the closed slot, compacting it
    expect(store.stats().points).toBe(6);
    await store.write(Array.from({ length: 6 }, (_, i) => ({ metric: 'm', ts: T0 + 100 + i, value: i })));
    await store.close();
  });

  it('write() - maxRollups stops writes once the rollups reach it, until retention frees some', async () => {
    const clock = new FakeClock(T0 + 10 * MIN);
    const store = new MemoryMetricsStore({
      clock,
      maxRollups: 3,
      maintenanceIntervalMs: 0,
      retention: { raw: DAY, '5m': DAY, '1h': DAY, '1d': DAY },
    });
    await store.write([{ metric: 'm', ts: T0, value: 1 }]);
    clock.set(T0 + DAY);
    await store.flush(); // 5m, 1h and 1d rollups of the slot
    expect(store.stats().rollups).toBe(3);
    const err = await rejection(store.write([{ metric: 'm', ts: T0 + DAY, value: 1 }]));
    expect(err.code).toBe('E_STORE_UNAVAILABLE');
    expect(err.details).toMatchObject({ limit: 'maxRollups', max: 3, current: 3 });
    clock.set(T0 + 2 * DAY + MIN);
    store.sweep();
    expect(store.stats().rollups).toBe(0);
    await store.write([{ metric: 'm', ts: T0 + 2 * DAY, value: 1 }]);
    await store.close();
  });

  it('writeSketches() - maxSketchBytes bounds the encoded sketch bytes kept', async () => {
    const clock = new FakeClock(T0 + 10 * MIN);
    const sketch = new DDSketch();
    sketch.add(5);
    const bytes = sketch.encode();
    const store = new MemoryMetricsStore({
      clock,
      maxSketchBytes: bytes.length * 3,
      maintenanceIntervalMs: 0,
    });
    await store.writeSketches([0, 1].map((i) => ({ metric: 's', ts: T0 + i, sketch: bytes })));
    await store.writeSketches([{ metric: 's', ts: T0, sketch: bytes }]); // a resend replaces: no growth
    expect(store.stats()).toMatchObject({ sketches: 2, sketchBytes: 2 * bytes.length });
    const err = await rejection(
      store.writeSketches([2, 3].map((i) => ({ metric: 's', ts: T0 + i, sketch: bytes }))),
    );
    expect(err.code).toBe('E_STORE_UNAVAILABLE');
    expect(err.details).toMatchObject({
      limit: 'maxSketchBytes',
      current: 2 * bytes.length,
      adding: 2 * bytes.length,
    });
    await store.close();
  });

  it('sweep() - drops expired raw data, rollups and finally empty series', async () => {
    const clock = new FakeClock(T0 + 10 * MIN);
    const store = new MemoryMetricsStore({
      clock,
      maintenanceIntervalMs: 0,
      retention: { raw: DAY, '5m': 2 * DAY, '1h': 3 * DAY, '1d': 4 * DAY },
    });
    await store.write([{ metric: 'm', ts: T0, value: 1 }]);
    clock.set(T0 + DAY + 5 * MIN);
    store.sweep();
    expect(store.stats()).toMatchObject({ series: 1, points: 0, rollups: 3 });
    clock.set(T0 + 2 * DAY + 5 * MIN);
    store.sweep();
    expect(store.stats()).toMatchObject({ series: 1, rollups: 2 });
    clock.set(T0 + 5 * DAY);
    store.sweep();
    expect(store.stats()).toMatchObject({ series: 0, points: 0, rollups: 0 });
    expect(await store.listMetrics()).toEqual([]);
    await store.close();
  });

  it('maintenance timer rolls and sweeps in the background, and close() stops it', async () => {
    const clock = new FakeClock(T0 + 10 * MIN);
    const store = new MemoryMetricsStore({ clock, maintenanceIntervalMs: 5 });
    await store.write([{ metric: 'm', ts: T0, value: 1 }]);
    await new Promise((r) => setTimeout(r, 30));
    expect(store.stats().rollups).toBe(1); // 5m slot closed; 1h still open
    expect(store.stats().dirtySlots).toBeGreaterThan(0);
    await store.close();
    expect(store.stats().series).toBe(0);
  });

  it('maintenance errors are logged, not thrown', async () => {
    const errors: unknown[] = [];
    let fail = false;
    const clock = {
      now: () => {
        if (fail) throw new Error('clock broke');
        return T0 + 10 * MIN;
      },
    };
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (obj: Record<string, unknown>) => errors.push(obj),
    };
    const store = new MemoryMetricsStore({ clock, logger, maintenanceIntervalMs: 0 });
    fail = true;
    store.sweep();
    expect(errors).toHaveLength(1);
    fail = false;
    await store.close();
  });
});
