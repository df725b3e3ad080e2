/** The multi-host scenario shared by the memory and Cassandra suites. */
import { expect } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { snapshotSeries } from '../../src/broker/client.js';
import { FrameEncoder } from '../../src/broker/protocol.js';
import { DDSketch } from '../../src/metrics/sketch.js';
import type { SeriesDelta } from '../../src/metrics/types.js';
import type { MetricsStore } from '../../src/metrics-store/types.js';
import { latencies } from './fixtures/values.js';
import type { FakeClock } from './helpers.js';

export const T0 = Date.UTC(2026, 10, 26, 6, 0, 0);
const enc = new FrameEncoder();

function frame(source: string, series: SeriesDelta[]): Buffer {
  const snap = { windowStart: T0, intervalMs: 10_000, series };
  return enc
    .window({ sourceId: source, epoch: 1, seq: 0, windowStart: T0, intervalMs: 10_000 }, snapshotSeries(snap))
    .subarray(4);
}

function hostSeries(values: number[], req: number, conn: number, temp: number): SeriesDelta[] {
  const sketch = new DDSketch();
  for (const v of values) sketch.add(v);
  return [
    { name: 'req', kind: 'counter', tags: { svc: 'api' }, value: req },
    { name: 'conn', kind: 'gauge', tags: { svc: 'api' }, value: conn, policy: 'sum' },
    { name: 'temp', kind: 'gauge', tags: { svc: 'api' }, value: temp, policy: 'max' },
    { name: 'lat', kind: 'histogram', tags: { svc: 'api' }, sketch },
  ];
}

/** Brokers started by the scenario; close them after each test with {@link closeBrokers}. */
const brokers: MetricsBroker[] = [];
export async function closeBrokers(): Promise<void> {
  for (const b of brokers.splice(0)) await b.close();
}

/**
 * Two brokers ("hosts") write the same series and window into one store; the store combines them.
 * Shared by the memory and Cassandra suites.
 */
export async function twoBrokersIntoOneStore(store: MetricsStore, clock: FakeClock, prefix = '') {
  const valuesA = latencies(1, 4_000, 5, 0.5);
  const valuesB = latencies(2, 16_000, 3, 0.7);
  for (const [id, values, req, conn, temp] of [
    ['host-a', valuesA, 3, 10, 5],
    ['host-b', valuesB, 4, 20, 9],
  ] as const) {
    const b = await MetricsBroker.start({ store, id, clock, autoFlush: false, selfMetrics: false });
    brokers.push(b);
    const series = hostSeries([...values], req, conn, temp).map((s) => ({ ...s, name: prefix + s.name }));
    b.ingestFrame(frame(`${id}:worker`, series));
  }
  clock.t = T0 + 20_000;
  for (const b of brokers) await b.flushDue();
  await store.flush();
  const raw = async (metric: string) => {
    const r = await store.query({ metric: prefix + metric, from: T0, to: T0 + 10_000, resolution: 'raw' });
    return r[0]?.resolution === 'raw' ? r[0].points.map((p) => p.value) : undefined;
  };
  const all = [...valuesA, ...valuesB].sort((a, b) => a - b);
  const [pct] = await store.queryPercentiles({
    metric: `${prefix}lat`,
    from: T0,
    to: T0 + 10_000,
    quantiles: [0.5, 0.99],
  });
  return { raw, all, pct };
}

/** The assertions both store suites make. */
export async function expectCombined(store: MetricsStore, clock: FakeClock, prefix = '') {
  const { raw, all, pct } = await twoBrokersIntoOneStore(store, clock, prefix);
  expect(await raw('req')).toEqual([7]);
  expect(await raw('conn')).toEqual([30]);
  expect(await raw('temp')).toEqual([9]);
  expect(await raw('lat.count')).toEqual([20_000]);
  expect(await raw('lat.min')).toEqual([all[0]]);
  expect(await raw('lat.max')).toEqual([all[all.length - 1]]);
  expect(pct?.count).toBe(20_000);
  for (const q of ['0.5', '0.99']) {
    const truth = all[Math.floor(Number(q) * (all.length - 1))]!;
    expect(Math.abs(pct!.quantiles[q]! - truth) / truth).toBeLessThanOrEqual(0.01);
  }
}
