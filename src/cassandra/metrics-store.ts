/**
 * CassandraMetricsStore: the production {@link MetricsStore} on Apache Cassandra. Same semantics as
 * `MemoryMetricsStore` (shared validation, rollup, combine and resolution modules); the tables and
 * their sizing are described in `metrics-schema.ts` and docs/store.md.
 *
 * Writes go through a bounded buffer ({@link WriteBuffer}): `write()` resolves once every point is
 * acknowledged by Cassandra at the write consistency level; when Cassandra is slow or down it waits,
 * then fails with `E_STORE_UNAVAILABLE`. Nothing is dropped silently.
 */
import type { Client } from 'cassandra-driver';
import type { AbortOptions, Clock, Logger } from '../core.js';
import { FleetwatchError, throwIfAborted } from '../errors.js';
import {
  aggregateSeries,
  type FleetReader,
  type FleetSeries,
  guardSeries,
  type QueryLimits,
} from '../metrics-store/fleet.js';
import { fleetPercentiles } from '../metrics-store/fleet-percentiles.js';
import {
  type FleetOptions,
  isFleetPercentileQuery,
  validateMetricsQuery,
  validatePercentilesQuery,
} from '../metrics-store/fleet-validate.js';
import { planCover, queryResolution } from '../metrics-store/resolution.js';
import {
  DirtySlots,
  decodeSketchAt,
  isRetained,
  mergeSketches,
  oldestRetained,
  parentResolution,
  percentileResult,
  ROLLUP_RESOLUTIONS,
  slotEnd,
  slotStart,
} from '../metrics-store/rollup.js';
import { parseSeriesKey, seriesId, seriesKey, sortedTags, tagsMatch } from '../metrics-store/series-key.js';
import { checkSketchBase } from '../metrics-store/sketch-base.js';
import { snapshotPoints, snapshotSketchPoints } from '../metrics-store/snapshot.js';
import type {
  AggregatedSeries,
  AggregateQuery,
  CombinePolicy,
  FleetAggregate,
  MetricsQuery,
  MetricsStore,
  PercentileQuery,
  PercentileResult,
  Point,
  Resolution,
  Retention,
  Series,
  SeriesInfo,
  SketchPoint,
  WriteOptions,
  WriteResult,
} from '../metrics-store/types.js';
import { DEFAULT_TENANT } from '../metrics-store/types.js';
import {
  normalizeWriteOptions,
  validateMetricName,
  validatePoints,
  validateSketchPoints,
  validateTagFilter,
  validateTenant,
} from '../metrics-store/validate.js';
import { mapLimit } from './concurrency.js';
import { createClient } from './connection.js';
import { isTransientDriverError, sleep, toStoreError } from './driver-errors.js';
import { MetricsCql, nextWriteTimestamp, type ReadStats, type RollupColumns } from './metrics-cql.js';
import {
  type CassandraMetricsStoreOptions,
  type NormalizedStoreOptions,
  normalizeStoreOptions,
} from './metrics-options.js';
import {
  type BufferKeyPrefix,
  MetricsRoller,
  readRawPoints,
  readRollups,
  readSketchRaw,
  readSketchRollups,
  type SeriesRef,
  type SlotKind,
} from './metrics-roller.js';
import {
  bucketOf,
  DIRTY_SHARDS,
  dirtyBucketOf,
  INDEX_SHARDS,
  indexShardOf,
  metricsMigrations,
  shardOf,
  ttlSeconds,
} from './metrics-schema.js';
import { ensureKeyspace, ensureSchema } from './schema.js';
import { type BufferedStatement, WriteBuffer } from './write-buffer.js';

/** The schema component name of the metrics tables in `schema_version`. */
export const METRICS_SCHEMA_COMPONENT = 'metrics';

/** A dirty mark of an open slot is not re-written while the slot stays open this much longer. */
const MARK_CACHE_MARGIN_MS = 60_000;
/** Index rows (metric names, series) are re-written with a fresh TTL at most this often per process. */
const INDEX_REFRESH_MS = 86_400_000;
/** Bound of the in-process caches (series, ids, marks); cleared when exceeded. */
const CACHE_LIMIT = 1_000_000;

function closedError(): FleetwatchError {
  return new FleetwatchError('E_CLOSED', 'CassandraMetricsStore is closed');
}

/**
 * The Cassandra metrics store. Create it with {@link CassandraMetricsStore.connect}.
 *
 * @example
 * ```ts
 * import { CassandraMetricsStore } from '@fleetwatch/sdk/cassandra';
 * const store = await CassandraMetricsStore.connect({
 *   contactPoints: ['10.0.0.1', '10.0.0.2'], localDataCenter: 'dc1', keyspace: 'fleetwatch',
 *   replication: { class: 'NetworkTopologyStrategy', dataCenters: { dc1: 3 } },
 * });
 * await store.write([{ metric: 'cpu', tags: { host: 'a' }, ts: Date.now(), value: 0.5 }]);
 * await store.close();
 * ```
 */
export class CassandraMetricsStore implements MetricsStore {
  /** The effective retention. */
  readonly retention: Readonly<Retention>;
  /** The keyspace used. */
  readonly keyspace: string;
  readonly #client: Client;
  readonly #ownsClient: boolean;
  readonly #cql: MetricsCql;
  readonly #roller: MetricsRoller;
  readonly #buffer: WriteBuffer;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #rawIntervalMs: number;
  readonly #limits: QueryLimits;
  readonly #queryConcurrency: number;
  /** `${tenant}\0${key}` → series */
  readonly #series = new Map<string, SeriesRef>();
  /** `${tenant}\0${metric}` → when its index row was last written (Date.now()) */
  readonly #metrics = new Map<string, number>();
  readonly #indexTtl: number;
  readonly #marked = new Map<string, number>();
  readonly #dirty: Record<SlotKind, DirtySlots<SeriesRef>> = { p: new DirtySlots(), s: new DirtySlots() };
  #timer: ReturnType<typeof setInterval> | undefined;
  #rolling: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(client: Client, ownsClient: boolean, o: NormalizedStoreOptions) {
    this.#client = client;
    this.#ownsClient = ownsClient;
    this.keyspace = o.keyspace;
    this.retention = o.retention;
    this.#clock = o.clock;
    this.#logger = o.logger;
    this.#timeoutMs = o.timeoutMs;
    this.#rawIntervalMs = o.rawIntervalMs;
    this.#limits = { maxSeries: o.maxQuerySeries, maxPoints: o.maxQueryPoints };
    this.#queryConcurrency = o.queryConcurrency;
    this.#indexTtl = ttlSeconds(Math.max(...Object.values(o.retention)) + INDEX_REFRESH_MS);
    this.#cql = new MetricsCql(client, o.keyspace, o.readConsistency, o.writeConsistency);
    this.#roller = new MetricsRoller(this.#cql, o.retention, o.logger);
    this.#buffer = new WriteBuffer({
      send: this.#cql.send,
      maxRows: o.maxRows,
      concurrency: o.concurrency,
      maxBatch: o.maxBatchRows,
      timeoutMs: o.timeoutMs,
      logger: o.logger,
    });
    if (o.rollupIntervalMs > 0) {
      this.#timer = setInterval(() => {
        if (this.#rolling !== undefined || this.#closed) return;
        this.#rollAll().catch((err: unknown) => {
          this.#logger.error(
            { err: (err as Error).message },
            'CassandraMetricsStore background rollup failed',
          );
        });
      }, o.rollupIntervalMs);
      this.#timer.unref?.();
    }
  }

  /**
   * Connect, create the keyspace if missing (with `replication`), and create or migrate the tables
   * (idempotent; safe when several processes start at once).
   */
  static async connect(options: CassandraMetricsStoreOptions): Promise<CassandraMetricsStore> {
    const o = normalizeStoreOptions(options);
    throwIfAborted(o.signal);
    const owns = options.client === undefined;
    const client = options.client ?? createClient(options);
    try {
      try {
        await client.connect();
      } catch (err) {
        throw toStoreError(err, 'connect');
      }
      await ensureKeyspace(client, o.keyspace, o.replication, { signal: o.signal, logger: o.logger });
      await ensureSchema(client, {
        keyspace: o.keyspace,
        component: METRICS_SCHEMA_COMPONENT,
        migrations: metricsMigrations(o.retention),
        logger: o.logger,
        ...(o.signal !== undefined ? { signal: o.signal } : {}),
      });
    } catch (err) {
      if (owns) await client.shutdown().catch(() => undefined);
      throw err;
    }
    return new CassandraMetricsStore(client, owns, o);
  }

  /** Partitions read and rows returned since the store was created (cumulative). */
  get readStats(): Readonly<ReadStats> {
    return { ...this.#cql.stats };
  }

  /** Statements queued in the write buffer or in flight. */
  get buffered(): number {
    return this.#buffer.size;
  }

  async write(batch: readonly Point[], opts?: WriteOptions): Promise<WriteResult> {
    if (this.#closed) throw closedError();
    const o = normalizeWriteOptions(opts);
    throwIfAborted(o.signal);
    const now = this.#clock.now();
    // validate and store one copy: the caller may change its batch while the write is pending
    const points = snapshotPoints(batch);
    validatePoints(points, { now, rawRetentionMs: this.retention.raw });
    if (points.length === 0) return { accepted: 0 };
    const started = Date.now();
    const refs = await this.#resolveSeries(points, o.combine, started, o.signal);
    const q = this.#cql.q;
    const stmts: BufferedStatement[] = new Array(points.length);
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as Point;
      const ref = refs[i] as SeriesRef;
      const bucket = bucketOf(p.ts, 'raw');
      stmts[i] = {
        key: seriesBufferKey(ref, 'r', bucket),
        query: q.insertRaw,
        params: [
          ref.tenant,
          ref.id,
          bucket,
          p.ts,
          o.source,
          p.value,
          this.#ttl(p.ts, now),
          nextWriteTimestamp(),
        ],
      };
      this.#dirty.p.markRaw(ref, p.ts);
    }
    await this.#buffer.submit(stmts, o.signal);
    await this.#buffer.submit(this.#markStatements(points, refs, 'p', now), o.signal);
    return { accepted: points.length };
  }

  async writeSketches(batch: readonly SketchPoint[], opts?: WriteOptions): Promise<WriteResult> {
    if (this.#closed) throw closedError();
    const o = normalizeWriteOptions(opts);
    throwIfAborted(o.signal);
    const now = this.#clock.now();
    const points = snapshotSketchPoints(batch);
    validateSketchPoints(points, { now, rawRetentionMs: this.retention.raw });
    // every sketch must decode, and one series keeps one bucket base (relative accuracy), except that
    // sketches with a scale (exponential mapping) of any two scales merge
    const bases = new Map<string, { base: number; at: number }>();
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as SketchPoint;
      const base = decodeSketchAt(p.sketch, `points[${i}].sketch`).base;
      const k = `${p.tenant ?? DEFAULT_TENANT}\u0000${seriesKey(p.metric, p.tags)}`;
      const seen = bases.get(k);
      if (seen !== undefined) checkSketchBase(i, seen.base, base);
      if (seen === undefined) bases.set(k, { base, at: i });
    }
    if (points.length === 0) return { accepted: 0 };
    const started = Date.now();
    const refs = await this.#resolveSeries(points, o.combine, started, o.signal);
    await this.#recordSketchBases(points, refs, started, o.signal);
    const q = this.#cql.q;
    const stmts: BufferedStatement[] = points.map((p, i) => {
      const ref = refs[i] as SeriesRef;
      const bucket = bucketOf(p.ts, 'raw');
      this.#dirty.s.markRaw(ref, p.ts);
      return {
        key: seriesBufferKey(ref, 's', bucket),
        query: q.insertSketchRaw,
        params: [
          ref.tenant,
          ref.id,
          bucket,
          p.ts,
          o.source,
          Buffer.from(p.sketch),
          this.#ttl(p.ts, now),
          nextWriteTimestamp(),
        ],
      };
    });
    await this.#buffer.submit(stmts, o.signal);
    await this.#buffer.submit(this.#markStatements(points, refs, 's', now), o.signal);
    return { accepted: points.length };
  }

  query(q: AggregateQuery): Promise<AggregatedSeries[]>;
  query(q: MetricsQuery): Promise<Series[]>;
  async query(q: MetricsQuery): Promise<Series[] | AggregatedSeries[]> {
    if (this.#closed) throw closedError();
    const fleet = validateMetricsQuery(q);
    throwIfAborted(q.signal);
    const now = this.#clock.now();
    const chosen = queryResolution(q, now, this.retention, this.#rawIntervalMs);
    const tenant = q.tenant ?? DEFAULT_TENANT;
    const series = await this.#matching(tenant, q.metric, q.tags, q.signal, fleet);
    guardSeries(series.length, this.#limits);
    if (fleet.aggregate !== undefined) {
      const res = chosen === 'raw' ? '5m' : chosen;
      await this.#rollLocal('p', now, series, q.signal);
      return aggregateSeries(
        fleetSeries(series),
        { ...fleet, aggregate: fleet.aggregate, metric: q.metric, from: q.from, to: q.to, res },
        this.#reader(now, q.signal),
        this.#limits,
      );
    }
    const res = chosen;
    if (res !== 'raw') await this.#rollLocal('p', now, series, q.signal);
    const results = await mapLimit(series, this.#queryConcurrency, async (s): Promise<Series | undefined> => {
      if (res === 'raw') {
        const rows = await readRawPoints(this.#cql, s.tenant, s.id, q.from, q.to, s.combine, q.signal);
        // retained ⇔ ts >= the oldest retained slot start (one comparison per point)
        const cutoff = oldestRetained('raw', this.retention, now);
        const points =
          rows[0] !== undefined && rows[0].ts >= cutoff ? rows : rows.filter((p) => p.ts >= cutoff);
        return points.length > 0
          ? { metric: s.metric, tags: tagsOf(s), resolution: 'raw', points }
          : undefined;
      }
      const rows = await readRollups(this.#cql, res, s.tenant, s.id, q.from, q.to, q.signal);
      const points = rows.filter((p) => isRetained(p.ts, res, this.retention, now));
      return points.length > 0 ? { metric: s.metric, tags: tagsOf(s), resolution: res, points } : undefined;
    });
    return results.filter((r): r is Series => r !== undefined);
  }

  async queryPercentiles(q: PercentileQuery): Promise<PercentileResult[]> {
    if (this.#closed) throw closedError();
    const fleet = validatePercentilesQuery(q);
    throwIfAborted(q.signal);
    const now = this.#clock.now();
    const tenant = q.tenant ?? DEFAULT_TENANT;
    const series = await this.#matching(tenant, q.metric, q.tags, q.signal, fleet);
    guardSeries(series.length, this.#limits);
    await this.#rollLocal('s', now, series, q.signal);
    if (isFleetPercentileQuery(q)) {
      return fleetPercentiles(
        fleetSeries(series),
        {
          ...fleet,
          metric: q.metric,
          from: q.from,
          to: q.to,
          quantiles: q.quantiles,
          cover: (from, to) => planCover({ from, to, now, retention: this.retention }),
        },
        this.#reader(now, q.signal),
        this.#limits,
      );
    }
    const cover = planCover({ from: q.from, to: q.to, now, retention: this.retention });
    const results = await mapLimit(
      series,
      this.#queryConcurrency,
      async (s): Promise<PercentileResult | undefined> => {
        const parts = await mapLimit(cover, 4, (seg) =>
          seg.res === 'raw'
            ? readSketchRaw(this.#cql, s.tenant, s.id, seg.from, seg.to, q.signal)
            : readSketchRollups(this.#cql, seg.res, s.tenant, s.id, seg.from, seg.to, q.signal),
        );
        const bytes: Uint8Array[] = [];
        parts.forEach((rows, i) => {
          const res = (cover[i] as { res: Resolution }).res;
          for (const row of rows) if (isRetained(row.ts, res, this.retention, now)) bytes.push(row.sketch);
        });
        const merged = mergeSketches(bytes);
        if (merged === undefined || merged.count === 0) return undefined;
        return percentileResult(s.metric, tagsOf(s), merged, q.quantiles);
      },
    );
    return results.filter((r): r is PercentileResult => r !== undefined);
  }

  async listMetrics(tenant?: string): Promise<string[]> {
    if (this.#closed) throw closedError();
    validateTenant(tenant, 'tenant');
    const rows = await this.#cql.select(this.#cql.q.selectMetrics, [tenant ?? DEFAULT_TENANT]);
    return rows.map((r) => r.get('metric') as string).sort();
  }

  async listSeries(
    metric: string,
    tagFilter?: Record<string, string>,
    tenant?: string,
  ): Promise<SeriesInfo[]> {
    if (this.#closed) throw closedError();
    validateMetricName(metric, 'metric');
    validateTagFilter(tagFilter);
    validateTenant(tenant, 'tenant');
    const series = await this.#matching(tenant ?? DEFAULT_TENANT, metric, tagFilter);
    return series.map((s) => ({ metric: s.metric, tags: tagsOf(s) }));
  }

  async flush(opts?: AbortOptions): Promise<void> {
    if (this.#closed) throw closedError();
    throwIfAborted(opts?.signal);
    await this.#buffer.drain();
    // a pass already running may have started before our writes landed: run one more after it
    if (this.#rolling !== undefined) await this.#rolling.catch(() => undefined);
    await this.#rollAll(opts?.signal);
  }

  async close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      if (this.#timer !== undefined) clearInterval(this.#timer);
      this.#timer = undefined;
      try {
        await this.#buffer.drain();
        if (this.#rolling !== undefined) await this.#rolling.catch(() => undefined);
        await this.#rollAll().catch((err: unknown) => {
          this.#logger.warn(
            { err: (err as Error).message },
            'CassandraMetricsStore: final rollup on close failed',
          );
        });
      } finally {
        this.#closed = true;
        this.#buffer.close();
        if (this.#ownsClient) await this.#client.shutdown().catch(() => undefined);
      }
    })();
    return this.#closing;
  }

  // -------------------------------------------------------------------------------------------

  #ttl(ts: number, now: number): number {
    // raw rows expire with their whole 5m slot (see expiresAt in metrics-store/rollup.ts)
    return ttlSeconds(slotEnd(ts, '5m') + this.retention.raw - now);
  }

  /** Series of each point, registering new ones (index rows; combine policy recorded by LWT). */
  async #resolveSeries(
    points: ReadonlyArray<{ metric: string; tags?: Record<string, string>; tenant?: string }>,
    combine: CombinePolicy,
    started: number,
    signal: AbortSignal | undefined,
  ): Promise<SeriesRef[]> {
    const refs = new Array<SeriesRef>(points.length);
    const now = Date.now();
    const missing = new Map<string, { tenant: string; metric: string; key: string; idx: number[] }>();
    let prevMetric: string | undefined;
    let prevTags: Record<string, string> | undefined;
    let prevTenant: string | undefined;
    let prevRef: SeriesRef | undefined;
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as { metric: string; tags?: Record<string, string>; tenant?: string };
      if (
        prevRef !== undefined &&
        p.metric === prevMetric &&
        p.tags === prevTags &&
        p.tenant === prevTenant
      ) {
        refs[i] = prevRef;
        continue;
      }
      const tenant = p.tenant ?? DEFAULT_TENANT;
      const key = seriesKey(p.metric, p.tags);
      const ck = `${tenant}\u0000${key}`;
      const cached = this.#series.get(ck);
      const ref =
        cached !== undefined && now - (cached.registeredAt ?? 0) < INDEX_REFRESH_MS ? cached : undefined;
      prevMetric = p.metric;
      prevTags = p.tags;
      prevTenant = p.tenant;
      prevRef = ref;
      if (ref !== undefined) {
        refs[i] = ref;
        continue;
      }
      let m = missing.get(ck);
      if (m === undefined) {
        m = { tenant, metric: p.metric, key, idx: [] };
        missing.set(ck, m);
      }
      m.idx.push(i);
    }
    if (missing.size === 0) return refs;
    if (this.#series.size > CACHE_LIMIT) this.#series.clear();
    const q = this.#cql.q;
    await mapLimit([...missing.entries()], 32, async ([ck, m]) => {
      const id = seriesId(m.key);
      const ishard = indexShardOf(id);
      const ttl = this.#indexTtl;
      const recorded = await this.#retrying(started, signal, async () => {
        const mk = `${m.tenant}\u0000${m.metric}`;
        if (now - (this.#metrics.get(mk) ?? 0) >= INDEX_REFRESH_MS) {
          await this.#cql.exec(q.insertMetric, [m.tenant, m.metric, ttl]);
          this.#metrics.set(mk, now);
        }
        const existing = await this.#cql.select(q.selectSeriesOne, [m.tenant, m.metric, ishard, id]);
        const known = existing[0]?.get('combine') as CombinePolicy | null | undefined;
        let recorded: CombinePolicy;
        if (known !== undefined && known !== null) {
          // refresh the index row's TTL (a series written to stays listed)
          await this.#cql.exec(q.refreshSeries, [ttl, m.key, known, m.tenant, m.metric, ishard, id]);
          recorded = known;
        } else {
          const rs = await this.#cql.exec(
            q.insertSeries,
            [m.tenant, m.metric, ishard, id, m.key, combine, new Date(), ttl],
            true,
          );
          recorded = rs.wasApplied()
            ? combine
            : ((rs.first()?.get('combine') as CombinePolicy | null) ?? 'last');
        }
        // the tag index (one partition per tag key), written with the series and the same TTL
        const tags = Object.entries(parseSeriesKey(m.key).tags);
        await mapLimit(tags, 8, ([k, v]) =>
          this.#cql.exec(q.insertSeriesTag, [m.tenant, m.metric, k, v, id, m.key, recorded, ttl]),
        );
        return recorded;
      });
      // keep one object per series: the in-process dirty-slot tracker is keyed by it
      let ref = this.#series.get(ck);
      if (ref === undefined) {
        ref = { tenant: m.tenant, metric: m.metric, key: m.key, id, shard: shardOf(id), combine: recorded };
        this.#series.set(ck, ref);
      }
      ref.combine = recorded;
      ref.registeredAt = now;
      for (const i of m.idx) refs[i] = ref;
    });
    return refs;
  }

  /**
   * Check each series' sketches against the bucket base recorded at its first sketch write (recording
   * it with an LWT when there is none yet); a different relative accuracy is `E_VALIDATION`, while
   * sketches with a scale of any two scales are accepted (merging downscales to the coarser).
   */
  async #recordSketchBases(
    points: readonly SketchPoint[],
    refs: readonly SeriesRef[],
    started: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const firsts = new Map<SeriesRef, number>();
    refs.forEach((ref, i) => {
      if (!firsts.has(ref)) firsts.set(ref, i);
    });
    const q = this.#cql.q;
    await mapLimit([...firsts], 32, async ([ref, i]) => {
      const base = decodeSketchAt((points[i] as SketchPoint).sketch, `points[${i}].sketch`).base;
      if (ref.sketchBase === undefined) {
        ref.sketchBase = await this.#retrying(started, signal, async () => {
          const rows = await this.#cql.select(q.selectSketchBase, [
            ref.tenant,
            ref.metric,
            indexShardOf(ref.id),
            ref.id,
          ]);
          const stored = rows[0]?.get('sketch_base') as number | null | undefined;
          if (stored !== null && stored !== undefined) return stored;
          const rs = await this.#cql.exec(
            q.recordSketchBase,
            [base, ref.tenant, ref.metric, indexShardOf(ref.id), ref.id],
            true,
          );
          return rs.wasApplied() ? base : ((rs.first()?.get('sketch_base') as number | null) ?? base);
        });
      }
      checkSketchBase(i, ref.sketchBase, base);
    });
  }

  /** Retry a transient failure with backoff until `timeoutMs` after `started`. */
  async #retrying<T>(started: number, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const left = this.#timeoutMs - (Date.now() - started);
        if (!isTransientDriverError(err) || left <= 0) throw toStoreError(err, 'write');
        await sleep(Math.min(left, 25 * 2 ** Math.min(attempt, 6)), signal);
      }
    }
  }

  /** Dirty marks for the 5m slots a batch touched (skipping open slots this process already marked). */
  #markStatements(
    points: ReadonlyArray<{ ts: number }>,
    refs: readonly SeriesRef[],
    kind: SlotKind,
    now: number,
  ): BufferedStatement[] {
    if (this.#marked.size > CACHE_LIMIT) this.#marked.clear();
    const out: BufferedStatement[] = [];
    const seen = new Set<string>();
    const parts = new Set<number>();
    const wts = nextWriteTimestamp();
    for (let i = 0; i < points.length; i++) {
      const ref = refs[i] as SeriesRef;
      const start = slotStart((points[i] as { ts: number }).ts, '5m');
      const k = seriesBufferKey(ref, kind === 'p' ? 'mp' : 'ms', start);
      if (seen.has(k)) continue;
      seen.add(k);
      if (this.#marked.has(k)) continue;
      const end = start + 300_000;
      if (end - now > MARK_CACHE_MARGIN_MS) this.#marked.set(k, end);
      out.push(
        this.#roller.markStatement(
          { res: '5m', kind, tenant: ref.tenant, id: ref.id, shard: ref.shard, combine: ref.combine, start },
          now,
          wts,
          k,
        ),
      );
      const bucket = dirtyBucketOf(start, '5m');
      const pk = bucket * DIRTY_SHARDS + ref.shard;
      if (!parts.has(pk)) {
        parts.add(pk);
        out.push(this.#roller.noteStatement('5m', bucket, ref.shard, now, wts));
      }
    }
    return out;
  }

  /**
   * Series of a metric matching the exact `filter` and the `where` selection. With a positive
   * `tag:k=v` (or `tag:k=prefix*`) conjunct in `where`, candidates come from one slice of the tag
   * index (exact terms preferred); otherwise from the 8 series-list partitions. Every candidate is
   * re-checked against the whole selection.
   */
  async #matching(
    tenant: string,
    metric: string,
    filter: Record<string, string> | undefined,
    signal?: AbortSignal,
    fleet?: FleetOptions,
  ): Promise<SeriesRef[]> {
    const where = fleet?.where;
    const term =
      where?.required.find((t) => t.value !== undefined) ??
      where?.required.find((t) => t.prefix !== undefined && prefixEnd(t.prefix) !== undefined);
    let rows: Awaited<ReturnType<MetricsCql['select']>>;
    if (term !== undefined) {
      const q = this.#cql.q;
      rows =
        term.value !== undefined
          ? await this.#cql.select(q.selectSeriesByTag, [tenant, metric, term.key, term.value], signal)
          : await this.#cql.select(
              q.selectSeriesByTagRange,
              [tenant, metric, term.key, term.prefix, prefixEnd(term.prefix as string)],
              signal,
            );
    } else {
      const shards = Array.from({ length: INDEX_SHARDS }, (_, i) => i);
      const parts = await mapLimit(
        shards,
        INDEX_SHARDS,
        (shard) => this.#cql.select(this.#cql.q.selectSeries, [tenant, metric, shard], signal),
        signal,
      );
      rows = parts.flat();
    }
    const out: SeriesRef[] = [];
    for (const r of rows) {
      const key = r.get('series_key') as string;
      const ck = `${tenant}\u0000${key}`;
      let ref = this.#series.get(ck);
      if (ref === undefined) {
        const id = r.get('series_id') as string;
        ref = {
          tenant,
          metric,
          key,
          id,
          shard: shardOf(id),
          combine: (r.get('combine') as CombinePolicy | null) ?? 'last',
        };
      }
      if (filter !== undefined || where !== undefined) {
        const tags = parseSeriesKey(key).tags;
        if (!tagsMatch(tags, filter) || (where !== undefined && !where.matches(tags))) continue;
      }
      out.push(ref);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /** The fleet engine's view of this store at `now`: partition reads through p-queue, retained rows only. */
  #reader(now: number, signal: AbortSignal | undefined): FleetReader<SeriesRef> {
    const retention = this.retention;
    return {
      rollups: async (s, res, from, to, aggregate) => {
        const rows = await readRollups(
          this.#cql,
          res,
          s.tenant,
          s.id,
          from,
          to,
          signal,
          ROLLUP_COLUMNS_FOR[aggregate],
        );
        return rows.filter((p) => isRetained(p.ts, res, retention, now));
      },
      sketches: async (s, res, from, to) => {
        const rows =
          res === 'raw'
            ? await readSketchRaw(this.#cql, s.tenant, s.id, from, to, signal)
            : await readSketchRollups(this.#cql, res, s.tenant, s.id, from, to, signal);
        return rows.filter((r) => isRetained(r.ts, res, retention, now));
      },
      each: async (items, fn) => {
        await mapLimit(items, this.#queryConcurrency, fn, signal);
      },
    };
  }

  /** Roll the closed slots this process marked dirty for `series` (so a rollup read is current). */
  async #rollLocal(
    kind: SlotKind,
    now: number,
    series: readonly SeriesRef[],
    signal?: AbortSignal,
  ): Promise<void> {
    if (series.length === 0) return;
    await this.#buffer.drain();
    const only = new Set(series);
    const dirty = this.#dirty[kind];
    for (const res of ROLLUP_RESOLUTIONS) {
      const slots = dirty.takeClosed(res, now, only);
      await mapLimit(slots, 16, async ({ series: s, start }) => {
        await this.#roller.rollSlot(
          { res, kind, tenant: s.tenant, id: s.id, shard: s.shard, combine: s.combine, start },
          now,
          signal,
        );
        const parent = parentResolution(res);
        if (parent !== undefined) dirty.mark(s, parent, start);
      });
    }
  }

  /** Roll every closed dirty slot of every process (single flight). */
  #rollAll(signal?: AbortSignal): Promise<void> {
    const run = (async () => {
      const now = this.#clock.now();
      // the global pass covers every mark this process wrote: forget the local copies of closed ones
      for (const kind of ['p', 's'] as const) {
        for (const res of ROLLUP_RESOLUTIONS) this.#dirty[kind].takeClosed(res, now);
      }
      for (const [k, end] of this.#marked) if (end <= now) this.#marked.delete(k);
      await this.#roller.rollAll(now, signal);
    })();
    const tracked = run.finally(() => {
      if (this.#rolling === tracked) this.#rolling = undefined;
    });
    this.#rolling = tracked;
    return tracked;
  }
}

/**
 * `${prefix}|${tenant}|${id}|${n}` for a series: a write-buffer key (partition `n`) or a dirty-mark id
 * (slot `n`). The string of a series' latest `n` per prefix is kept on the series and reused, so the
 * buffer's map lookups hash it once rather than once per point.
 */
function seriesBufferKey(ref: SeriesRef, prefix: BufferKeyPrefix, n: number): string {
  let keys = ref.bufferKeys;
  if (keys === undefined) {
    keys = { r: undefined, s: undefined, mp: undefined, ms: undefined };
    ref.bufferKeys = keys;
  }
  const hit = keys[prefix];
  if (hit !== undefined && hit.n === n) return hit.key;
  const key = `${prefix}|${ref.tenant}|${ref.id}|${n}`;
  keys[prefix] = { n, key };
  return key;
}

/** The rollup columns each aggregate reads. */
const ROLLUP_COLUMNS_FOR: Readonly<Record<FleetAggregate, RollupColumns>> = {
  sum: 'sum',
  count: 'sum',
  avg: 'sum',
  min: 'min',
  max: 'max',
  last: 'last',
  rate: 'last',
  delta: 'last',
};

function fleetSeries(list: readonly SeriesRef[]): FleetSeries<SeriesRef>[] {
  return list.map((s) => ({ ref: s, tags: parseSeriesKey(s.key).tags, key: s.key }));
}

/**
 * The exclusive upper bound of values starting with `prefix` (its last code point plus one; UTF-8
 * byte order is code point order), or undefined when there is none to take.
 */
function prefixEnd(prefix: string): string | undefined {
  const cps = [...prefix];
  const last = cps.pop();
  if (last === undefined) return undefined;
  const cp = last.codePointAt(0) as number;
  if (cp === 0x10ffff || cp === 0xd7ff) return undefined;
  return cps.join('') + String.fromCodePoint(cp + 1);
}

function tagsOf(s: SeriesRef): Record<string, string> {
  return sortedTags(parseSeriesKey(s.key).tags);
}
