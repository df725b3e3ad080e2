/**
 * CassandraMetricsStore against a real Cassandra, in one file so its parts run in order (vitest runs
 * files in parallel, and the last part stops and restarts the node):
 * 1. the shared MetricsStore conformance suite;
 * 2. schema creation and migration (twice and concurrently), table options (TWCS, TTLs), rollups
 *    by another process, the background rollup loop, sketch storage (options validation is in
 *    metrics-options.test.ts, points blocks in metrics-blocks.test.ts);
 * 3. the node stopped mid-ingest and started again (`scripts/cassandra stop` / `start`): every
 *    acknowledged point is stored afterwards, every other write was rejected with
 *    `E_STORE_UNAVAILABLE`. This stops the local node for ~15 s; FLEETWATCH_OUTAGE_TEST=0 skips it.
 *    Whatever happens, the node is started again in afterAll.
 */

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bucketOf,
  dirtyBucketOf,
  indexShardOf,
  metricsMigrations,
  shardOf,
} from '../../src/cassandra/metrics-schema.js';
import { CassandraMetricsStore, METRICS_SCHEMA_COMPONENT } from '../../src/cassandra/metrics-store.js';
import { appliedVersions, ensureKeyspace, ensureSchema } from '../../src/cassandra/schema.js';
import { FleetwatchError } from '../../src/errors.js';
import { DDSketch } from '../../src/metrics/sketch.js';
import { seriesId, seriesKey } from '../../src/metrics-store/series-key.js';
import type { Point, RawPoint } from '../../src/metrics-store/types.js';
import { DEFAULT_RETENTION, RESOLUTION_MS } from '../../src/metrics-store/types.js';
import {
  FakeClock,
  metricsStoreConformance,
  uniqueTenant,
} from '../../src/testing/metrics-store-conformance.js';
import { rejection } from '../helpers/errors.js';
import { describeWithService } from '../helpers/services.js';
import {
  contactPoints,
  dropKeyspaces,
  localDataCenter,
  probeCassandra,
  rawClient,
  uniqueKeyspace,
} from './cassandra-env.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Math.floor(Date.now() / DAY) * DAY;

const reason = await probeCassandra();
const ks = uniqueKeyspace('store');
const ksConcurrent = uniqueKeyspace('conc');
const ksMigrate = uniqueKeyspace('mig');
const ksConformance = uniqueKeyspace('conf');
const ksOutage = uniqueKeyspace('outage');

let confClient: Client | undefined;

describeWithService('CassandraMetricsStore conformance', reason, () => {
  afterAll(async () => {
    await confClient?.shutdown();
    await dropKeyspaces([ksConformance]);
  });

  metricsStoreConformance('CassandraMetricsStore', async ({ retention, clock, queryLimits }) => {
    confClient ??= rawClient();
    return CassandraMetricsStore.connect({
      client: confClient,
      keyspace: ksConformance,
      rollupIntervalMs: 0,
      ...(queryLimits ? { queries: queryLimits } : {}),
      ...(retention ? { retention } : {}),
      ...(clock ? { clock } : {}),
    });
  });
});

describeWithService('CassandraMetricsStore on Cassandra', reason, () => {
  let client: Client;
  const connect = (extra: Record<string, unknown> = {}) =>
    CassandraMetricsStore.connect({
      contactPoints,
      localDataCenter,
      keyspace: ks,
      rollupIntervalMs: 0,
      ...extra,
    });

  beforeAll(() => {
    client = rawClient();
  });
  /** Slot starts of the dirty marks of a series at `res` in the T0 bucket (read behind the store). */
  async function marksOf(metric: string, tenant: string, res: '5m' | '1h' | '1d'): Promise<number[]> {
    const id = seriesId(seriesKey(metric, undefined));
    const rs = await client.execute(
      `SELECT slot_start, tenant, series_id FROM ${ks}.dirty_slots WHERE resolution = ? AND bucket = ? AND shard = ?`,
      [res, dirtyBucketOf(T0, res), shardOf(id)],
      { prepare: true },
    );
    return rs.rows
      .filter((r) => r.get('tenant') === tenant && r.get('series_id') === id)
      .map((r) => (r.get('slot_start') as Date).getTime());
  }
  afterAll(async () => {
    await client.shutdown();
    await dropKeyspaces([ks, ksConcurrent, ksMigrate]);
  });

  it('connect() - creates the keyspace and tables; connecting again migrates nothing', async () => {
    const a = await connect();
    await a.close();
    expect(await appliedVersions(client, ks, METRICS_SCHEMA_COMPONENT)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // the same migrations again: nothing left to apply
    const again = await ensureSchema(client, {
      keyspace: ks,
      component: METRICS_SCHEMA_COMPONENT,
      migrations: metricsMigrations(DEFAULT_RETENTION),
    });
    expect(again).toEqual([]);
    const b = await connect();
    await b.close();
    const tables = await client.execute(
      'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?',
      [ks],
    );
    expect(tables.rows.map((r) => r.get('table_name') as string).sort()).toEqual(
      [
        'dirty_buckets',
        'dirty_slots',
        'group_features',
        'group_members',
        'group_sketch_members',
        'metric_names',
        'points_block',
        'points_raw',
        'rollup_1d',
        'rollup_1h',
        'rollup_5m',
        'schema_version',
        'series_by_metric',
        'series_index',
        'series_tags',
        'sketch_1d',
        'sketch_1h',
        'sketch_5m',
        'sketches_raw',
      ].sort(),
    );
  });

  it('connect() - the data tables use TWCS, a default TTL from the retention and Zstd', async () => {
    await (await connect()).close();
    const rs = await client.execute(
      'SELECT table_name, default_time_to_live, compaction, compression FROM system_schema.tables WHERE keyspace_name = ?',
      [ks],
    );
    const byName = new Map(rs.rows.map((r) => [r.get('table_name') as string, r]));
    const expectTable = (name: string, ttl: number) => {
      const row = byName.get(name);
      expect(row?.get('default_time_to_live'), name).toBe(ttl);
      expect(String((row?.get('compaction') as Record<string, string> | undefined)?.class), name).toMatch(
        /TimeWindowCompactionStrategy/,
      );
      const compression = row?.get('compression') as Record<string, string> | undefined;
      expect(compression?.class, name).toBe('org.apache.cassandra.io.compress.ZstdCompressor');
      expect(compression?.chunk_length_in_kb, name).toBe('64');
      expect(compression?.compression_level, name).toBe('3');
    };
    expectTable('points_raw', 7 * 86_400);
    expectTable('points_block', 7 * 86_400);
    expectTable('rollup_5m', 30 * 86_400);
    expectTable('rollup_1h', 400 * 86_400);
    expectTable('rollup_1d', 5 * 365 * 86_400);
    expectTable('sketches_raw', 7 * 86_400);
    expectTable('sketch_1d', 5 * 365 * 86_400);
    // tables that are not time series keep Cassandra's default (LZ4)
    const index = byName.get('series_index')?.get('compression') as Record<string, string> | undefined;
    expect(index?.class).toBe('org.apache.cassandra.io.compress.LZ4Compressor');
  });

  it('connect() - two processes connecting at once both succeed and the migration is applied once', async () => {
    const c1 = rawClient();
    const c2 = rawClient();
    try {
      await ensureKeyspace(c1, ksMigrate, { class: 'SimpleStrategy', replicationFactor: 1 });
      const opts = { keyspace: ksMigrate, component: 'demo', pollMs: 50 };
      const migrations = [
        {
          version: 1,
          description: 'one',
          statements: (k: string) => [`CREATE TABLE IF NOT EXISTS ${k}.t1 (a int PRIMARY KEY)`],
        },
        {
          version: 2,
          description: 'two',
          statements: (k: string) => [`CREATE TABLE IF NOT EXISTS ${k}.t2 (a int PRIMARY KEY)`],
        },
      ];
      const [r1, r2] = await Promise.all([
        ensureSchema(c1, { ...opts, migrations }),
        ensureSchema(c2, { ...opts, migrations }),
      ]);
      expect([...r1, ...r2].sort()).toEqual([1, 2]);
      expect(await appliedVersions(c1, ksMigrate, 'demo')).toEqual([1, 2]);
      // a third version added later is applied on the next start
      const more = [
        ...migrations,
        {
          version: 3,
          description: 'three',
          statements: (k: string) => [`CREATE TABLE IF NOT EXISTS ${k}.t3 (a int PRIMARY KEY)`],
        },
      ];
      expect(await ensureSchema(c2, { ...opts, migrations: more })).toEqual([3]);
      // an ALTER ... ADD whose column is already there (a process died after its DDL) still applies
      await c1.execute(`ALTER TABLE ${ksMigrate}.t1 ADD b int`);
      const withAlter = [
        ...more,
        { version: 4, description: 'add b', statements: (k: string) => [`ALTER TABLE ${k}.t1 ADD b int`] },
      ];
      expect(await ensureSchema(c1, { ...opts, migrations: withAlter })).toEqual([4]);
      await expect(
        ensureSchema(c1, {
          ...opts,
          migrations: [
            ...withAlter,
            { version: 5, description: 'bad', statements: () => ['CREATE TABLE nope'] },
          ],
        }),
      ).rejects.toMatchObject({ code: 'E_INTERNAL' });
      // the failed migration's claim was released: it is not recorded, and a fixed v5 applies at once
      expect(await appliedVersions(c1, ksMigrate, 'demo')).toEqual([1, 2, 3, 4]);
      const fixed = {
        version: 5,
        description: 'fixed',
        statements: (k: string) => [`CREATE TABLE IF NOT EXISTS ${k}.t5 (a int PRIMARY KEY)`],
      };
      expect(
        await ensureSchema(c2, { ...opts, waitTimeoutMs: 5000, migrations: [...withAlter, fixed] }),
      ).toEqual([5]);
      // and the whole store connecting twice at once, on a fresh keyspace
      const stores = await Promise.all([
        CassandraMetricsStore.connect({
          contactPoints,
          localDataCenter,
          keyspace: ksConcurrent,
          rollupIntervalMs: 0,
        }),
        CassandraMetricsStore.connect({
          contactPoints,
          localDataCenter,
          keyspace: ksConcurrent,
          rollupIntervalMs: 0,
        }),
      ]);
      const tenant = uniqueTenant();
      await stores[0].write([{ metric: 'm', ts: Date.now() - MIN, value: 1, tenant }]);
      expect(await stores[1].listMetrics(tenant)).toEqual(['m']);
      await Promise.all(stores.map((s) => s.close()));
      expect(await appliedVersions(c1, ksConcurrent, METRICS_SCHEMA_COMPONENT)).toEqual([
        1, 2, 3, 4, 5, 6, 7,
      ]);
    } finally {
      await c1.shutdown();
      await c2.shutdown();
    }
  });

  it('write() - each raw row carries a TTL that ends a day after its hour (rawRowRetentionMs)', async () => {
    const clock = new FakeClock(T0 + 10 * MIN);
    const store = await connect({ clock, retention: { raw: 2 * DAY } });
    const tenant = uniqueTenant();
    try {
      await store.write([{ metric: 'ttl', ts: T0 + MIN, value: 1, tenant }]);
      const id = seriesId(seriesKey('ttl', undefined));
      const rs = await client.execute(
        `SELECT TTL(value) AS t FROM ${ks}.points_raw WHERE tenant = ? AND series_id = ? AND bucket = ?`,
        [tenant, id, bucketOf(T0, 'raw')],
        { prepare: true },
      );
      // raw rows live a day (rawRowRetentionMs) after their hour ends (T0+1h), seen from now
      // (T0+10m): 1 d + 50 min, less than the retention (slotEnd T0+5m + 2 d)
      const want = (DAY + 50 * MIN) / 1000;
      const ttl = rs.rows[0]?.get('t') as number;
      expect(ttl).toBeLessThanOrEqual(want);
      expect(ttl).toBeGreaterThan(want - 120);
      // index rows live as long as the longest retention (1d: 5 y) plus a day, refreshed daily
      const idx = await client.execute(
        `SELECT TTL(series_key) AS t FROM ${ks}.series_index WHERE tenant = ? AND metric = ? AND shard = ?`,
        [tenant, 'ttl', indexShardOf(id)],
        { prepare: true },
      );
      const indexTtl = idx.rows[0]?.get('t') as number;
      expect(indexTtl).toBeLessThanOrEqual((5 * 365 + 1) * 86_400);
      expect(indexTtl).toBeGreaterThan((5 * 365 + 1) * 86_400 - 120);
    } finally {
      await store.close();
    }
  });

  it('flush() - rolls slots another process marked dirty (dirty-slot table), and late points re-roll', async () => {
    const clockA = new FakeClock(T0 + 4 * MIN);
    const clockB = new FakeClock(T0 + 2 * HOUR);
    const writer = await connect({ clock: clockA });
    const roller = await connect({ clock: clockB });
    const tenant = uniqueTenant();
    try {
      await writer.write([1, 2, 3].map((m) => ({ metric: 'x', ts: T0 + m * MIN, value: m, tenant })));
      await writer.flush(); // writer's clock: the slot is still open, nothing rolled
      const q = { metric: 'x', from: T0, to: T0 + HOUR, resolution: '5m' as const, tenant };
      expect(await writer.query(q)).toEqual([]);
      expect(await marksOf('x', tenant, '5m')).toEqual([T0]); // the writer's mark, for any process
      await roller.flush();
      const got = await roller.query(q);
      expect(got[0]?.points).toEqual([
        { ts: T0, count: 3, sum: 6, min: 1, max: 3, mean: 2, variance: 2 / 3, last: 3 },
      ]);
      const hour = await roller.query({ ...q, resolution: '1h' });
      expect(hour[0]?.points[0]).toMatchObject({ ts: T0, count: 3, sum: 6 });
      // a late point written by the writer, rolled by the other process
      clockA.set(T0 + HOUR);
      await writer.write([{ metric: 'x', ts: T0 + 4 * MIN, value: 10, tenant }]);
      await roller.flush();
      expect((await roller.query(q))[0]?.points[0]).toMatchObject({ count: 4, sum: 16, max: 10, last: 10 });
      expect((await roller.query({ ...q, resolution: '1h' }))[0]?.points[0]).toMatchObject({
        count: 4,
        sum: 16,
      });
      // every closed mark of the series is gone, at every resolution
      for (const res of ['5m', '1h', '1d'] as const) {
        const closed = (await marksOf('x', tenant, res)).filter(
          (t) => t + RESOLUTION_MS[res] <= clockB.now(),
        );
        expect(closed, res).toEqual([]);
      }
    } finally {
      await writer.close();
      await roller.close();
    }
  });

  it('the background loop rolls closed slots without flush()', async () => {
    const clock = new FakeClock(T0 + 10 * MIN);
    const store = await connect({ clock, rollupIntervalMs: 50 });
    const tenant = uniqueTenant();
    try {
      await store.write([{ metric: 'bg', ts: T0 + MIN, value: 4, tenant }]);
      clock.set(T0 + HOUR);
      const reader = await connect({ clock }); // reads without rolling anything itself
      try {
        let points: unknown[] = [];
        for (let i = 0; i < 100 && points.length === 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
          const s = await reader.query({ metric: 'bg', from: T0, to: T0 + HOUR, resolution: '5m', tenant });
          points = s[0]?.points ?? [];
        }
        expect(points).toMatchObject([{ ts: T0, count: 1, sum: 4 }]);
      } finally {
        await reader.close();
      }
    } finally {
      await store.close();
    }
  });

  it('query({ where }) - a tag term reads one series_tags partition; only negations list the 8 series_index shards', async () => {
    const store = await connect({ clock: new FakeClock(T0 + 2 * HOUR) });
    try {
      const tenant = uniqueTenant();
      const pts: Point[] = [];
      for (let i = 0; i < 40; i++) {
        const tags = {
          host: `h${i}`,
          region: i % 2 === 0 ? 'us-east' : 'eu-west',
          env: i % 5 === 0 ? 'dev' : 'prod',
        };
        pts.push({ metric: 'cpu', tags, ts: T0 + 10 * MIN, value: i, tenant });
      }
      await store.write(pts);
      await store.flush();
      const q = {
        metric: 'cpu',
        tenant,
        from: T0,
        to: T0 + HOUR,
        resolution: '5m' as const,
        aggregate: 'count' as const,
      };
      const reads = async (where: string) => {
        const before = store.readStats.partitions;
        const out = await store.query({ ...q, where });
        // rollup reads: one partition per selected series (one 10-day bucket)
        return { out, partitions: store.readStats.partitions - before - (out[0]?.series ?? 0) };
      };
      const exact = await reads('tag:region=us-east and not tag:env=dev');
      expect(exact.out[0]?.series).toBe(16);
      expect(exact.out[0]?.points).toEqual([{ ts: T0 + 10 * MIN, value: 16 }]);
      expect(exact.partitions).toBe(1);
      const prefix = await reads('tag:region=us-* and tag:host=h1*');
      expect(prefix.out[0]?.series).toBe(5); // h10 h12 h14 h16 h18
      expect(prefix.partitions).toBe(1);
      const negation = await reads('not tag:env=dev');
      expect(negation.out[0]?.series).toBe(32);
      expect(negation.partitions).toBe(8);
    } finally {
      await store.close();
    }
  });

  it('writeSketches() and queryPercentiles() - merge sources and slots, raw and rolled', async () => {
    const clock = new FakeClock(T0 + 2 * DAY + 10 * MIN);
    const store = await connect({ clock });
    const tenant = uniqueTenant();
    try {
      const all = new DDSketch();
      const batches: Array<{ source: string; ts: number; values: number[] }> = [];
      for (let h = 0; h < 48; h += 5) {
        for (const source of ['a', 'b']) {
          const values = Array.from({ length: 20 }, (_, i) => (source === 'a' ? 1 : 1000) + h * 10 + i);
          batches.push({ source, ts: T0 + h * HOUR + 7 * MIN, values });
        }
      }
      for (const b of batches) {
        const s = new DDSketch();
        for (const v of b.values) {
          s.add(v);
          all.add(v);
        }
        await store.writeSketches(
          [{ metric: 'lat', tags: { r: '/' }, ts: b.ts, sketch: s.encode(), tenant }],
          {
            source: b.source,
          },
        );
      }
      // a resend by source a replaces its earlier sketch instead of counting twice
      const first = batches[0] as { ts: number; values: number[] };
      const again = new DDSketch();
      for (const v of first.values) again.add(v);
      await store.writeSketches(
        [{ metric: 'lat', tags: { r: '/' }, ts: first.ts, sketch: again.encode(), tenant }],
        {
          source: 'a',
        },
      );
      const q = { metric: 'lat', from: T0, to: T0 + 2 * DAY, quantiles: [0.5, 0.99], tenant };
      const before = await store.queryPercentiles(q);
      await store.flush(); // rolls 5m, 1h and 1d sketches: the query now merges the two daily ones
      const after = await store.queryPercentiles(q);
      for (const r of [before, after]) {
        expect(r).toHaveLength(1);
        const p = r[0];
        expect(p?.tags).toEqual({ r: '/' });
        expect(p?.count).toBe(all.count);
        expect(p?.min).toBe(all.min);
        expect(p?.max).toBe(all.max);
        expect(p?.quantiles['0.5']).toBeCloseTo(all.quantile(0.5), 6);
        expect(p?.quantiles['0.99']).toBeCloseTo(all.quantile(0.99), 6);
      }
      await expect(
        rejection(
          store.writeSketches([{ metric: 'lat', ts: T0, sketch: new Uint8Array([255, 1, 2]), tenant }]),
        ),
      ).resolves.toMatchObject({ code: 'E_VALIDATION', path: 'points[0].sketch' });
      // a series keeps the relative accuracy of its first sketch, across processes too
      const coarse = new DDSketch({ relativeAccuracy: 0.05 });
      coarse.add(3);
      const other = await connect({ clock });
      try {
        for (const s of [store, other]) {
          await expect(
            rejection(
              s.writeSketches([
                { metric: 'lat', tags: { r: '/' }, ts: T0 + HOUR, sketch: new DDSketch().encode(), tenant },
                { metric: 'lat', tags: { r: '/' }, ts: T0 + HOUR, sketch: coarse.encode(), tenant },
              ]),
            ),
          ).resolves.toMatchObject({ code: 'E_VALIDATION', path: 'points[1].sketch' });
          await expect(
            rejection(
              s.writeSketches([
                { metric: 'lat', tags: { r: '/' }, ts: T0 + HOUR, sketch: coarse.encode(), tenant },
              ]),
            ),
          ).resolves.toMatchObject({ code: 'E_VALIDATION', path: 'points[0].sketch' });
        }
      } finally {
        await other.close();
      }
      expect((await store.queryPercentiles(q))[0]?.count).toBe(all.count);
    } finally {
      await store.close();
    }
  });
});

const run = promisify(execFile);
const script = join(import.meta.dirname, '../../scripts/cassandra');
const local = contactPoints.every((c) => c.startsWith('127.0.0.1') || c.startsWith('localhost'));

/**
 * The outage part stops and restarts the local node that scripts/cassandra started. Test files run one at
 * a time (vitest.config.ts), so no other suite is using the node meanwhile. FLEETWATCH_OUTAGE_TEST=0 opts
 * out (e.g. while other work uses the same node); it never runs against a remote cluster.
 */
const outageOptOut = !local
  ? 'the outage test only stops a local node started by scripts/cassandra'
  : process.env.FLEETWATCH_OUTAGE_TEST === '0'
    ? 'FLEETWATCH_OUTAGE_TEST=0'
    : undefined;
if (outageOptOut !== undefined)
  process.stderr.write(`\n!!! SKIPPING the Cassandra outage test: ${outageOptOut}\n\n`);
const describeOutage = outageOptOut === undefined ? describeWithService : describeSkipped;

function describeSkipped(name: string, _reason: string | undefined, body: () => void): void {
  describe.skip(name, body);
}

async function cassandra(cmd: 'start' | 'stop'): Promise<void> {
  await run(script, [cmd], { timeout: 240_000 });
}

describeOutage('CassandraMetricsStore - Cassandra stopped mid-ingest', reason, () => {
  afterAll(async () => {
    // leave the shared node running, even when the test failed half-way
    await cassandra('start');
    await dropKeyspaces([ksOutage]);
  }, 300_000);

  it('write() - acknowledged points survive a node restart; the rest are rejected with E_STORE_UNAVAILABLE', async () => {
    const store = await CassandraMetricsStore.connect({
      contactPoints,
      localDataCenter,
      keyspace: ksOutage,
      rollupIntervalMs: 0,
      writeBuffer: { timeoutMs: 3000, maxPoints: 2000 },
    });
    const tenant = uniqueTenant();
    const base = Date.now() - 60 * 60_000;
    const acked = new Map<number, number>(); // ts → value
    const rejected: unknown[] = [];
    let seq = 0;
    let phase: 'before' | 'down' | 'after' = 'before';
    let ackedAfter = 0;
    let stop = false;

    const writer = async (w: number) => {
      while (!stop) {
        const batch: Point[] = [];
        for (let i = 0; i < 50; i++) {
          const n = seq++;
          batch.push({
            metric: 'outage',
            tags: { w: String(w % 2) },
            ts: base + n,
            value: n * 2 + 1,
            tenant,
          });
        }
        const startedIn = phase;
        try {
          await store.write(batch);
          for (const p of batch) acked.set(p.ts, p.value);
          if (startedIn === 'after') ackedAfter++;
        } catch (err) {
          rejected.push(err);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };

    const writers = [0, 1, 2, 3].map((w) => writer(w));
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const ackedBefore = acked.size;
      phase = 'down';
      await cassandra('stop');
      await new Promise((r) => setTimeout(r, 4000)); // writes keep coming while the node is down
      await cassandra('start');
      phase = 'after';
      const deadline = Date.now() + 60_000;
      while (ackedAfter < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      stop = true;
      await Promise.all(writers);
      expect(ackedBefore).toBeGreaterThan(0);
      expect(ackedAfter).toBeGreaterThanOrEqual(5);
      expect(rejected.length).toBeGreaterThan(0);
      for (const err of rejected) {
        expect(err).toBeInstanceOf(FleetwatchError);
        expect((err as FleetwatchError).code, (err as Error).message).toBe('E_STORE_UNAVAILABLE');
      }
      // every acknowledged point is there with its value
      const series = await store.query({
        metric: 'outage',
        from: base,
        to: base + seq,
        resolution: 'raw',
        tenant,
      });
      const stored = new Map<number, number>();
      for (const s of series) for (const p of s.points as RawPoint[]) stored.set(p.ts, p.value);
      const missing = [...acked.keys()].filter((ts) => stored.get(ts) !== acked.get(ts));
      expect(missing, `${missing.length} acknowledged points missing of ${acked.size}`).toEqual([]);
    } finally {
      stop = true;
      await Promise.allSettled(writers);
      await store.close().catch(() => undefined);
    }
  }, 240_000);
});
