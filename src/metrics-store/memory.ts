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
import { type Clock, type Logger, rejectUnknownKeys, silentLogger, systemClock } from '../core.js';
import { FleetwatchError, throwIfAborted, validationError } from '../errors.js';
import type { DDSketch } from '../metrics/sketch.js';
import {
  aggregateSeries,
  DEFAULT_QUERY_LIMITS,
  type FleetReader,
  type FleetSeries,
  type SketchRow as FleetSketchRow,
  guardSeries,
  type QueryLimits,
} from './fleet.js';
import { fleetPercentiles } from './fleet-percentiles.js';
import {
  type FleetOptions,
  isFleetPercentileQuery,
  validateMetricsQuery,
  validatePercentilesQuery,
} from './fleet-validate.js';
import { keysInRange, RawBucket } from './memory-buckets.js';
import { DEFAULT_RAW_INTERVAL_MS, planCover, queryResolution } from './resolution.js';
import {
  DirtySlots,
  decodeSketchAt,
  expiresAt,
  isRetained,
  mergeSketches,
  parentResolution,
  percentileResult,
  ROLLUP_RESOLUTIONS,
  type RollupResolution,
  rollupFromChildren,
  slotStart,
  statsFromRaw,
  toRollupPoint,
} from './rollup.js';
import { seriesKey, sortedTags, tagsMatch } from './series-key.js';
import { checkSketchBase } from './sketch-base.js';
import { snapshotPoints, snapshotSketchPoints } from './snapshot.js';
import type {
  AggregatedSeries,
  AggregateQuery,
  CombinePolicy,
  MetricsQuery,
  MetricsStore,
  PercentileQuery,
  PercentileResult,
  Point,
  RawPoint,
  Resolution,
  Retention,
  RollupPoint,
  Series,
  SeriesInfo,
  SketchPoint,
  WriteOptions,
  WriteResult,
} from './types.js';
import { DEFAULT_RETENTION, DEFAULT_TENANT, RESOLUTION_MS } from './types.js';
import {
  normalizeRetention,
  normalizeWriteOptions,
  validateMetricName,
  validatePoints,
  validateSketchPoints,
  validateTagFilter,
  validateTenant,
} from './validate.js';

/** Options of {@link MemoryMetricsStore}. */
export interface MemoryMetricsStoreOptions {
  /** Retention per resolution, merged over the defaults. @default raw 7 d, 5m 30 d, 1h 400 d, 1d 5 y */
  retention?: Partial<Retention>;
  /** The clock for validation windows, closed slots, retention and `auto`. @default systemClock */
  clock?: Clock;
  /** Where background maintenance failures are logged. @default silentLogger */
  logger?: Logger;
  /** Most series (all tenants together). A write that would add more fails. @default 100000 */
  maxSeries?: number;
  /**
   * Most stored raw points (all series; resends count until their slot is compacted). At 25–40 B a point
   * (1–10 s intervals) the default is ~250–400 MB. @default 10000000
   */
  maxPoints?: number;
  /**
   * Most stored numeric rollup points (all resolutions). Rollups are made by the store, so this is
   * checked when points are written: once reached, writes fail until retention frees some. About
   * 200 B each: the default is ~400 MB. @default 2000000
   */
  maxRollups?: number;
  /** Most bytes of stored sketches (raw rows and rollups, encoded size). @default 268435456 (256 MiB) */
  maxSketchBytes?: number;
  /**
   * How often rollups of closed slots are computed and expired data dropped, in ms; 0 turns the timer
   * off (reads, `flush()` and `sweep()` still do both). The timer is `unref`'d. @default 60000
   */
  maintenanceIntervalMs?: number;
  /** Raw interval `auto` assumes. @default 30000 */
  rawIntervalMs?: number;
  /** Most series one query may select; more is `E_QUERY_TOO_LARGE`. @default 10000 */
  maxQuerySeries?: number;
  /**
   * Most stored points (rollup slots, sketch rows) one fleet query may read, estimated before reading;
   * more is `E_QUERY_TOO_LARGE`. @default 5000000
   */
  maxQueryPoints?: number;
}

/** What {@link MemoryMetricsStore.stats} reports. */
export interface MemoryStoreStats {
  series: number;
  /** Stored raw point rows. */
  points: number;
  /** Stored rollup points, all resolutions. */
  rollups: number;
  /** Stored raw sketch rows. */
  sketches: number;
  /** Stored rollup sketches. */
  sketchRollups: number;
  /** Encoded bytes of every stored sketch (raw and rollups). */
  sketchBytes: number;
  /** Dirty slots waiting to be rolled. */
  dirtySlots: number;
}

const OPTION_KEYS = [
  'retention',
  'clock',
  'logger',
  'maxSeries',
  'maxPoints',
  'maxRollups',
  'maxSketchBytes',
  'maintenanceIntervalMs',
  'rawIntervalMs',
  'maxQuerySeries',
  'maxQueryPoints',
] as const;

/** One stored raw sketch row. */
interface SketchRow {
  ts: number;
  src: number;
  bytes: Uint8Array;
}

/** Everything stored for one series of one tenant. */
class SeriesData {
  /** Combine policy, recorded at the first numeric write. */
  policy: CombinePolicy | undefined;
  /**
   * Bucket base (γ) of the series' first sketch; later sketches must have it, or both a scale
   * ({@link checkSketchBase}).
   */
  sketchBase: number | undefined;
  readonly raw = new Map<number, RawBucket>();
  readonly rollups: Record<RollupResolution, Map<number, RollupPoint>> = {
    '5m': new Map(),
    '1h': new Map(),
    '1d': new Map(),
  };
  /** Raw sketch rows by 5m slot start. */
  readonly sketchRaw = new Map<number, SketchRow[]>();
  /** Merged sketch bytes per rollup slot. */
  readonly sketchRollups: Record<RollupResolution, Map<number, Uint8Array>> = {
    '5m': new Map(),
    '1h': new Map(),
    '1d': new Map(),
  };

  constructor(
    readonly tenant: string,
    readonly metric: string,
    readonly tags: Readonly<Record<string, string>>,
    readonly key: string,
  ) {}

  get empty(): boolean {
    return (
      this.raw.size === 0 &&
      this.sketchRaw.size === 0 &&
      ROLLUP_RESOLUTIONS.every((r) => this.rollups[r].size === 0 && this.sketchRollups[r].size === 0)
    );
  }
}

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
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxSeries: number;
  readonly #maxPoints: number;
  readonly #maxRollups: number;
  readonly #maxSketchBytes: number;
  readonly #rawIntervalMs: number;
  readonly #limits: QueryLimits;
  /** tenant → metric → series key → data */
  readonly #tenants = new Map<string, Map<string, Map<string, SeriesData>>>();
  readonly #dirty = new DirtySlots<SeriesData>();
  readonly #sketchDirty = new DirtySlots<SeriesData>();
  readonly #sources: string[] = [];
  readonly #sourceIds = new Map<string, number>();
  #seriesCount = 0;
  #pointCount = 0;
  #sketchCount = 0;
  #rollupCount = 0;
  #sketchBytes = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: MemoryMetricsStoreOptions = {}) {
    if (options === null || typeof options !== 'object')
      throw validationError('options', 'an options object', options);
    rejectUnknownKeys(options, OPTION_KEYS);
    this.retention = normalizeRetention(options.retention, DEFAULT_RETENTION);
    this.#clock = options.clock ?? systemClock;
    if (typeof this.#clock.now !== 'function') throw validationError('options.clock', 'a Clock', this.#clock);
    this.#logger = options.logger ?? silentLogger;
    this.#maxSeries = positiveInt(options.maxSeries, 100_000, 'options.maxSeries');
    this.#maxPoints = positiveInt(options.maxPoints, 10_000_000, 'options.maxPoints');
    this.#maxRollups = positiveInt(options.maxRollups, 2_000_000, 'options.maxRollups');
    this.#maxSketchBytes = positiveInt(options.maxSketchBytes, 256 * 1024 * 1024, 'options.maxSketchBytes');
    this.#rawIntervalMs = positiveInt(
      options.rawIntervalMs,
      DEFAULT_RAW_INTERVAL_MS,
      'options.rawIntervalMs',
    );
    this.#limits = {
      maxSeries: positiveInt(
        options.maxQuerySeries,
        DEFAULT_QUERY_LIMITS.maxSeries,
        'options.maxQuerySeries',
      ),
      maxPoints: positiveInt(
        options.maxQueryPoints,
        DEFAULT_QUERY_LIMITS.maxPoints,
        'options.maxQueryPoints',
      ),
    };
    const interval = options.maintenanceIntervalMs ?? 60_000;
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
      throw validationError('options.maintenanceIntervalMs', 'a number >= 0', interval);
    }
    if (interval > 0) {
      this.#timer = setInterval(() => this.#maintain(), interval);
      this.#timer.unref?.();
    }
  }

  /** Counts of what is stored (for monitoring the memory bounds). */
  stats(): MemoryStoreStats {
    let sketchRollups = 0;
    for (const s of this.#allSeries()) {
      for (const r of ROLLUP_RESOLUTIONS) sketchRollups += s.sketchRollups[r].size;
    }
    return {
      series: this.#seriesCount,
      points: this.#pointCount,
      rollups: this.#rollupCount,
      sketches: this.#sketchCount,
      sketchRollups,
      sketchBytes: this.#sketchBytes,
      dirtySlots: this.#dirty.size + this.#sketchDirty.size,
    };
  }

  async write(batch: readonly Point[], opts?: WriteOptions): Promise<WriteResult> {
    if (this.#closed) throw closedError();
    const o = normalizeWriteOptions(opts);
    throwIfAborted(o.signal);
    const now = this.#clock.now();
    const points = snapshotPoints(batch);
    validatePoints(points, { now, rawRetentionMs: this.retention.raw });
    const n = points.length;
    if (n === 0) return { accepted: 0 };
    const keys = this.#keysOf(points);
    this.#checkLimits(points, keys, 'points', n);
    const src = this.#sourceId(o.source);
    let last: SeriesData | undefined;
    let lastKey = '';
    for (let i = 0; i < n; i++) {
      const p = points[i] as Point;
      const key = keys[i] as string;
      let s = last;
      if (s === undefined || key !== lastKey || s.tenant !== (p.tenant ?? DEFAULT_TENANT)) {
        s = this.#series(p.tenant ?? DEFAULT_TENANT, p.metric, p.tags, key);
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
      this.#dirty.mark(s, '5m', p.ts);
    }
    this.#pointCount += n;
    return { accepted: n };
  }

  query(q: AggregateQuery): Promise<AggregatedSeries[]>;
  query(q: MetricsQuery): Promise<Series[]>;
  async query(q: MetricsQuery): Promise<Series[] | AggregatedSeries[]> {
    if (this.#closed) throw closedError();
    const fleet = validateMetricsQuery(q);
    throwIfAborted(q.signal);
    const now = this.#clock.now();
    const tenant = q.tenant ?? DEFAULT_TENANT;
    const chosen = queryResolution(q, now, this.retention, this.#rawIntervalMs);
    const matching = this.#matching(tenant, q.metric, q.tags, fleet);
    guardSeries(matching.length, this.#limits);
    if (fleet.aggregate !== undefined) {
      const res = chosen === 'raw' ? '5m' : chosen;
      if (matching.length > 0) this.#roll(now, new Set(matching));
      return aggregateSeries(
        this.#fleetSeries(matching),
        { ...fleet, aggregate: fleet.aggregate, metric: q.metric, from: q.from, to: q.to, res },
        this.#reader(now),
        this.#limits,
      );
    }
    const res = chosen;
    if (res !== 'raw' && matching.length > 0) this.#roll(now, new Set(matching));
    const out: Series[] = [];
    for (const s of matching) {
      if (res === 'raw') {
        const points = this.#rawPoints(s, q.from, q.to, now);
        if (points.length > 0) out.push({ metric: s.metric, tags: { ...s.tags }, resolution: 'raw', points });
      } else {
        const map = s.rollups[res];
        const points: RollupPoint[] = [];
        for (const k of keysInRange(map, q.from, q.to, RESOLUTION_MS[res])) {
          if (k < q.from || !isRetained(k, res, this.retention, now)) continue;
          points.push({ ...(map.get(k) as RollupPoint) });
        }
        if (points.length > 0) out.push({ metric: s.metric, tags: { ...s.tags }, resolution: res, points });
      }
    }
    return out;
  }

  async listMetrics(tenant?: string): Promise<string[]> {
    if (this.#closed) throw closedError();
    validateTenant(tenant, 'tenant');
    const metrics = this.#tenants.get(tenant ?? DEFAULT_TENANT);
    if (metrics === undefined) return [];
    return [...metrics.keys()].sort();
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
    return this.#matching(tenant ?? DEFAULT_TENANT, metric, tagFilter).map((s) => ({
      metric: s.metric,
      tags: { ...s.tags },
    }));
  }

  async writeSketches(batch: readonly SketchPoint[], opts?: WriteOptions): Promise<WriteResult> {
    if (this.#closed) throw closedError();
    const o = normalizeWriteOptions(opts);
    throwIfAborted(o.signal);
    const points = snapshotSketchPoints(batch);
    validateSketchPoints(points, { now: this.#clock.now(), rawRetentionMs: this.retention.raw });
    const n = points.length;
    if (n === 0) return { accepted: 0 };
    const keys = this.#keysOf(points);
    // every sketch must decode, and one series keeps one bucket base (relative accuracy), except that
    // sketches with a scale (exponential mapping) of any two scales merge
    const bases = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const p = points[i] as SketchPoint;
      const base = decodeSketchAt(p.sketch, `points[${i}].sketch`).base;
      const id = `${p.tenant ?? DEFAULT_TENANT}\u0000${keys[i]}`;
      const want =
        bases.get(id) ?? this.#lookup(p.tenant ?? DEFAULT_TENANT, p.metric, keys[i] as string)?.sketchBase;
      if (want !== undefined) checkSketchBase(i, want, base);
      bases.set(id, base);
    }
    let bytes = 0;
    for (const p of points) bytes += p.sketch.length;
    this.#checkLimits(points, keys, 'sketches', bytes);
    const src = this.#sourceId(o.source);
    for (let i = 0; i < n; i++) {
      const p = points[i] as SketchPoint;
      const tenant = p.tenant ?? DEFAULT_TENANT;
      const s = this.#series(tenant, p.metric, p.tags, keys[i] as string);
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
        this.#sketchBytes += bytes.length - same.bytes.length;
        same.bytes = bytes;
      } else {
        rows.push({ ts: p.ts, src, bytes });
        this.#sketchCount++;
        this.#sketchBytes += bytes.length;
      }
      this.#sketchDirty.mark(s, '5m', p.ts);
    }
    return { accepted: n };
  }

  async queryPercentiles(q: PercentileQuery): Promise<PercentileResult[]> {
    if (this.#closed) throw closedError();
    const fleet = validatePercentilesQuery(q);
    throwIfAborted(q.signal);
    const now = this.#clock.now();
    const matching = this.#matching(q.tenant ?? DEFAULT_TENANT, q.metric, q.tags, fleet).filter(
      (s) => s.sketchBase !== undefined,
    );
    guardSeries(matching.length, this.#limits);
    if (matching.length === 0) return [];
    this.#roll(now, new Set(matching));
    if (isFleetPercentileQuery(q)) {
      return fleetPercentiles(
        this.#fleetSeries(matching),
        {
          ...fleet,
          metric: q.metric,
          from: q.from,
          to: q.to,
          quantiles: q.quantiles,
          cover: (from, to) => planCover({ from, to, now, retention: this.retention }),
        },
        this.#reader(now),
        this.#limits,
      );
    }
    const plan = planCover({ from: q.from, to: q.to, now, retention: this.retention });
    const out: PercentileResult[] = [];
    for (const s of matching) {
      const parts: Uint8Array[] = [];
      for (const seg of plan) {
        if (seg.res === 'raw') {
          for (const slot of keysInRange(s.sketchRaw, seg.from, seg.to, RESOLUTION_MS['5m'])) {
            if (!isRetained(slot, 'raw', this.retention, now)) continue;
            for (const r of s.sketchRaw.get(slot) as SketchRow[])
              if (r.ts >= seg.from && r.ts < seg.to) parts.push(r.bytes);
          }
        } else {
          const map = s.sketchRollups[seg.res];
          for (const slot of keysInRange(map, seg.from, seg.to, RESOLUTION_MS[seg.res])) {
            if (slot >= seg.from && isRetained(slot, seg.res, this.retention, now))
              parts.push(map.get(slot) as Uint8Array);
          }
        }
      }
      const merged = mergeSketches(parts);
      if (merged === undefined || merged.count === 0) continue;
      out.push(percentileResult(s.metric, { ...s.tags }, merged, q.quantiles));
    }
    return out;
  }

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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#maintain();
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#tenants.clear();
    this.#seriesCount = 0;
    this.#pointCount = 0;
    this.#sketchCount = 0;
    this.#rollupCount = 0;
    this.#sketchBytes = 0;
  }

  // -------------------------------------------------------------------------------------------

  #maintain(): void {
    try {
      const now = this.#clock.now();
      this.#roll(now);
      this.#sweep(now);
    } catch (err) {
      this.#logger.error({ err }, 'MemoryMetricsStore maintenance failed');
    }
  }

  *#allSeries(): Iterable<SeriesData> {
    for (const metrics of this.#tenants.values()) {
      for (const series of metrics.values()) yield* series.values();
    }
  }

  #sourceId(source: string): number {
    let id = this.#sourceIds.get(source);
    if (id === undefined) {
      id = this.#sources.length;
      this.#sources.push(source);
      this.#sourceIds.set(source, id);
    }
    return id;
  }

  /** Series keys of a batch (consecutive points with the same metric and tags object share one). */
  #keysOf(points: readonly { metric: string; tags?: Record<string, string> }[]): string[] {
    const keys = new Array<string>(points.length);
    let prevMetric: string | undefined;
    let prevTags: Record<string, string> | undefined;
    let prevKey = '';
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as { metric: string; tags?: Record<string, string> };
      if (i > 0 && p.metric === prevMetric && p.tags === prevTags) {
        keys[i] = prevKey;
        continue;
      }
      prevKey = seriesKey(p.metric, p.tags);
      prevMetric = p.metric;
      prevTags = p.tags;
      keys[i] = prevKey;
    }
    return keys;
  }

  #lookup(tenant: string, metric: string, key: string): SeriesData | undefined {
    return this.#tenants.get(tenant)?.get(metric)?.get(key);
  }

  /** Reject the batch (before writing anything) when it would exceed a bound. */
  #checkLimits(
    points: readonly { metric: string; tenant?: string }[],
    keys: readonly string[],
    kind: 'points' | 'sketches',
    /** Rows (points) or bytes (sketches) the batch adds. */
    rows: number,
  ): void {
    let fresh = 0;
    const seen = new Set<string>();
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as { metric: string; tenant?: string };
      const tenant = p.tenant ?? DEFAULT_TENANT;
      const key = keys[i] as string;
      if (this.#lookup(tenant, p.metric, key) !== undefined) continue;
      const id = `${tenant}\u0000${key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      fresh++;
    }
    if (this.#seriesCount + fresh > this.#maxSeries) {
      throw new FleetwatchError(
        'E_STORE_UNAVAILABLE',
        `MemoryMetricsStore: maxSeries (${this.#maxSeries}) reached: ${this.#seriesCount} series stored, the batch adds ${fresh}`,
        { details: { limit: 'maxSeries', max: this.#maxSeries, current: this.#seriesCount, adding: fresh } },
      );
    }
    if (kind === 'points' && this.#rollupCount >= this.#maxRollups) {
      throw new FleetwatchError(
        'E_STORE_UNAVAILABLE',
        `MemoryMetricsStore: maxRollups (${this.#maxRollups}) reached: writes resume when retention frees rollups`,
        { details: { limit: 'maxRollups', max: this.#maxRollups, current: this.#rollupCount, adding: 0 } },
      );
    }
    const [count, max, name] =
      kind === 'points'
        ? [this.#pointCount, this.#maxPoints, 'maxPoints']
        : [this.#sketchBytes, this.#maxSketchBytes, 'maxSketchBytes'];
    if (count + rows > max) {
      throw new FleetwatchError(
        'E_STORE_UNAVAILABLE',
        `MemoryMetricsStore: ${name} (${max}) reached: ${count} stored, the batch adds ${rows}`,
        { details: { limit: name, max, current: count, adding: rows } },
      );
    }
  }

  #series(tenant: string, metric: string, tags: Record<string, string> | undefined, key: string): SeriesData {
    let metrics = this.#tenants.get(tenant);
    if (metrics === undefined) {
      metrics = new Map();
      this.#tenants.set(tenant, metrics);
    }
    let series = metrics.get(metric);
    if (series === undefined) {
      series = new Map();
      metrics.set(metric, series);
    }
    let s = series.get(key);
    if (s === undefined) {
      s = new SeriesData(tenant, metric, Object.freeze(sortedTags(tags)), key);
      series.set(key, s);
      this.#seriesCount++;
    }
    return s;
  }

  #matching(
    tenant: string,
    metric: string,
    filter: Record<string, string> | undefined,
    fleet?: FleetOptions,
  ): SeriesData[] {
    const series = this.#tenants.get(tenant)?.get(metric);
    if (series === undefined) return [];
    const out: SeriesData[] = [];
    const where = fleet?.where;
    for (const s of series.values()) {
      if (tagsMatch(s.tags, filter) && (where === undefined || where.matches(s.tags))) out.push(s);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  #fleetSeries(list: readonly SeriesData[]): FleetSeries<SeriesData>[] {
    return list.map((s) => ({ ref: s, tags: s.tags, key: s.key }));
  }

  /** The fleet engine's view of this store at `now` (retained data only). */
  #reader(now: number): FleetReader<SeriesData> {
    const retention = this.retention;
    return {
      rollups: async (s, res, from, to) => {
        const map = s.rollups[res];
        const out: RollupPoint[] = [];
        for (const k of keysInRange(map, from, to, RESOLUTION_MS[res])) {
          if (k >= from && isRetained(k, res, retention, now)) out.push(map.get(k) as RollupPoint);
        }
        return out;
      },
      sketches: async (s, res: Resolution, from, to) => {
        const out: FleetSketchRow[] = [];
        if (res === 'raw') {
          for (const slot of keysInRange(s.sketchRaw, from, to, RESOLUTION_MS['5m'])) {
            if (!isRetained(slot, 'raw', retention, now)) continue;
            for (const r of s.sketchRaw.get(slot) as SketchRow[])
              if (r.ts >= from && r.ts < to) out.push({ ts: r.ts, sketch: r.bytes });
          }
          out.sort((a, b) => a.ts - b.ts);
        } else {
          const map = s.sketchRollups[res];
          for (const slot of keysInRange(map, from, to, RESOLUTION_MS[res])) {
            if (slot >= from && isRetained(slot, res, retention, now))
              out.push({ ts: slot, sketch: map.get(slot) as Uint8Array });
          }
        }
        return out;
      },
      each: async (items, fn) => {
        for (const item of items) await fn(item);
      },
    };
  }

  #rawPoints(s: SeriesData, from: number, to: number, now: number): RawPoint[] {
    const out: RawPoint[] = [];
    const step = RESOLUTION_MS['5m'];
    for (const slot of keysInRange(s.raw, from, to, step)) {
      if (!isRetained(slot, 'raw', this.retention, now)) continue;
      const bucket = s.raw.get(slot) as RawBucket;
      const { points, dropped } = bucket.points(s.policy ?? 'last');
      this.#pointCount -= dropped;
      for (const p of points) if (p.ts >= from && p.ts < to) out.push(p);
    }
    return out;
  }

  /** Roll every dirty slot closed at `now` (optionally only of `only`), 5m then 1h then 1d. */
  #roll(now: number, only?: ReadonlySet<SeriesData>): void {
    this.#rollNumbers(now, only);
    this.#rollSketches(now, only);
  }

  /** Sketch rollups: 5m merges the slot's raw rows (latest per source and ts), 1h the 5m ones, 1d the 1h. */
  #rollSketches(now: number, only?: ReadonlySet<SeriesData>): void {
    for (const res of ROLLUP_RESOLUTIONS) {
      for (const { series: s, start } of this.#sketchDirty.takeClosed(res, now, only)) {
        let merged: DDSketch | undefined;
        if (res === '5m') {
          const rows = s.sketchRaw.get(start);
          if (rows !== undefined) merged = mergeSketches(rows.map((r) => r.bytes));
        } else {
          const childRes: RollupResolution = res === '1h' ? '5m' : '1h';
          const map = s.sketchRollups[childRes];
          const parts: Uint8Array[] = [];
          const step = RESOLUTION_MS[childRes];
          for (let t = start; t < start + RESOLUTION_MS[res]; t += step) {
            const c = map.get(t);
            if (c !== undefined) parts.push(c);
          }
          merged = mergeSketches(parts);
        }
        const target = s.sketchRollups[res];
        this.#sketchBytes -= target.get(start)?.length ?? 0;
        if (merged === undefined || merged.count === 0) target.delete(start);
        else {
          const bytes = merged.encode();
          target.set(start, bytes);
          this.#sketchBytes += bytes.length;
        }
        const parent = parentResolution(res);
        if (parent !== undefined) this.#sketchDirty.mark(s, parent, start);
      }
    }
  }

  #rollNumbers(now: number, only?: ReadonlySet<SeriesData>): void {
    for (const res of ROLLUP_RESOLUTIONS) {
      for (const { series: s, start } of this.#dirty.takeClosed(res, now, only)) {
        let point: RollupPoint | undefined;
        if (res === '5m') {
          const bucket = s.raw.get(start);
          if (bucket !== undefined) {
            const { points, dropped } = bucket.points(s.policy ?? 'last');
            this.#pointCount -= dropped;
            if (points.length > 0) point = toRollupPoint(start, statsFromRaw(points));
            // a closed, compacted bucket gets no more writes in the common case: trim its slack
            bucket.trim();
          }
        } else {
          const childRes: RollupResolution = res === '1h' ? '5m' : '1h';
          const children: RollupPoint[] = [];
          const map = s.rollups[childRes];
          const step = RESOLUTION_MS[childRes];
          for (let t = start; t < start + RESOLUTION_MS[res]; t += step) {
            const c = map.get(t);
            if (c !== undefined) children.push(c);
          }
          point = rollupFromChildren(res, start, children);
        }
        const target = s.rollups[res];
        if (target.has(start)) this.#rollupCount--;
        if (point === undefined) target.delete(start);
        else {
          target.set(start, point);
          this.#rollupCount++;
        }
        const parent = parentResolution(res);
        if (parent !== undefined) this.#dirty.mark(s, parent, start);
      }
    }
  }

  /** Drop expired raw buckets, rollups and sketches, and series left empty. */
  #sweep(now: number): void {
    const r = this.retention;
    for (const [tenant, metrics] of this.#tenants) {
      for (const [metric, series] of metrics) {
        for (const [key, s] of series) {
          for (const [slot, bucket] of s.raw) {
            if (expiresAt(slot, 'raw', r) <= now) {
              s.raw.delete(slot);
              this.#pointCount -= bucket.length;
            }
          }
          for (const [slot, rows] of s.sketchRaw) {
            if (expiresAt(slot, 'raw', r) <= now) {
              s.sketchRaw.delete(slot);
              this.#sketchCount -= rows.length;
              for (const row of rows) this.#sketchBytes -= row.bytes.length;
            }
          }
          for (const res of ROLLUP_RESOLUTIONS) {
            for (const slot of s.rollups[res].keys()) {
              if (expiresAt(slot, res, r) <= now) {
                s.rollups[res].delete(slot);
                this.#rollupCount--;
              }
            }
            for (const [slot, bytes] of s.sketchRollups[res]) {
              if (expiresAt(slot, res, r) <= now) {
                s.sketchRollups[res].delete(slot);
                this.#sketchBytes -= bytes.length;
              }
            }
          }
          if (s.empty) {
            series.delete(key);
            this.#dirty.forget(s);
            this.#sketchDirty.forget(s);
            this.#seriesCount--;
          }
        }
        if (series.size === 0) metrics.delete(metric);
      }
      if (metrics.size === 0) this.#tenants.delete(tenant);
    }
  }
}

function positiveInt(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw validationError(path, 'a positive integer', value);
  }
  return value;
}
