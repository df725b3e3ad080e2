/**
 * MemoryMetricsStore: the embedded {@link MetricsStore}. Same semantics as the Cassandra store (the
 * shared validation, rollup, combine and resolution modules), with bounded memory: `maxSeries`,
 * `maxPoints`, `maxRollups` and `maxSketchBytes` make a write fail with `E_STORE_UNAVAILABLE` instead of
 * growing.
 *
 * Memory: a raw point costs about 20 bytes in typed arrays (ts and value as float64, the source as an
 * int32 index) plus its 5-minute bucket's share of ~0.4 kB, so ~25–35 B at a 10 s interval; a rollup
 * point ~150 B; a sketch row its encoded size plus ~100 B. See docs/store.md for measured numbers.
 */
import { FleetwatchError, throwIfAborted } from '../errors.js';
import { aggregateSeries, type FleetSeries, guardSeries } from './fleet.js';
import { fleetPercentiles, percentilesRequest } from './fleet-percentiles.js';
import { isFleetPercentileQuery, validateMetricsQuery, validatePercentilesQuery } from './fleet-validate.js';
import { RawBucket } from './memory-buckets.js';
import { rollClosedSlots, sweepExpired } from './memory-maintenance.js';
import {
  type MemoryMetricsStoreOptions,
  type MemoryStoreStats,
  type ResolvedMemoryOptions,
  resolveMemoryOptions,
} from './memory-options.js';
import { memoryReader, rawPointsIn, rollupsIn, sketchesOfPlan } from './memory-reads.js';
import { keysOf, MemoryStoreState, type SeriesData } from './memory-state.js';
import { planCover, queryResolution } from './resolution.js';
import { decodeSketchAt, mergeSketches, percentileResult } from './rollup.js';
import { ROLLUP_RESOLUTIONS, slotStart } from './rollup-slots.js';
import { checkSketchBase } from './sketch-base.js';
import { snapshotPoints, snapshotSketchPoints } from './snapshot.js';
import type {
  AggregatedSeries,
  AggregateQuery,
  MetricsQuery,
  MetricsStore,
  PercentileQuery,
  PercentileResult,
  Point,
  Retention,
  RollupPoint,
  Series,
  SeriesInfo,
  SketchPoint,
  WriteOptions,
  WriteResult,
} from './types.js';
import { DEFAULT_TENANT } from './types.js';
import {
  normalizeWriteOptions,
  validateListSeries,
  validatePoints,
  validateSketchPoints,
  validateTenant,
} from './validate.js';

export type { MemoryMetricsStoreOptions, MemoryStoreStats } from './memory-options.js';

function closedError(): FleetwatchError {
  return new FleetwatchError('E_CLOSED', 'MemoryMetricsStore is closed');
}

/**
 * The embedded metrics store: everything in process memory, bounded by `maxSeries` / `maxPoints` /
 * `maxRollups` / `maxSketchBytes`, with the same rollups, retention, tenants and combine semantics as every store.
 *
 * @example
 * ```ts
 * const store = new MemoryMetricsStore({ retention: { raw: 86_400_000 } });
 * await store.write([{ metric: 'cpu', tags: { host: 'a' }, ts: Date.now(), value: 0.5 }]);
 * const series = await store.query({ metric: 'cpu', from: Date.now() - 3_600_000, to: Date.now() });
 * ```
 */
export class MemoryMetricsStore implements MetricsStore {
  /** The effective retention. */
  readonly retention: Readonly<Retention>;
  readonly #options: ResolvedMemoryOptions;
  readonly #state: MemoryStoreState;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: MemoryMetricsStoreOptions = {}) {
    this.#options = resolveMemoryOptions(options);
    this.retention = this.#options.retention;
    this.#state = new MemoryStoreState(this.retention, this.#options.bounds);
    const interval = this.#options.maintenanceIntervalMs;
    if (interval > 0) {
      this.#timer = setInterval(() => this.#maintain(), interval);
      this.#timer.unref?.();
    }
  }

  /** Counts of what is stored (for monitoring the memory bounds). */
  stats(): MemoryStoreStats {
    const st = this.#state;
    let sketchRollups = 0;
    for (const s of st.allSeries()) {
      for (const r of ROLLUP_RESOLUTIONS) sketchRollups += s.sketchRollups[r].size;
    }
    return {
      series: st.seriesCount,
      points: st.pointCount,
      rollups: st.rollupCount,
      sketches: st.sketchCount,
      sketchRollups,
      sketchBytes: st.sketchBytes,
      dirtySlots: st.dirty.size + st.sketchDirty.size,
    };
  }

  /**
   * Validate the whole batch, then write it; a bad point rejects the batch with `E_VALIDATION` (see {@link
   * MetricsStore.write}).
   */
  async write(batch: readonly Point[], opts?: WriteOptions): Promise<WriteResult> {
    if (this.#closed) throw closedError();
    const o = normalizeWriteOptions(opts);
    throwIfAborted(o.signal);
    const now = this.#options.clock.now();
    const points = snapshotPoints(batch);
    validatePoints(points, { now, rawRetentionMs: this.retention.raw });
    const n = points.length;
    if (n === 0) return { accepted: 0 };
    const keys = keysOf(points);
    this.#state.checkLimits(points, keys, 'points', n);
    const src = this.#state.sourceId(o.source);
    let last: SeriesData | undefined;
    let lastKey = '';
    for (let i = 0; i < n; i++) {
      const p = points[i] as Point;
      const key = keys[i] as string;
      let s = last;
      if (s === undefined || key !== lastKey || s.tenant !== (p.tenant ?? DEFAULT_TENANT)) {
        s = this.#state.series(p.tenant ?? DEFAULT_TENANT, p.metric, p.tags, key);
        last = s;
        lastKey = key;
      }
      if (s.policy === undefined) s.policy = o.combine;
      const slot = slotStart(p.ts, '5m');
      let bucket = s.raw.get(slot);
      if (bucket === undefined) {
        bucket = new RawBucket();
        s.raw.set(slot, bucket);
      }
      bucket.push(p.ts, p.value, src);
      this.#state.dirty.mark(s, '5m', p.ts);
    }
    this.#state.pointCount += n;
    return { accepted: n };
  }

  /** Fleet query: one series per group of the selected series (see {@link MetricsQuery.aggregate}). */
  query(q: AggregateQuery): Promise<AggregatedSeries[]>;
  /**
   * Series with points for a metric and range at the chosen resolution; `E_QUERY_TOO_LARGE` past
   * `maxQuerySeries` or `maxQueryPoints`.
   */
  query(q: MetricsQuery): Promise<Series[]>;
  async query(q: MetricsQuery): Promise<Series[] | AggregatedSeries[]> {
    if (this.#closed) throw closedError();
    const fleet = validateMetricsQuery(q);
    throwIfAborted(q.signal);
    const now = this.#options.clock.now();
    const tenant = q.tenant ?? DEFAULT_TENANT;
    const chosen = queryResolution(q, now, this.retention, this.#options.rawIntervalMs);
    const matching = this.#state.matching(tenant, q.metric, q.tags, fleet);
    guardSeries(matching.length, this.#options.limits);
    if (fleet.aggregate !== undefined) {
      const res = chosen === 'raw' ? '5m' : chosen;
      if (matching.length > 0) rollClosedSlots(this.#state, now, new Set(matching));
      return aggregateSeries(
        this.#fleetSeries(matching),
        { ...fleet, aggregate: fleet.aggregate, metric: q.metric, from: q.from, to: q.to, res },
        memoryReader(this.#state, now),
        this.#options.limits,
      );
    }
    const res = chosen;
    if (res !== 'raw' && matching.length > 0) rollClosedSlots(this.#state, now, new Set(matching));
    const out: Series[] = [];
    for (const s of matching) {
      if (res === 'raw') {
        const points = rawPointsIn(this.#state, s, q.from, q.to, now);
        if (points.length > 0) out.push({ metric: s.metric, tags: { ...s.tags }, resolution: 'raw', points });
      } else {
        const points: RollupPoint[] = rollupsIn(this.#state, s, res, q.from, q.to, now).map((p) => ({
          ...p,
        }));
        if (points.length > 0) out.push({ metric: s.metric, tags: { ...s.tags }, resolution: res, points });
      }
    }
    return out;
  }

  /** Metric names of a tenant (`default` when omitted), sorted. */
  async listMetrics(tenant?: string): Promise<string[]> {
    if (this.#closed) throw closedError();
    validateTenant(tenant, 'tenant');
    const metrics = this.#state.tenants.get(tenant ?? DEFAULT_TENANT);
    if (metrics === undefined) return [];
    return [...metrics.keys()].sort();
  }

  /** Series of a metric whose tags include `tagFilter`. */
  async listSeries(
    metric: string,
    tagFilter?: Record<string, string>,
    tenant?: string,
  ): Promise<SeriesInfo[]> {
    if (this.#closed) throw closedError();
    const t = validateListSeries(metric, tagFilter, tenant);
    return this.#state.matching(t, metric, tagFilter).map((s) => ({
      metric: s.metric,
      tags: { ...s.tags },
    }));
  }

  /** Store sketches (rollups merge them); validated as {@link MemoryMetricsStore.write} validates points. */
  async writeSketches(batch: readonly SketchPoint[], opts?: WriteOptions): Promise<WriteResult> {
    if (this.#closed) throw closedError();
    const o = normalizeWriteOptions(opts);
    throwIfAborted(o.signal);
    const points = snapshotSketchPoints(batch);
    validateSketchPoints(points, { now: this.#options.clock.now(), rawRetentionMs: this.retention.raw });
    const n = points.length;
    if (n === 0) return { accepted: 0 };
    const keys = keysOf(points);
    // every sketch must decode, and one series keeps one bucket base (relative accuracy), except that
    // sketches with a scale (exponential mapping) of any two scales merge
    const bases = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const p = points[i] as SketchPoint;
      const base = decodeSketchAt(p.sketch, `points[${i}].sketch`).base;
      const id = `${p.tenant ?? DEFAULT_TENANT}\u0000${keys[i]}`;
      const want =
        bases.get(id) ??
        this.#state.lookup(p.tenant ?? DEFAULT_TENANT, p.metric, keys[i] as string)?.sketchBase;
      if (want !== undefined) checkSketchBase(i, want, base);
      bases.set(id, base);
    }
    let bytes = 0;
    for (const p of points) bytes += p.sketch.length;
    this.#state.checkLimits(points, keys, 'sketches', bytes);
    const src = this.#state.sourceId(o.source);
    for (let i = 0; i < n; i++) {
      const p = points[i] as SketchPoint;
      const tenant = p.tenant ?? DEFAULT_TENANT;
      const s = this.#state.series(tenant, p.metric, p.tags, keys[i] as string);
      s.sketchBase ??= bases.get(`${tenant}\u0000${keys[i]}`);
      const slot = slotStart(p.ts, '5m');
      let rows = s.sketchRaw.get(slot);
      if (rows === undefined) {
        rows = [];
        s.sketchRaw.set(slot, rows);
      }
      const bytes = p.sketch;
      const same = rows.find((r) => r.ts === p.ts && r.src === src);
      if (same !== undefined) {
        this.#state.sketchBytes += bytes.length - same.bytes.length;
        same.bytes = bytes;
      } else {
        rows.push({ ts: p.ts, src, bytes });
        this.#state.sketchCount++;
        this.#state.sketchBytes += bytes.length;
      }
      this.#state.sketchDirty.mark(s, '5m', p.ts);
    }
    return { accepted: n };
  }

  /** Percentiles over a range, merged from stored sketches across sources and slots. */
  async queryPercentiles(q: PercentileQuery): Promise<PercentileResult[]> {
    if (this.#closed) throw closedError();
    const fleet = validatePercentilesQuery(q);
    throwIfAborted(q.signal);
    const now = this.#options.clock.now();
    const matching = this.#state
      .matching(q.tenant ?? DEFAULT_TENANT, q.metric, q.tags, fleet)
      .filter((s) => s.sketchBase !== undefined);
    guardSeries(matching.length, this.#options.limits);
    if (matching.length === 0) return [];
    rollClosedSlots(this.#state, now, new Set(matching));
    if (isFleetPercentileQuery(q)) {
      return fleetPercentiles(
        this.#fleetSeries(matching),
        percentilesRequest(fleet, q, now, this.retention),
        memoryReader(this.#state, now),
        this.#options.limits,
      );
    }
    const plan = planCover({ from: q.from, to: q.to, now, retention: this.retention });
    const out: PercentileResult[] = [];
    for (const s of matching) {
      const parts = sketchesOfPlan(this.#state, s, plan, now);
      const merged = mergeSketches(parts);
      if (merged === undefined || merged.count === 0) continue;
      out.push(percentileResult(s.metric, { ...s.tags }, merged, q.quantiles));
    }
    return out;
  }

  /** Bring the rollups of every closed slot up to date (the memory store buffers nothing else). */
  async flush(opts?: { signal?: AbortSignal }): Promise<void> {
    if (this.#closed) throw closedError();
    throwIfAborted(opts?.signal);
    this.#maintain();
  }

  /** Drop expired data now (rolling closed slots first, so nothing is lost before it is rolled). */
  sweep(): void {
    if (this.#closed) throw closedError();
    this.#maintain();
  }

  /** Release the data and stop the maintenance timer. Idempotent; later calls reject with `E_CLOSED`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#maintain();
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#state.clear();
  }

  #maintain(): void {
    try {
      const now = this.#options.clock.now();
      rollClosedSlots(this.#state, now);
      sweepExpired(this.#state, now);
    } catch (err) {
      this.#options.logger.error({ err }, 'MemoryMetricsStore maintenance failed');
    }
  }

  #fleetSeries(list: readonly SeriesData[]): FleetSeries<SeriesData>[] {
    return list.map((s) => ({ ref: s, tags: s.tags, key: s.key }));
  }
}
