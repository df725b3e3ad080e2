import type { Client } from 'cassandra-driver';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CassandraMetricsStore } from '../../src/cassandra/metrics-store.js';
import type { AggregatedSeries, Point } from '../../src/metrics-store/types.js';
import { FakeClock, uniqueTenant } from '../../src/testing/metrics-store-conformance.js';
import { fleetQueryCases } from '../../src/testing/metrics-store-fleet-cases.js';
import { seededRandom } from '../../src/testing/random.js';
import { describeWithService } from '../helpers/services.js';
import { dropKeyspaces, probeCassandra, rawClient, uniqueKeyspace } from './cassandra-env.js';

const MIN = 60_000;
const M5 = 5 * MIN;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Math.floor(Date.now() / DAY) * DAY - DAY;

// the shared cases roll more here (each series also feeds two groups) on a shared, loaded machine
vi.setConfig({ testTimeout: 120_000 });

const reason = await probeCassandra();
const ks = uniqueKeyspace('groups');
const ksCases = uniqueKeyspace('gcases');

/** Per group (by `key`'s value, '' when missing) and 5m slot: the sum of the raw values. */
function sums(points: readonly Point[], key: string): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const p of points) {
    const g = p.tags?.[key] ?? '';
    const slot = Math.floor(p.ts / M5) * M5;
    const m = out.get(g) ?? new Map<number, number>();
    m.set(slot, (m.get(slot) ?? 0) + p.value);
    out.set(g, m);
  }
  return out;
}

function asMap(got: readonly AggregatedSeries[], key: string): Map<string, Map<number, number>> {
  return new Map(got.map((s) => [s.tags[key] ?? '', new Map(s.points.map((p) => [p.ts, p.value]))]));
}

describeWithService('CassandraMetricsStore group rollups', reason, () => {
  let client: Client;
  beforeAll(() => {
    client = rawClient();
  });
  afterAll(async () => {
    await client?.shutdown();
    await dropKeyspaces([ks]);
  });

  it('query({ aggregate, groupBy }) - reads one partition per pre-aggregated group, equal to the raw sums, late points included; a key configured later serves only newer slots', async () => {
    const clock = new FakeClock(T0);
    // the keyspace is created by this store: its groups are complete from the start
    const store = await CassandraMetricsStore.connect({
      client,
      keyspace: ks,
      rollupIntervalMs: 0,
      clock,
      groupRollupTags: ['region'],
    });
    const tenant = uniqueTenant();
    const r = seededRandom(11);
    const points: Point[] = [];
    for (let i = 0; i < 30; i++) {
      const tags: Record<string, string> = { host: `h${i}`, env: i % 3 === 0 ? 'dev' : 'prod' };
      if (i !== 29) tags.region = `r${i % 4}`; // one series without region: the null group
      for (let t = T0 + 2 * M5; t < T0 + HOUR; t += MIN) {
        if (i === 7 && t < T0 + 30 * MIN) continue; // appears mid-range
        points.push({ metric: 'rps', tags, ts: t + 1_000, value: Math.floor(r() * 1000), tenant });
      }
    }
    clock.advance(2 * HOUR);
    await store.write(points);
    await store.flush();
    const q = { metric: 'rps', tenant, from: T0, to: T0 + HOUR, resolution: '5m', aggregate: 'sum' } as const;
    const reads = async (s: CassandraMetricsStore, extra: Record<string, unknown>) => {
      const before = s.readStats.partitions;
      const out = await s.query({ ...q, ...extra });
      return { out, partitions: s.readStats.partitions - before };
    };
    // 8 series-list shards + 4 region groups + the one series without region
    const byRegion = await reads(store, { groupBy: ['region'] });
    expect(byRegion.partitions).toBe(8 + 4 + 1);
    expect(asMap(byRegion.out, 'region')).toEqual(sums(points, 'region'));
    expect(byRegion.out.map((s) => s.series)).toEqual([8, 7, 7, 7, 1]);
    // the whole metric: one group partition
    const fleet = await reads(store, { groupBy: [] });
    expect(fleet.partitions).toBe(8 + 1);
    expect(asMap(fleet.out, 'none').get('')).toEqual(sums(points, 'none').get(''));
    // a selection narrower than a group: every selected series is read
    const prod = await reads(store, { groupBy: ['region'], where: 'tag:env=prod' });
    const prodPoints = points.filter((p) => p.tags?.env === 'prod');
    expect(prod.partitions).toBe(1 + new Set(prodPoints.map((p) => p.tags?.host)).size);
    expect(asMap(prod.out, 'region')).toEqual(sums(prodPoints, 'region'));
    // a late point re-rolls its slot, its groups follow
    const late: Point = {
      metric: 'rps',
      tags: points[0]?.tags ?? {},
      ts: T0 + 20 * MIN + 30_000,
      value: 5,
      tenant,
    };
    await store.write([late]);
    await store.flush();
    const after = await reads(store, { groupBy: ['region'] });
    expect(after.partitions).toBe(8 + 4 + 1);
    expect(asMap(after.out, 'region')).toEqual(sums([...points, late], 'region'));
    await store.close();

    // a second process configuring env later: env groups serve only slots after it connected
    const later = await CassandraMetricsStore.connect({
      client,
      keyspace: ks,
      rollupIntervalMs: 0,
      clock,
      groupRollupTags: ['region', 'env'],
    });
    const byEnv = await reads(later, { groupBy: ['env'] });
    expect(byEnv.partitions).toBe(8 + 30);
    expect(asMap(byEnv.out, 'env')).toEqual(sums([...points, late], 'env'));
    const newer: Point[] = points
      .filter((p) => p.ts < T0 + 10 * MIN)
      .map((p) => ({ ...p, ts: p.ts + 2 * HOUR }));
    clock.advance(HOUR);
    await later.write(newer);
    await later.flush();
    const envNew = await reads(later, { groupBy: ['env'], from: T0 + 2 * HOUR, to: T0 + 3 * HOUR });
    expect(envNew.partitions).toBe(8 + 2);
    expect(asMap(envNew.out, 'env')).toEqual(sums(newer, 'env'));
    await later.close();
  });

  it('queryPercentiles({ groupBy: [] }) - the whole-metric sketch group answers per step from one partition, as the members would', async () => {
    const { DDSketch } = await import('../../src/metrics/sketch.js');
    const clock = new FakeClock(T0 + 3 * HOUR);
    const store = await CassandraMetricsStore.connect({
      client,
      keyspace: ks,
      rollupIntervalMs: 0,
      clock,
      groupRollupTags: [],
    });
    const tenant = uniqueTenant();
    const values: number[] = [];
    const batch = [];
    const r = seededRandom(3);
    for (let h = 0; h < 20; h++) {
      for (let t = T0; t < T0 + 2 * HOUR; t += 10 * MIN) {
        const sk = new DDSketch();
        for (let k = 0; k < 5; k++) {
          const v = Math.round(10 + 1000 * r() * r());
          sk.add(v);
          values.push(v);
        }
        batch.push({ metric: 'lat', tags: { host: `h${h}` }, ts: t + 1_000, sketch: sk.encode(), tenant });
      }
    }
    await store.writeSketches(batch);
    await store.flush();
    const q = { metric: 'lat', tenant, from: T0, to: T0 + 2 * HOUR, quantiles: [0.5, 0.99], step: HOUR };
    const before = store.readStats.partitions;
    const fleet = await store.queryPercentiles({ ...q, groupBy: [] });
    expect(store.readStats.partitions - before).toBe(8 + 1);
    // the same question through the members (groupBy host merges each series alone)
    const perHost = await store.queryPercentiles({ ...q, groupBy: ['host'] });
    const merged = new DDSketch();
    for (const v of values) merged.add(v);
    expect(fleet[0]?.count).toBe(values.length);
    expect(fleet[0]?.steps?.map((s) => s.count)).toEqual([values.length / 2, values.length / 2]);
    expect(fleet[0]?.quantiles).toEqual({ '0.5': merged.quantile(0.5), '0.99': merged.quantile(0.99) });
    expect(perHost.reduce((a, p) => a + p.count, 0)).toBe(values.length);
    await store.close();
  });
});

describeWithService('CassandraMetricsStore group rollups: the fleet conformance cases', reason, () => {
  let client: Client | undefined;
  const opened: CassandraMetricsStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await client?.shutdown();
    await dropKeyspaces([ksCases]);
  });
  describe('with region groups', () => {
    // the same exact answers when whole-metric and region groups serve what they cover
    fleetQueryCases(
      async (opts = {}) => {
        client ??= rawClient();
        const clock = new FakeClock(opts.at ?? Math.floor(Date.now() / DAY) * DAY);
        const store = await CassandraMetricsStore.connect({
          client,
          keyspace: ksCases,
          rollupIntervalMs: 0,
          clock,
          groupRollupTags: ['region'],
          ...(opts.queryLimits ? { queries: opts.queryLimits } : {}),
        });
        opened.push(store);
        return { store, clock, tenant: uniqueTenant() };
      },
      Math.floor(Date.now() / DAY) * DAY,
    );
  });
});
