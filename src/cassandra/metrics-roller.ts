/**
 * Rollups of {@link CassandraMetricsStore}: 5m ← raw, 1h ← 5m, 1d ← 1h, for closed slots.
 *
 * A write marks its 5m slot dirty in `dirty_slots` (partition: resolution × slot day × shard) and
 * notes the partition in `dirty_buckets`, so any process can find and roll every dirty slot. Rolling a
 * slot recomputes it from the finer level (idempotent: two processes rolling the same slot write the
 * same row), marks the parent slot dirty, then deletes the mark `USING TIMESTAMP` of the mark it read
 * — a late point that re-marked the slot meanwhile carries a newer timestamp and survives, so the slot
 * is rolled again. Marks are written only after the points they cover are acknowledged.
 */
import type { Logger } from '../core.js';
import {
  combineRaw,
  expiresAt,
  isSlotClosed,
  mergeSketches,
  parentResolution,
  type RollupResolution,
  rollup5mFromRaw,
  rollupFromChildren,
  type SourcedValue,
  sourceResolution,
} from '../metrics-store/rollup.js';
import type { CombinePolicy, RawPoint, Retention, RollupPoint } from '../metrics-store/types.js';
import { RESOLUTION_MS } from '../metrics-store/types.js';
import { mapLimit } from './concurrency.js';
import {
  type MetricsCql,
  nextWriteTimestamp,
  type RollupColumns,
  toMillis,
  toNumber,
} from './metrics-cql.js';
import { bucketOf, DIRTY_SHARDS, dirtyBucketOf, ROLLUP_ORDER, ttlSeconds } from './metrics-schema.js';
import type { BufferedStatement } from './write-buffer.js';

/** Least TTL of a rolled slot (see {@link MetricsRoller.rollSlot}). */
const MIN_ROLLUP_TTL_SECONDS = 3600;

/** What a dirty mark is about: numeric points or sketches. */
export type SlotKind = 'p' | 's';

/** Prefixes of per-series write-buffer keys: raw points, raw sketches, point marks, sketch marks. */
export type BufferKeyPrefix = 'r' | 's' | 'mp' | 'ms';

/** The identity of a stored series, as the store and the roller use it. */
export interface SeriesRef {
  tenant: string;
  metric: string;
  /** Canonical series key (`seriesKey`). */
  key: string;
  /** Partition-key id (`seriesId(key)`). */
  id: string;
  /** Dirty-table shard. */
  shard: number;
  /** Recorded combine policy. */
  combine: CombinePolicy;
  /** Bucket base of the series' first sketch (its relative accuracy, or any scale), once known. */
  sketchBase?: number;
  /** When this process last wrote the series' index row (Date.now()). */
  registeredAt?: number;
  /**
   * Write-buffer keys of this series by prefix, each for its latest bucket or slot: built once and
   * reused, so buffer map lookups hash a string once (see `seriesBufferKey` in metrics-store.ts).
   */
  bufferKeys?: Record<BufferKeyPrefix, { n: number; key: string } | undefined>;
}

/** One slot to roll. */
export interface SlotToRoll {
  res: RollupResolution;
  kind: SlotKind;
  tenant: string;
  id: string;
  shard: number;
  combine: CombinePolicy;
  start: number;
}

/** See the module doc. */
export class MetricsRoller {
  readonly #dirtyKeys: Record<RollupResolution, Map<number, string>> = {
    '5m': new Map(),
    '1h': new Map(),
    '1d': new Map(),
  };

  readonly #cql: MetricsCql;
  readonly #retention: Readonly<Retention>;
  readonly #logger: Logger;

  constructor(cql: MetricsCql, retention: Readonly<Retention>, logger: Logger) {
    this.#cql = cql;
    this.#retention = retention;
    this.#logger = logger;
  }

  /** The write-buffer key of a dirty-slot partition (cached: the same string for the same partition). */
  #dirtyKey(res: RollupResolution, bucket: number, shard: number): string {
    const n = bucket * DIRTY_SHARDS + shard;
    const cache = this.#dirtyKeys[res];
    let key = cache.get(n);
    if (key === undefined) {
      if (cache.size >= 4096) cache.clear();
      key = `d|${res}|${bucket}|${shard}`;
      cache.set(n, key);
    }
    return key;
  }

  /** The statements that mark the slot of `res` starting at `start` dirty (mark + partition note). */
  markStatements(slot: Omit<SlotToRoll, 'start'> & { start: number }, at: number): BufferedStatement[] {
    const wts = nextWriteTimestamp();
    return [
      this.markStatement(slot, at, wts),
      this.noteStatement(slot.res, dirtyBucketOf(slot.start, slot.res), slot.shard, at, wts),
    ];
  }

  /**
   * The dirty mark of one slot, written `USING TIMESTAMP wts`. `dedupe` identifies the mark's row
   * (a later mark of the same slot replaces a queued one in the write buffer).
   */
  markStatement(
    slot: Omit<SlotToRoll, 'start'> & { start: number },
    at: number,
    wts: number,
    dedupe = `d|${slot.res}|${slot.start}|${slot.tenant}|${slot.id}|${slot.kind}`,
  ): BufferedStatement {
    const bucket = dirtyBucketOf(slot.start, slot.res);
    return {
      key: this.#dirtyKey(slot.res, bucket, slot.shard),
      dedupe,
      query: this.#cql.q.insertDirty,
      params: [
        slot.res,
        bucket,
        slot.shard,
        slot.start,
        slot.tenant,
        slot.id,
        slot.kind,
        slot.combine,
        at,
        wts,
      ],
    };
  }

  /** The note in `dirty_buckets` that the dirty-slot partition (`res`, `bucket`, `shard`) has marks. */
  noteStatement(
    res: RollupResolution,
    bucket: number,
    shard: number,
    at: number,
    wts: number,
  ): BufferedStatement {
    return {
      key: `db|${res}`,
      dedupe: `db|${res}|${bucket}|${shard}`,
      query: this.#cql.q.insertDirtyBucket,
      params: [res, bucket, shard, at, wts],
    };
  }

  /**
   * Roll every dirty slot (of any process) closed at `now`, 5m first, then 1h, then 1d. Returns the
   * number of slots rolled.
   */
  async rollAll(now: number, signal?: AbortSignal): Promise<number> {
    const q = this.#cql.q;
    let rolled = 0;
    for (const res of ROLLUP_ORDER) {
      const parts = await this.#cql.select(q.selectDirtyBuckets, [res], signal);
      for (const part of parts) {
        const bucket = part.get('bucket') as number;
        const shard = part.get('shard') as number;
        const partWt = toNumber(part.get('wt'));
        const marks = await this.#cql.select(q.selectDirty, [res, bucket, shard], signal);
        if (marks.length === 0) {
          await this.#cql.exec(q.deleteDirtyBucket, [partWt, res, bucket, shard]);
          continue;
        }
        const closed = marks.filter((m) => isSlotClosed(toMillis(m.get('slot_start')), res, now));
        await mapLimit(closed, 16, async (m) => {
          const slot: SlotToRoll = {
            res,
            kind: m.get('kind') as SlotKind,
            tenant: m.get('tenant') as string,
            id: m.get('series_id') as string,
            shard,
            combine: (m.get('combine') as CombinePolicy | null) ?? 'last',
            start: toMillis(m.get('slot_start')),
          };
          await this.rollSlot(slot, now, signal);
          await this.#cql.exec(q.deleteDirty, [
            toNumber(m.get('wt')),
            res,
            bucket,
            shard,
            slot.start,
            slot.tenant,
            slot.id,
            slot.kind,
          ]);
        });
        rolled += closed.length;
      }
    }
    if (rolled > 0) this.#logger.debug({ rolled }, 'rolled dirty slots');
    return rolled;
  }

  /**
   * Recompute one slot from the next finer level, store it with a TTL that ends with its retention,
   * and mark its parent slot dirty. Returns the rolled point for numeric slots.
   */
  async rollSlot(slot: SlotToRoll, now: number, signal?: AbortSignal): Promise<void> {
    const { res, start } = slot;
    // A slot rolled after its own retention (a far-ahead clock, a long outage) is still written, for
    // an hour at least, so its parent can be built from it; readers filter it out by retention.
    const ttl = Math.max(MIN_ROLLUP_TTL_SECONDS, ttlSeconds(expiresAt(start, res, this.#retention) - now));
    const bucket = bucketOf(start, res);
    const q = this.#cql.q;
    // The row's write time is taken before its inputs are read: of two processes rolling the same
    // slot at once, the one that read later (and so saw more) wins, whatever order the writes land in.
    const readAt = nextWriteTimestamp();
    if (slot.kind === 'p') {
      const point = await this.#rollPoints(slot, signal);
      if (point !== undefined) {
        await this.#cql.exec(q.insertRollup[res], [
          slot.tenant,
          slot.id,
          bucket,
          start,
          point.count,
          point.sum,
          point.min,
          point.max,
          point.mean,
          point.variance * point.count,
          point.last,
          ttl,
          readAt,
        ]);
      }
    } else {
      const sketch = await this.#rollSketch(slot, signal);
      if (sketch !== undefined) {
        await this.#cql.exec(q.insertSketchRollup[res], [
          slot.tenant,
          slot.id,
          bucket,
          start,
          Buffer.from(sketch),
          ttl,
          readAt,
        ]);
      }
    }
    const parent = parentResolution(res);
    if (parent !== undefined) {
      const parentStart = Math.floor(start / RESOLUTION_MS[parent]) * RESOLUTION_MS[parent];
      await Promise.all(
        this.markStatements({ ...slot, res: parent, start: parentStart }, now).map((s) =>
          this.#cql.exec(s.query, s.params),
        ),
      );
    }
  }

  async #rollPoints(slot: SlotToRoll, signal?: AbortSignal): Promise<RollupPoint | undefined> {
    const { res, start } = slot;
    const end = start + RESOLUTION_MS[res];
    if (res === '5m') {
      const points = await readRawPoints(this.#cql, slot.tenant, slot.id, start, end, slot.combine, signal);
      return rollup5mFromRaw(start, points);
    }
    const child = sourceResolution(res) as RollupResolution;
    const children = await readRollups(this.#cql, child, slot.tenant, slot.id, start, end, signal);
    return rollupFromChildren(res, start, children);
  }

  async #rollSketch(slot: SlotToRoll, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const { res, start } = slot;
    const end = start + RESOLUTION_MS[res];
    const rows =
      res === '5m'
        ? await readSketchRaw(this.#cql, slot.tenant, slot.id, start, end, signal)
        : await readSketchRollups(
            this.#cql,
            sourceResolution(res) as RollupResolution,
            slot.tenant,
            slot.id,
            start,
            end,
            signal,
          );
    return mergeSketches(rows.map((r) => r.sketch))?.encode();
  }
}

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
  const parts = await mapBuckets('raw', from, to, (bucket) =>
    cql.select(cql.q.selectRawFast, [tenant, id, bucket, from, to], signal),
  );
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
  const withTimes = await mapBuckets('raw', from, to, (bucket) =>
    cql.select(cql.q.selectRaw, [tenant, id, bucket, from, to], signal),
  );
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
  const parts = await mapBuckets(res, from, to, (bucket) =>
    cql.select(query, [tenant, id, bucket, from, to], signal),
  );
  const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
  // buckets in order, rows in clustering (ts) order within each
  for (const rows of parts) {
    for (const r of rows) {
      const count = toNumber(r.get('count'));
      const m2 = num(r.get('m2'));
      out.push({
        ts: toMillis(r.get('ts')),
        count,
        sum: num(r.get('sum')),
        min: num(r.get('min')),
        max: num(r.get('max')),
        mean: num(r.get('mean')),
        variance: count > 0 ? m2 / count : 0,
        last: num(r.get('last')),
      });
    }
  }
  return out;
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
  const parts = await mapBuckets('raw', from, to, (bucket) =>
    cql.select(cql.q.selectSketchRaw, [tenant, id, bucket, from, to], signal),
  );
  return parts.flatMap((rows) =>
    rows.map((r) => ({ ts: toMillis(r.get('ts')), sketch: r.get('sketch') as Uint8Array })),
  );
}

/** Rollup sketches of a series at `res` with `from <= ts < to`. */
export async function readSketchRollups(
  cql: MetricsCql,
  res: RollupResolution,
  tenant: string,
  id: string,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<Array<{ ts: number; sketch: Uint8Array }>> {
  const out: Array<{ ts: number; sketch: Uint8Array }> = [];
  await forBuckets(res, from, to, async (bucket) => {
    const rows = await cql.select(cql.q.selectSketchRollup[res], [tenant, id, bucket, from, to], signal);
    for (const r of rows) out.push({ ts: toMillis(r.get('ts')), sketch: r.get('sketch') as Uint8Array });
  });
  return out.sort((a, b) => a.ts - b.ts);
}

async function mapBuckets<T>(
  res: 'raw' | RollupResolution,
  from: number,
  to: number,
  fn: (bucket: number) => Promise<T>,
): Promise<T[]> {
  if (to <= from) return [];
  const buckets: number[] = [];
  for (let b = bucketOf(from, res); b <= bucketOf(to - 1, res); b++) buckets.push(b);
  return mapLimit(buckets, 8, fn);
}

async function forBuckets(
  res: 'raw' | RollupResolution,
  from: number,
  to: number,
  fn: (bucket: number) => Promise<void>,
): Promise<void> {
  if (to <= from) return;
  const first = bucketOf(from, res);
  const last = bucketOf(to - 1, res);
  const buckets: number[] = [];
  for (let b = first; b <= last; b++) buckets.push(b);
  await mapLimit(buckets, 8, fn);
}
