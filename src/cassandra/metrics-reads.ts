/**
 * Partition reads of {@link CassandraMetricsStore} shared by queries and the roller: raw points
 * (sources combined), rollup rows (optionally a column subset), raw and rollup sketches, each over
 * the time buckets a range spans, a few buckets at a time.
 */

import { combineRaw, type SourcedValue } from '../metrics-store/rollup.js';
import type { RollupResolution } from '../metrics-store/rollup-slots.js';
import type { CombinePolicy, RawPoint, RollupPoint } from '../metrics-store/types.js';
import { mapLimit } from './concurrency.js';
import type { types } from './driver.js';
import { type MetricsCql, type RollupColumns, toMillis, toNumber } from './metrics-cql.js';
import { bucketOf } from './metrics-schema.js';

/**
 * Raw points of a series in `[from, to)`, one per timestamp (sources combined by `policy`), in ts
 * order. Rows come back in clustering order (ts, source) bucket by bucket, so the common single-source
 * case needs no sort; write times are read only when `last` has several sources to choose between.
 */
export async function readRawPoints(
  cql: MetricsCql,
  tenant: string,
  id: string,
  from: number,
  to: number,
  policy: CombinePolicy,
  signal?: AbortSignal,
): Promise<RawPoint[]> {
  const parts = await selectRange(cql, cql.q.selectRawFast, 'raw', tenant, id, from, to, signal);
  const out: RawPoint[] = [];
  let shared = false;
  let prev = Number.NaN;
  for (const rows of parts) {
    for (const r of rows) {
      const t = (r.ts as Date).getTime();
      if (t === prev) shared = true;
      prev = t;
      out.push({ ts: t, value: r.value as number });
    }
  }
  if (!shared) return out;
  const sources = parts.flatMap((rows) => rows.map((r) => r.source as string));
  if (policy !== 'last') {
    // (ts, source) is the clustering key: one row per source per ts, no write time needed
    return combineRaw(
      out.map((p, i) => ({ ts: p.ts, value: p.value, source: sources[i] as string, writtenAt: 0 })),
      policy,
    );
  }
  const withTimes = await selectRange(cql, cql.q.selectRaw, 'raw', tenant, id, from, to, signal);
  const rows: SourcedValue[] = [];
  for (const part of withTimes) {
    for (const r of part) {
      rows.push({
        ts: toMillis(r.get('ts')),
        source: r.get('source') as string,
        value: r.get('value') as number,
        writtenAt: toNumber(r.get('wt')),
      });
    }
  }
  return combineRaw(rows, policy);
}

/**
 * Rollup points of a series at `res` with `from <= ts < to`, in ts order. With `columns`, only that
 * subset is read (see {@link RollupColumns}) and the other statistics are NaN.
 */
export async function readRollups(
  cql: MetricsCql,
  res: RollupResolution,
  tenant: string,
  id: string,
  from: number,
  to: number,
  signal?: AbortSignal,
  columns?: RollupColumns,
): Promise<RollupPoint[]> {
  const out: RollupPoint[] = [];
  const query = columns === undefined ? cql.q.selectRollup[res] : cql.q.selectRollupColumns[res][columns];
  const parts = await selectRange(cql, query, res, tenant, id, from, to, signal);
  // buckets in order, rows in clustering (ts) order within each
  for (const rows of parts) for (const r of rows) out.push(rollupPointOf(r, toMillis(r.get('ts'))));
  return out;
}

/**
 * The rollup point of a row with columns count, sum, min, max, mean, m2, last (those absent from
 * the row are NaN), at `ts`.
 */
export function rollupPointOf(r: types.Row, ts: number): RollupPoint {
  const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
  const count = toNumber(r.get('count'));
  return {
    ts,
    count,
    sum: num(r.get('sum')),
    min: num(r.get('min')),
    max: num(r.get('max')),
    mean: num(r.get('mean')),
    variance: count > 0 ? num(r.get('m2')) / count : 0,
    last: num(r.get('last')),
  };
}

/**
 * Raw sketch rows in `[from, to)`, every source's (one row per (ts, source): a resend replaced the
 * row), in ts order.
 */
export async function readSketchRaw(
  cql: MetricsCql,
  tenant: string,
  id: string,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<Array<{ ts: number; sketch: Uint8Array }>> {
  const parts = await selectRange(cql, cql.q.selectSketchRaw, 'raw', tenant, id, from, to, signal);
  return parts.flatMap((rows) =>
    rows.map((r) => ({ ts: toMillis(r.get('ts')), sketch: r.get('sketch') as Uint8Array })),
  );
}

/** Rollup sketches of a series at `res` with `from <= ts < to`, in ts order. */
export async function readSketchRollups(
  cql: MetricsCql,
  res: RollupResolution,
  { tenant, id }: { tenant: string; id: string },
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<Array<{ ts: number; sketch: Uint8Array }>> {
  const parts = await selectRange(cql, cql.q.selectSketchRollup[res], res, tenant, id, from, to, signal);
  // buckets in order, rows in clustering (ts) order within each
  return parts.flatMap((rows) =>
    rows.map((r) => ({ ts: toMillis(r.get('ts')), sketch: r.get('sketch') as Uint8Array })),
  );
}

/**
 * The rows of `query` (restricted by tenant, series, bucket and a `[from, to)` clustering range)
 * over every time bucket of width `bucketMs` (a resolution's, or a number) the range spans, a few
 * partitions at a time: one array per bucket, in bucket order.
 */
export async function selectRange(
  cql: MetricsCql,
  query: string,
  bucketMs: 'raw' | RollupResolution | number,
  tenant: string,
  id: string,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<types.Row[][]> {
  if (to <= from) return [];
  const of = (ts: number) =>
    typeof bucketMs === 'number' ? Math.floor(ts / bucketMs) : bucketOf(ts, bucketMs);
  const buckets: number[] = [];
  for (let b = of(from); b <= of(to - 1); b++) buckets.push(b);
  return mapLimit(buckets, 8, (bucket) => cql.select(query, [tenant, id, bucket, from, to], signal));
}
