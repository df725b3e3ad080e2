/**
 * Capacity of the Cassandra metrics store: bytes on disk per raw point and per rollup row after
 * flush and major compaction, beside a naive one-row-per-point table written in the same run, for
 * several compression settings; then write throughput of one node against the three nodes of dc1.
 *
 * Size phase: S series (half gauges with one decimal and noise, half integer counters) at 10 s for D
 * days go through `CassandraMetricsStore.write()` (time-major, as a broker flushes) into a fresh
 * keyspace on ONE node, then `flush()` rolls them up; the same points go as single-row INSERTs into
 * `naive_points ((metric, tags), ts)` with Cassandra's default table options. `nodetool flush` and
 * `compact`, then per table `tablestats` "Space used (live)" (every SSTable component: data, index,
 * filter…). `flush()` also writes the store's `points_block` (one row per series and hour), checked
 * here to hold every point exactly; the shipped layout's steady-state bytes per point combine it
 * with the raw rows still on disk (see `steadyState`). Each compression variant is applied with `ALTER TABLE … WITH compression` and
 * `nodetool upgradesstables -a` (a rewrite of the same data), so every variant sees identical rows.
 * By default the node is cluster node 4 (127.0.0.5, dc2) with a keyspace replicated to dc2 only,
 * since the single development node has no JMX for nodetool until its next start.
 *
 * Throughput phase: the same writer (10k-point `write()` calls, 16 in flight) against the single
 * node (127.0.0.1, RF 1) and against dc1 of the cluster (127.0.0.2–4, NetworkTopologyStrategy
 * { dc1: 3 }), at LOCAL_ONE and LOCAL_QUORUM, rounds alternating the order.
 *
 *   npx tsx bench/cassandra-capacity.ts               # 50 series × 1 day (432k points); 100k points per throughput case
 *   BENCH_QUICK=1 npx tsx bench/cassandra-capacity.ts # 20 series × 1 day; 20k points per case
 *   CAPACITY_PHASES=size  (or throughput)             # one phase only
 *   CAPACITY_SIZE_NODE=dev                            # measure sizes on 127.0.0.1 (needs its JMX: scripts/cassandra nodetool)
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import cassandra from 'cassandra-driver';
import { decodeBlock } from '../src/cassandra/block-codec.js';
import type { CassandraMetricsStoreOptions, ConsistencyName } from '../src/cassandra/metrics-options.js';
import { POINT_TABLES, ROLLUP_ORDER, ttlSeconds } from '../src/cassandra/metrics-schema.js';
import { CassandraMetricsStore } from '../src/cassandra/metrics-store.js';
import { seriesId, seriesKey } from '../src/metrics-store/series-key.js';
import { DEFAULT_RETENTION, type Point, RESOLUTION_MS } from '../src/metrics-store/types.js';
import {
  DAY,
  DC1,
  nodetool,
  SINGLE,
  SIZE_TARGETS,
  STEP,
  seriesPoints,
  sizeRow,
  steadyState,
  type TableStats,
  type Target,
  tableStats,
  VARIANTS,
} from './capacity-parts.js';
import { type BenchRow, writeResults } from './lib.js';
import { writeChunked } from './store-ingest.js';

const run = promisify(execFile);
const quick = process.env.BENCH_QUICK === '1';
const phases = (process.env.CAPACITY_PHASES ?? 'size,throughput').split(',');
const SERIES = Number(process.env.CAPACITY_SERIES ?? (quick ? 20 : 50));
const DAYS = Number(process.env.CAPACITY_DAYS ?? 1);
const TP_POINTS = Number(process.env.CAPACITY_TP_POINTS ?? (quick ? 20_000 : 100_000));
const TP_SERIES = 200;
const TP_ROUNDS = 2;

const log = (s: string) => process.stdout.write(`${s}\n`);

/** Writes time-major points through the store: `write()` calls of `chunk` points, `inFlight` at once. */
async function ingest(
  store: CassandraMetricsStore,
  pts: readonly Point[],
  chunk = 10_000,
  inFlight = 16,
): Promise<number> {
  const t0 = performance.now();
  await writeChunked(store, pts, chunk, inFlight);
  return (performance.now() - t0) / 1000;
}

/** A client on `t` and a store of keyspace `ks` over it (no background rolls; a large buffer). */
async function openStore(
  t: Target,
  ks: string,
  extra: Partial<CassandraMetricsStoreOptions> = {},
): Promise<{ c: cassandra.Client; store: CassandraMetricsStore }> {
  const c = client(t);
  await c.connect();
  const store = await CassandraMetricsStore.connect({
    client: c,
    keyspace: ks,
    localDataCenter: t.localDataCenter,
    replication: t.replication,
    rollupIntervalMs: 0,
    writeBuffer: { maxPoints: 200_000 },
    ...extra,
  });
  return { c, store };
}

function client(t: Target): cassandra.Client {
  return new cassandra.Client({
    contactPoints: t.contactPoints,
    localDataCenter: t.localDataCenter,
    socketOptions: { readTimeout: 120_000 },
  });
}

async function sizePhase(rows: BenchRow[], meta: Record<string, unknown>): Promise<void> {
  const target = SIZE_TARGETS[process.env.CAPACITY_SIZE_NODE ?? 'cluster:4'];
  if (target === undefined) throw new Error('CAPACITY_SIZE_NODE must be cluster:4 or dev');
  const ks = `fw_capacity_${Math.random().toString(36).slice(2, 8)}`;
  const steps = Math.round((DAYS * DAY) / STEP);
  const from = Math.floor((Date.now() - DAYS * DAY - 600_000) / DAY) * DAY; // whole days, inside raw retention
  const byStep = seriesPoints('capacity', SERIES, from, steps);
  const pts = byStep.flat();
  const N = pts.length;
  meta.size = {
    node: target.label,
    keyspace: ks,
    series: SERIES,
    days: DAYS,
    points: N,
    from: new Date(from).toISOString(),
  };
  log(`size: ${N.toLocaleString()} points (${SERIES} series × ${steps} steps) into ${ks} on ${target.label}`);
  const { c, store } = await openStore(target, ks);
  try {
    const secs = await ingest(store, pts);
    log(`  store.write: ${Math.round(N / secs).toLocaleString()} points/s`);
    const t0 = performance.now();
    await store.flush();
    log(`  flush() (rollups) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await store.close();
  }
  // naive: what a first schema looks like, Cassandra's default table options (LZ4 16 KiB, STCS)
  await c.execute(
    `CREATE TABLE ${ks}.naive_points (metric text, tags text, ts timestamp, value double, PRIMARY KEY ((metric, tags), ts))`,
  );
  const ttl = ttlSeconds(DEFAULT_RETENTION.raw);
  const insert = `INSERT INTO ${ks}.naive_points (metric, tags, ts, value) VALUES (?, ?, ?, ?) USING TTL ?`;
  const tagText = new Map<object, string>();
  const params = pts.map((p) => {
    const t = tagText.get(p.tags as object) ?? JSON.stringify(p.tags);
    tagText.set(p.tags as object, t);
    return [p.metric, t, p.ts, p.value, ttl];
  });
  const t1 = performance.now();
  const rs = await cassandra.concurrent.executeConcurrent(c, insert, params, {
    concurrencyLevel: 128,
    raiseOnFirstError: true,
  });
  if (rs.errors.length > 0) throw rs.errors[0];
  log(`  naive INSERTs: ${Math.round(N / ((performance.now() - t1) / 1000)).toLocaleString()} points/s`);

  // the store's own points_block (written by flush() as it rolled each closed hour): every point
  // of every series must be in exactly one block, decoded back exactly
  const blockRows = await c.execute(`SELECT series_id, block_start, data FROM ${ks}.points_block`, [], {
    fetchSize: 100_000,
  });
  const want = new Map<string, number>();
  for (const p of pts) want.set(`${seriesId(seriesKey(p.metric, p.tags))}|${p.ts}`, p.value);
  let inBlocks = 0;
  for (const r of blockRows.rows) {
    const { ts, values } = decodeBlock(r.get('data') as Buffer);
    ts.forEach((t, k) => {
      const v = want.get(`${r.get('series_id') as string}|${t}`);
      if (v === undefined || !Object.is(v, values[k]))
        throw new Error(`block point ${t} differs from what was written`);
      inBlocks++;
    });
  }
  if (inBlocks !== N) throw new Error(`points_block holds ${inBlocks} of ${N} points`);
  log(`  points_block: ${blockRows.rows.length} blocks hold all ${N.toLocaleString()} points exactly`);

  log('  nodetool flush + compact…');
  await nodetool(target, 'flush', ks);
  await nodetool(target, 'compact', ks);

  const rollupRows = (res: (typeof ROLLUP_ORDER)[number]) => {
    const slots = new Set<number>();
    for (const row of byStep) slots.add(Math.floor((row[0]?.ts ?? 0) / RESOLUTION_MS[res]));
    return slots.size * SERIES;
  };
  const tables: Array<{ table: string; rows: number; what: string }> = [
    { table: 'points_raw', rows: N, what: 'raw point' },
    { table: 'naive_points', rows: N, what: 'raw point' },
    { table: 'points_block', rows: N, what: 'raw point' },
    ...ROLLUP_ORDER.map((res) => ({
      table: POINT_TABLES[res],
      rows: rollupRows(res),
      what: `${res} rollup row`,
    })),
  ];
  const created = await c.execute(
    'SELECT table_name, compression FROM system_schema.tables WHERE keyspace_name = ?',
    [ks],
  );
  const compressionOf = new Map(
    created.rows.map((r) => {
      const o = r.get('compression') as Record<string, string>;
      const level = o.compression_level === undefined ? '' : ` ${o.compression_level}`;
      return [
        r.get('table_name') as string,
        `${o.class?.replace(/.*\./, '')}${level}, ${o.chunk_length_in_kb} KiB`,
      ];
    }),
  );
  const current = await tableStats(target, ks, tables);
  for (const { table, rows: n, what } of tables) {
    const st = current[table] as TableStats;
    const note = `${st.live.toLocaleString('en-US')} B live, ${n.toLocaleString('en-US')} rows, ~${st.partitions} partitions`;
    const name = `${table}, as created: ${compressionOf.get(table)} (after flush + major compaction)`;
    rows.push(sizeRow(name, st, n, what, note));
  }
  const shipped = steadyState(current, N);
  rows.push(shipped.row);
  meta.steadyState = shipped.meta;
  // compression variants on the same data: ALTER, then rewrite every SSTable of those tables
  const variantTables = tables.filter((x) => x.table !== 'rollup_1d');
  const best: Record<string, { name: string; bytesPerRow: number }> = {};
  for (const v of VARIANTS) {
    for (const { table } of variantTables)
      await c.execute(`ALTER TABLE ${ks}.${table} WITH compression = ${v.compression}`);
    const t2 = performance.now();
    await nodetool(target, 'upgradesstables', '-a', ks, ...variantTables.map((x) => x.table));
    const rewrite = (performance.now() - t2) / 1000;
    const stats = await tableStats(target, ks, variantTables);
    for (const { table, rows: n, what } of variantTables) {
      const st = stats[table] as TableStats;
      const bpr = st.live / n;
      log(`  ${table} ${v.name}: ${bpr.toFixed(2)} B/${what} (ratio ${st.ratio})`);
      rows.push(
        sizeRow(
          `${table}, ${v.name}`,
          st,
          n,
          what,
          `rewrite of ${variantTables.length} tables ${rewrite.toFixed(0)} s`,
        ),
      );
      if (bpr < (best[table]?.bytesPerRow ?? Number.POSITIVE_INFINITY))
        best[table] = { name: v.name, bytesPerRow: bpr };
    }
  }
  meta.best = best;
  if (process.env.CAPACITY_KEEP !== '1') await c.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
  await c.shutdown();
}

let registrationRetries = 0;

async function throughputCase(t: Target, ks: string, cl: ConsistencyName, tenant: string): Promise<number> {
  const { c, store } = await openStore(t, ks, { consistency: { read: cl, write: cl } });
  try {
    const steps = Math.ceil(TP_POINTS / TP_SERIES);
    const from = Date.now() - steps * STEP - 600_000;
    const byStep = seriesPoints(tenant, TP_SERIES, from, steps);
    // register the series (once per series in a deployment; not timed). Registration is a lightweight
    // transaction: on the loaded 3-node cluster some time out at LOCAL_SERIAL, so retry (counted).
    const first = byStep[0] ?? [];
    for (let i = 0; i < first.length; i += 100) {
      for (let attempt = 1; ; attempt++) {
        try {
          await store.write(first.slice(i, i + 100));
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          registrationRetries++;
        }
      }
    }
    const pts = byStep.slice(1).flat();
    const secs = await ingest(store, pts);
    return pts.length / secs;
  } finally {
    await store.close();
    await c.shutdown();
  }
}

async function throughputPhase(rows: BenchRow[], meta: Record<string, unknown>): Promise<void> {
  const ks = `fw_capacity_tp_${Math.random().toString(36).slice(2, 8)}`;
  const cases: Array<{ t: Target; cl: ConsistencyName; name: string }> = [
    { t: SINGLE, cl: 'localOne', name: '1 node (127.0.0.1), RF 1, LOCAL_ONE' },
    { t: SINGLE, cl: 'localQuorum', name: '1 node (127.0.0.1), RF 1, LOCAL_QUORUM' },
    { t: DC1, cl: 'localOne', name: 'dc1: 3 nodes, RF 3, LOCAL_ONE' },
    { t: DC1, cl: 'localQuorum', name: 'dc1: 3 nodes, RF 3, LOCAL_QUORUM' },
  ];
  meta.throughput = { keyspace: ks, pointsPerCase: TP_POINTS, series: TP_SERIES, rounds: TP_ROUNDS };
  try {
    const rates = cases.map(() => [] as number[]);
    for (let r = 0; r < TP_ROUNDS; r++) {
      const order = cases.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      for (const i of order) {
        const k = cases[i]!;
        const rate = await throughputCase(k.t, ks, k.cl, `tp_r${r}_c${i}`);
        log(`  ${k.name}: ${Math.round(rate).toLocaleString()} points/s`);
        rates[i]!.push(rate);
      }
    }
    (meta.throughput as Record<string, unknown>).registrationRetries = registrationRetries;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const single = mean(rates[0]!);
    cases.forEach((k, i) => {
      const v = mean(rates[i]!);
      rows.push({
        case: `write throughput, ${k.name}`,
        value: v,
        unit: 'points/s',
        note: `${i === 0 ? 'baseline' : `${(v / single).toFixed(2)}x the 1-node LOCAL_ONE rate`}; rounds: ${rates[i]!.map((x) => Math.round(x)).join(', ')}`,
      });
    });
  } finally {
    // the keyspace has the same name on both targets: drop it from each, even after a failed case
    for (const t of [SINGLE, DC1]) {
      const c = client(t);
      await c.connect();
      await c.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => undefined);
      await c.shutdown();
    }
  }
}

async function main(): Promise<void> {
  const rows: BenchRow[] = [];
  const meta: Record<string, unknown> = {};
  const { stdout } = await run('uptime').catch(() => ({ stdout: '' }));
  meta.loadBefore = stdout.trim();
  if (phases.includes('size')) await sizePhase(rows, meta);
  if (phases.includes('throughput')) await throughputPhase(rows, meta);
  meta.loadAfter = (await run('uptime').catch(() => ({ stdout: '' }))).stdout.trim();
  const suffix = phases.length === 1 ? `-${phases[0]}` : '';
  writeResults(`cassandra-capacity${quick ? '-quick' : ''}${suffix}`, rows, meta);
}

await main();
