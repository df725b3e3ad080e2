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
import { aggregateSeries, guardSeries, type QueryLimits } from '../metrics-store/fleet.js';
import { fleetPercentiles, percentilesRequest } from '../metrics-store/fleet-percentiles.js';
import {
  isFleetPercentileQuery,
  validateMetricsQuery,
  validatePercentilesQuery,
} from '../metrics-store/fleet-validate.js';
import { queryResolution } from '../metrics-store/resolution.js';
import { snapshotPoints, snapshotSketchPoints } from '../metrics-store/snapshot.js';
import type * as M from '../metrics-store/types.js';
import { DEFAULT_TENANT } from '../metrics-store/types.js';
import {
  normalizeWriteOptions,
  validateListSeries,
  validatePoints,
  validateSketchPoints,
  validateTenant,
} from '../metrics-store/validate.js';
import { createClient } from './connection.js';
import { toStoreError } from './driver-errors.js';
import { rawRowTtl } from './metrics-blocks.js';
import { MetricsCql, nextWriteTimestamp, type ReadStats } from './metrics-cql.js';
import { GroupRollups } from './metrics-groups.js';
import {
  type CassandraMetricsStoreOptions,
  type NormalizedStoreOptions,
  normalizeStoreOptions,
} from './metrics-options.js';
import {
  fleetReader,
  fleetSeries,
  type QueryContext,
  readPercentiles,
  readSeries,
  tagsOf,
} from './metrics-queries.js';
import { MetricsRoller, type SeriesRef } from './metrics-roller.js';
import { LocalRolls } from './metrics-rolling.js';
import { bucketOf, metricsMigrations, ttlSeconds } from './metrics-schema.js';
import { checkBatchSketchBases, INDEX_REFRESH_MS, SeriesCatalog, seriesBufferKey } from './metrics-series.js';
import { ensureKeyspace, ensureSchema } from './schema.js';
import { type BufferedStatement, WriteBuffer } from './write-buffer.js';

/** The schema component name of the metrics tables in `schema_version`. */
export const METRICS_SCHEMA_COMPONENT = 'metrics';

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
export class CassandraMetricsStore implements M.MetricsStore {
  /** The effective retention. */
  readonly retention: Readonly<M.Retention>;
  /** The keyspace used. */
  readonly keyspace: string;
  readonly #client: Client;
  readonly #ownsClient: boolean;
  readonly #cql: MetricsCql;
  readonly #roller: MetricsRoller;
  readonly #buffer: WriteBuffer;
  readonly #catalog: SeriesCatalog;
  readonly #local: LocalRolls;
  readonly #ctx: QueryContext;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #rawIntervalMs: number;
  readonly #limits: QueryLimits;
  #timer: ReturnType<typeof setInterval> | undefined;
  #rolling: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(
    client: Client,
    ownsClient: boolean,
    o: NormalizedStoreOptions,
    cql: MetricsCql,
    groups: GroupRollups,
  ) {
    this.#client = client;
    this.#ownsClient = ownsClient;
    this.keyspace = o.keyspace;
    this.retention = o.retention;
    this.#clock = o.clock;
    this.#logger = o.logger;
    this.#rawIntervalMs = o.rawIntervalMs;
    this.#limits = { maxSeries: o.maxQuerySeries, maxPoints: o.maxQueryPoints };
    this.#cql = cql;
    const indexTtl = ttlSeconds(Math.max(...Object.values(o.retention)) + INDEX_REFRESH_MS);
    this.#catalog = new SeriesCatalog(cql, indexTtl, o.timeoutMs);
    this.#roller = new MetricsRoller(cql, o.retention, o.logger, groups, o.rawRowRetentionMs);
    this.#ctx = {
      cql,
      retention: o.retention,
      rawRowRetentionMs: o.rawRowRetentionMs,
      limits: this.#limits,
      concurrency: o.queryConcurrency,
      groups,
    };
    this.#buffer = new WriteBuffer({
      send: cql.send,
      maxRows: o.maxRows,
      concurrency: o.concurrency,
      maxBatch: o.maxBatchRows,
      timeoutMs: o.timeoutMs,
      logger: o.logger,
    });
    this.#local = new LocalRolls(this.#roller, this.#buffer);
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
   * Connect, create the keyspace if missing (with `replication`), create or migrate the tables
   * (idempotent; safe when several processes start at once), and record the group rollups kept.
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
      const applied = await ensureSchema(client, {
        keyspace: o.keyspace,
        component: METRICS_SCHEMA_COMPONENT,
        migrations: metricsMigrations(o.retention),
        logger: o.logger,
        ...(o.signal !== undefined ? { signal: o.signal } : {}),
      });
      const cql = new MetricsCql(client, o.keyspace, o.readConsistency, o.writeConsistency);
      // a schema created by this call holds no data yet: its groups are complete from the start
      const groups = await GroupRollups.load(cql, o.groupRollupTags, o.clock.now(), applied.includes(1));
      return new CassandraMetricsStore(client, owns, o, cql, groups);
    } catch (err) {
      if (owns) await client.shutdown().catch(() => undefined);
      throw err;
    }
  }

  /** Partitions read and rows returned since the store was created (cumulative). */
  get readStats(): Readonly<ReadStats> {
    return { ...this.#cql.stats };
  }

  /** Statements queued in the write buffer or in flight. */
  get buffered(): number {
    return this.#buffer.size;
  }

  /**
   * Validate the whole batch, then queue its rows in the write buffer (resolves once queued; `flush()` waits
   * for them to land). A bad point rejects the batch with `E_VALIDATION`.
   */
  async write(batch: readonly M.Point[], opts?: M.WriteOptions): Promise<M.WriteResult> {
    if (this.#closed) throw closedError();
    const o = normalizeWriteOptions(opts);
    throwIfAborted(o.signal);
    const now = this.#clock.now();
    // validate and store one copy: the caller may change its batch while the write is pending
    const points = snapshotPoints(batch);
    validatePoints(points, { now, rawRetentionMs: this.retention.raw });
    if (points.length === 0) return { accepted: 0 };
    const started = Date.now();
    const refs = await this.#catalog.resolve(points, o.combine, started, o.signal);
    const q = this.#cql.q;
    const stmts: BufferedStatement[] = new Array(points.length);
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as M.Point;
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
          rawRowTtl(p.ts, now, this.retention, this.#ctx.rawRowRetentionMs),
          nextWriteTimestamp(),
        ],
      };
    }
    await this.#buffer.submit(stmts, o.signal);
    await this.#buffer.submit(this.#local.markStatements(points, refs, 'p', now), o.signal);
    return { accepted: points.length };
  }

  /**
   * Store sketches (rollups merge them); validated and buffered as {@link CassandraMetricsStore.write} does
   * with points.
   */
  async writeSketches(batch: readonly M.SketchPoint[], opts?: M.WriteOptions): Promise<M.WriteResult> {
    if (this.#closed) throw closedError();
    const o = normalizeWriteOptions(opts);
    throwIfAborted(o.signal);
    const now = this.#clock.now();
    const points = snapshotSketchPoints(batch);
    validateSketchPoints(points, { now, rawRetentionMs: this.retention.raw });
    checkBatchSketchBases(points);
    if (points.length === 0) return { accepted: 0 };
    const started = Date.now();
    const refs = await this.#catalog.resolve(points, o.combine, started, o.signal);
    await this.#catalog.recordSketchBases(points, refs, started, o.signal);
    const q = this.#cql.q;
    const stmts: BufferedStatement[] = points.map((p, i) => {
      const ref = refs[i] as SeriesRef;
      const bucket = bucketOf(p.ts, 'raw');
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
          // raw sketch rows have no blocks: they live the whole raw retention
          rawRowTtl(p.ts, now, this.retention, this.retention.raw),
          nextWriteTimestamp(),
        ],
      };
    });
    await this.#buffer.submit(stmts, o.signal);
    await this.#buffer.submit(this.#local.markStatements(points, refs, 's', now), o.signal);
    return { accepted: points.length };
  }

  /** Fleet query: one series per group of the selected series, from the rollup tables. */
  query(q: M.AggregateQuery): Promise<M.AggregatedSeries[]>;
  /**
   * Series with points for a metric and range at the chosen resolution; `E_QUERY_TOO_LARGE` past the `queries`
   * limits (`maxSeries`, `maxPoints`).
   */
  query(q: M.MetricsQuery): Promise<M.Series[]>;
  async query(q: M.MetricsQuery): Promise<M.Series[] | M.AggregatedSeries[]> {
    if (this.#closed) throw closedError();
    const fleet = validateMetricsQuery(q);
    throwIfAborted(q.signal);
    const now = this.#clock.now();
    const chosen = queryResolution(q, now, this.retention, this.#rawIntervalMs);
    const tenant = q.tenant ?? DEFAULT_TENANT;
    const matched = await this.#catalog.matching(tenant, q.metric, q.tags, q.signal, fleet);
    const series = matched.selected;
    guardSeries(series.length, this.#limits);
    if (fleet.aggregate !== undefined) {
      const res = chosen === 'raw' ? '5m' : chosen;
      await this.#local.roll('p', now, series, q.signal);
      return aggregateSeries(
        fleetSeries(series),
        { ...fleet, aggregate: fleet.aggregate, metric: q.metric, from: q.from, to: q.to, res },
        fleetReader(this.#ctx, now, q.signal, matched, fleet.groupBy ?? []),
        this.#limits,
      );
    }
    if (chosen !== 'raw') await this.#local.roll('p', now, series, q.signal);
    return readSeries(this.#ctx, q, chosen, series, now);
  }

  /** Percentiles over a range, merged from stored sketches across sources and slots. */
  async queryPercentiles(q: M.PercentileQuery): Promise<M.PercentileResult[]> {
    if (this.#closed) throw closedError();
    const fleet = validatePercentilesQuery(q);
    throwIfAborted(q.signal);
    const now = this.#clock.now();
    const tenant = q.tenant ?? DEFAULT_TENANT;
    const matched = await this.#catalog.matching(tenant, q.metric, q.tags, q.signal, fleet);
    const series = matched.selected;
    guardSeries(series.length, this.#limits);
    await this.#local.roll('s', now, series, q.signal);
    if (!isFleetPercentileQuery(q)) return readPercentiles(this.#ctx, q, series, now);
    return fleetPercentiles(
      fleetSeries(series),
      percentilesRequest(fleet, q, now, this.retention),
      fleetReader(this.#ctx, now, q.signal, matched, fleet.groupBy ?? []),
      this.#limits,
    );
  }

  /** Metric names of a tenant (`default` when omitted). */
  async listMetrics(tenant?: string): Promise<string[]> {
    if (this.#closed) throw closedError();
    validateTenant(tenant, 'tenant');
    const rows = await this.#cql.select(this.#cql.q.selectMetrics, [tenant ?? DEFAULT_TENANT]);
    return rows.map((r) => r.get('metric') as string).sort();
  }

  /** Series of a metric whose tags include `tagFilter`. */
  async listSeries(
    metric: string,
    tagFilter?: Record<string, string>,
    tenant?: string,
  ): Promise<M.SeriesInfo[]> {
    if (this.#closed) throw closedError();
    const t = validateListSeries(metric, tagFilter, tenant);
    const { selected: series } = await this.#catalog.matching(t, metric, tagFilter);
    return series.map((s) => ({ metric: s.metric, tags: tagsOf(s) }));
  }

  /** Wait for every buffered write to land, then bring the rollups of every closed slot up to date. */
  async flush(opts?: AbortOptions): Promise<void> {
    if (this.#closed) throw closedError();
    throwIfAborted(opts?.signal);
    await this.#buffer.drain();
    // a pass already running may have started before our writes landed: run one more after it
    if (this.#rolling !== undefined) await this.#rolling.catch(() => undefined);
    await this.#rollAll(opts?.signal);
  }

  /**
   * Drain the write buffer, run a last rollup pass and shut the driver down when the store created it.
   * Idempotent; later calls reject with `E_CLOSED`.
   */
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

  /** Roll every closed dirty slot of every process (single flight). */
  #rollAll(signal?: AbortSignal): Promise<void> {
    const run = (async () => {
      const now = this.#clock.now();
      // the global pass covers every mark this process wrote: forget the local copies of closed ones
      this.#local.forgetClosed(now);
      await this.#roller.rollAll(now, signal);
    })();
    const tracked = run.finally(() => {
      if (this.#rolling === tracked) this.#rolling = undefined;
    });
    this.#rolling = tracked;
    return tracked;
  }
}
