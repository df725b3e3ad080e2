/**
 * CassandraMetricsStore against the local Cassandra (scripts/cassandra start).
 *
 * Ingest: N points over S series (10 s apart, written time-major, as a broker flushes them), through
 * `store.write()` in batches of 10,000 with 16 calls in flight (write buffer 200k), versus the baseline: the same points as
 * plain cassandra-driver prepared single-row INSERTs into the same table with `executeConcurrent`
 * (concurrency 128), in 4 rounds alternating which goes first. Series are registered before timing (one point each), since that happens once
 * per series. Rates count until every write is acknowledged. Time-major order leaves the buffer only
 * as many rows per partition as write() calls are pending (16 here), so batches stay small with many
 * series; a second store case writes the same volume series by series (a writer catching up on a
 * backlog), where batches are full.
 *
 * Queries: p50/p99 of `query()` for 1 day of 10 s raw points of one series, and for 30 days at
 * `auto` (served from 1h rollups), beside a plain driver read of the same raw rows.
 *
 *   npx tsx bench/store.ts              # 1M points over 10k series
 *   BENCH_QUICK=1 npx tsx bench/store.ts  # 100k points over 1k series
 */
import { performance } from 'node:perf_hooks';
import cassandra from 'cassandra-driver';
import { bucketOf, ttlSeconds } from '../src/cassandra/metrics-schema.js';
import { CassandraMetricsStore } from '../src/cassandra/metrics-store.js';
import { seriesId, seriesKey } from '../src/metrics-store/series-key.js';
import type { Point } from '../src/metrics-store/types.js';
import { type BenchRow, quantile, writeResults } from './lib.js';
import { writeChunked } from './store-ingest.js';

const quick = process.env.BENCH_QUICK === '1';
const N = quick ? 100_000 : 1_000_000;
const S = quick ? 1_000 : 10_000;
const PER = N / S;
const STEP = 10_000;
const QUERY_RUNS = quick ? 30 : 100;
const ROUNDS = quick ? 1 : 4;
const contactPoints = (process.env.FLEETWATCH_CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042').split(',');
const localDataCenter = process.env.FLEETWATCH_CASSANDRA_DC ?? 'datacenter1';
const keyspace = `fw_bench_${Math.random().toString(36).slice(2, 8)}`;
const DAY = 86_400_000;

const client = new cassandra.Client({
  contactPoints,
  localDataCenter,
  socketOptions: { readTimeout: 60_000 },
});

function points(tenant: string, base: number): Point[] {
  const out: Point[] = new Array(N);
  const tags = Array.from({ length: S }, (_, s) => ({ host: `h${s % 500}`, disk: `d${s}` }));
  let k = 0;
  for (let i = 0; i < PER; i++) {
    for (let s = 0; s < S; s++) {
      out[k++] = {
        metric: 'disk.used',
        tags: tags[s] as Record<string, string>,
        ts: base + i * STEP,
        value: s + i,
        tenant,
      };
    }
  }
  return out;
}

/** Wall seconds and client (Node) CPU µs of one ingest run. */
interface Run {
  secs: number;
  cpuMicros: number;
}

function measure(start: NodeJS.CpuUsage, t0: number): Run {
  const d = process.cpuUsage(start);
  return { secs: (performance.now() - t0) / 1000, cpuMicros: d.user + d.system };
}

async function ingestStore(store: CassandraMetricsStore, pts: Point[]): Promise<Run> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await writeChunked(store, pts);
  return measure(cpu, t0);
}

const ids = new Map<Record<string, string> | undefined, string>();

async function ingestBaseline(pts: Point[]): Promise<Run> {
  const insert = `INSERT INTO ${keyspace}.points_raw (tenant, series_id, bucket, ts, source, value) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?`;
  for (const p of pts) if (!ids.has(p.tags)) ids.set(p.tags, seriesId(seriesKey(p.metric, p.tags)));
  const ttl = ttlSeconds(7 * DAY);
  const params = pts.map((p) => [p.tenant, ids.get(p.tags), bucketOf(p.ts, 'raw'), p.ts, '', p.value, ttl]);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const rs = await cassandra.concurrent.executeConcurrent(client, insert, params, {
    concurrencyLevel: 128,
    raiseOnFirstError: true,
  }); // always prepared
  const run = measure(cpu, t0);
  if (rs.errors.length > 0) throw rs.errors[0];
  return run;
}

function add(into: Run, run: Run): void {
  into.secs += run.secs;
  into.cpuMicros += run.cpuMicros;
}

async function latencies(fn: () => Promise<unknown>, runs: number): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 5; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) };
}

async function main(): Promise<void> {
  await client.connect();
  const rows: BenchRow[] = [];
  const store = await CassandraMetricsStore.connect({
    client,
    keyspace,
    localDataCenter,
    rollupIntervalMs: 0,
    writeBuffer: { maxPoints: 200_000 },
  });
  try {
    const now = Date.now();
    const base = now - PER * STEP - 60_000;
    const tenantStore = 'bench_store';
    const tenantBase = 'bench_baseline';
    const ptsStore = points(tenantStore, base);
    const ptsBase = points(tenantBase, base);
    // register the series (happens once per series in a real deployment)
    await store.write(ptsStore.slice(0, S).map((p) => ({ ...p, ts: base - STEP })));

    process.stdout.write(`ingesting ${N.toLocaleString()} points over ${S.toLocaleString()} series…\n`);
    // alternate the order over rounds so load drift on the shared machine hits both alike
    const total = { base: { secs: 0, cpuMicros: 0 }, ours: { secs: 0, cpuMicros: 0 } };
    const per = N / ROUNDS;
    for (let r = 0; r < ROUNDS; r++) {
      const sliceB = ptsBase.slice(r * per, (r + 1) * per);
      const sliceS = ptsStore.slice(r * per, (r + 1) * per);
      const steps: Array<() => Promise<void>> = [
        async () => add(total.base, await ingestBaseline(sliceB)),
        async () => add(total.ours, await ingestStore(store, sliceS)),
      ];
      if (r % 2 === 1) steps.reverse();
      for (const step of steps) await step();
    }
    const baseline = N / total.base.secs;
    const baselineCpu = total.base.cpuMicros / N;
    const ours = N / total.ours.secs;
    const oursCpu = total.ours.cpuMicros / N;
    process.stdout.write(`  baseline executeConcurrent: ${Math.round(baseline)} points/s\n`);
    process.stdout.write(`  CassandraMetricsStore.write: ${Math.round(ours)} points/s\n`);
    const ratio = ours / baseline;
    // roll what was just written (every 5m slot of every series, then their hours and days)
    const slots5m = new Set(ptsStore.map((p) => Math.floor(p.ts / 300_000))).size * S;
    const tRoll = performance.now();
    await store.flush();
    const rollSecs = (performance.now() - tRoll) / 1000;
    process.stdout.write(
      `  flush() rolled ~${slots5m} 5m slots (+ hours, days) in ${rollSecs.toFixed(1)} s\n`,
    );
    // backfill order: the same kind of points, series by series (a writer catching up on a backlog)
    const backfill = points('bench_backfill', base);
    backfill.sort((a, b) => (a.tags?.disk ?? '').localeCompare(b.tags?.disk ?? '') || a.ts - b.ts);
    await store.write(backfill.filter((_, i) => i % PER === 0).map((p) => ({ ...p, ts: base - STEP })));
    const bf = await ingestStore(store, backfill);
    const oursBackfill = N / bf.secs;
    process.stdout.write(
      `  CassandraMetricsStore.write, backfill order: ${Math.round(oursBackfill)} points/s\n`,
    );
    rows.push(
      {
        case: 'baseline: prepared single-row INSERT, executeConcurrent(128)',
        value: baseline,
        unit: 'points/s',
        note: `${N} points, ${S} series, ${ROUNDS} rounds alternating with the store; client CPU ${baselineCpu.toFixed(1)} µs/point`,
      },
      {
        case: 'CassandraMetricsStore.write (buffer, same-partition unlogged batches)',
        value: ours,
        unit: 'points/s',
        goal: '>= 50,000 points/s',
        met: ours >= 50_000,
        note: `write() of 10k points, 16 in flight, buffer 200k; dirty marks and TTLs included; client CPU ${oursCpu.toFixed(1)} µs/point`,
      },
      { case: 'ingest ratio store / baseline', value: ratio, unit: 'x', goal: '>= 1.5x', met: ratio >= 1.5 },
      {
        case: 'CassandraMetricsStore.write, backfill order (series by series)',
        value: oursBackfill,
        unit: 'points/s',
        note: `ratio to baseline ${(oursBackfill / baseline).toFixed(2)}x; full 50-row batches; client CPU ${(bf.cpuMicros / N).toFixed(1)} µs/point`,
      },
      {
        case: 'flush(): rollups of the ingested data',
        value: slots5m / rollSecs,
        unit: '5m slots/s',
        note: `${slots5m} 5m slots (and their 1h/1d parents) in ${rollSecs.toFixed(1)} s`,
      },
    );

    // ---- queries: one series with 1 day of 10 s raw points, and 30 days of rollups
    const qtenant = 'bench_query';
    const clock = {
      t: now - 30 * DAY,
      now() {
        return this.t;
      },
    };
    const qstore = await CassandraMetricsStore.connect({
      client,
      keyspace,
      localDataCenter,
      rollupIntervalMs: 0,
      clock,
    });
    try {
      // 30 days at 30 min (the last day at 10 s), written day by day with the clock following (raw is only kept 7 days)
      for (let d = 29; d >= 0; d--) {
        const dayStart = now - (d + 1) * DAY;
        clock.t = dayStart + DAY;
        const pts: Point[] = [];
        const step = d === 0 ? STEP : 1_800_000;
        for (let t = dayStart; t < dayStart + DAY; t += step)
          pts.push({ metric: 'q', tags: { h: 'a' }, ts: t, value: Math.sin(t / 1e7), tenant: qtenant });
        for (let i = 0; i < pts.length; i += 5000) await qstore.write(pts.slice(i, i + 5000));
      }
      clock.t = now;
      const tf = performance.now();
      await qstore.flush();
      process.stdout.write(`  rolled 30 days of one series in ${Math.round(performance.now() - tf)} ms\n`);
    } finally {
      await qstore.close();
    }
    const reader = await CassandraMetricsStore.connect({
      client,
      keyspace,
      localDataCenter,
      rollupIntervalMs: 0,
    });
    try {
      const day = await latencies(
        () =>
          reader.query({
            metric: 'q',
            tags: { h: 'a' },
            from: now - DAY,
            to: now,
            resolution: 'raw',
            tenant: qtenant,
          }),
        QUERY_RUNS,
      );
      const check = await reader.query({
        metric: 'q',
        from: now - DAY,
        to: now,
        resolution: 'raw',
        tenant: qtenant,
      });
      const n1 = check[0]?.points.length ?? 0;
      const month = await latencies(
        () =>
          reader.query({
            metric: 'q',
            tags: { h: 'a' },
            from: now - 30 * DAY,
            to: now,
            resolution: 'auto',
            tenant: qtenant,
          }),
        QUERY_RUNS,
      );
      const m = await reader.query({ metric: 'q', from: now - 30 * DAY, to: now, tenant: qtenant });
      const id = seriesId(seriesKey('q', { h: 'a' }));
      const select = `SELECT ts, source, value FROM ${keyspace}.points_raw WHERE tenant = ? AND series_id = ? AND bucket = ? AND ts >= ? AND ts < ?`;
      const buckets: number[] = [];
      for (let b = bucketOf(now - DAY, 'raw'); b <= bucketOf(now - 1, 'raw'); b++) buckets.push(b);
      const plain = await latencies(
        () =>
          Promise.all(
            buckets.map((b) =>
              client.execute(select, [qtenant, id, b, now - DAY, now], { prepare: true, fetchSize: 10_000 }),
            ),
          ),
        QUERY_RUNS,
      );
      rows.push(
        {
          case: 'baseline: driver SELECT of 1 day raw (parallel buckets), p50',
          value: plain.p50,
          unit: 'ms',
          note: `p99 ${plain.p99.toFixed(1)} ms`,
        },
        {
          case: 'query 1 day of 10 s raw points, p50',
          value: day.p50,
          unit: 'ms',
          goal: '<= 20 ms',
          met: day.p50 <= 20,
          note: `${n1} points; p99 ${day.p99.toFixed(1)} ms`,
        },
        { case: 'query 1 day of 10 s raw points, p99', value: day.p99, unit: 'ms' },
        {
          case: "query 30 days at 'auto', p50",
          value: month.p50,
          unit: 'ms',
          goal: '<= 30 ms',
          met: month.p50 <= 30,
          note: `${m[0]?.resolution} resolution, ${m[0]?.points.length} points; p99 ${month.p99.toFixed(1)} ms`,
        },
        { case: "query 30 days at 'auto', p99", value: month.p99, unit: 'ms' },
      );
    } finally {
      await reader.close();
    }
  } finally {
    await store.close();
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client.shutdown();
  }
  writeResults('store', rows, { quick, points: N, series: S, cassandra: contactPoints.join(',') });
}

await main();
