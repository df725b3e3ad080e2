import { FleetwatchError } from '../errors.js';
import type { FleetOptions } from './fleet-validate.js';
import type { RawBucket } from './memory-buckets.js';
import type { MemoryBounds } from './memory-options.js';
import { DirtySlots, ROLLUP_RESOLUTIONS, type RollupResolution } from './rollup-slots.js';
import { seriesKey, sortedTags, tagsMatch } from './series-key.js';
import type { CombinePolicy, Retention, RollupPoint } from './types.js';
import { DEFAULT_TENANT } from './types.js';

/** One stored raw sketch row. @internal */
export interface SketchRow {
  ts: number;
  src: number;
  bytes: Uint8Array;
}

/**
 * Everything a {@link MemoryMetricsStore} keeps for one series of one tenant.
 *
 * @internal
 * @example
 * ```ts
 * const s = new SeriesData('default', 'cpu', {}, seriesKey('cpu', {}));
 * s.empty; // true
 * ```
 */
export class SeriesData {
  /** Combine policy, recorded at the first numeric write. */
  policy: CombinePolicy | undefined;
  /**
   * Bucket base (γ) of the series' first sketch; later sketches must have it, or both a scale
   * (`checkSketchBase`).
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

  /** Whether nothing is stored for the series any more. */
  get empty(): boolean {
    return (
      this.raw.size === 0 &&
      this.sketchRaw.size === 0 &&
      ROLLUP_RESOLUTIONS.every((r) => this.rollups[r].size === 0 && this.sketchRollups[r].size === 0)
    );
  }
}

/**
 * The data of a {@link MemoryMetricsStore} and its counters, shared by its write, read and
 * maintenance modules: series by tenant, metric and key, dirty slots, source ids, and the counts the
 * memory bounds are checked against.
 *
 * @internal
 * @example
 * ```ts
 * const state = new MemoryStoreState(DEFAULT_RETENTION, bounds);
 * const s = state.series('default', 'cpu', { host: 'a' }, seriesKey('cpu', { host: 'a' }));
 * ```
 */
export class MemoryStoreState {
  /** tenant → metric → series key → data */
  readonly tenants = new Map<string, Map<string, Map<string, SeriesData>>>();
  readonly dirty = new DirtySlots<SeriesData>();
  readonly sketchDirty = new DirtySlots<SeriesData>();
  readonly #sources: string[] = [];
  readonly #sourceIds = new Map<string, number>();
  seriesCount = 0;
  pointCount = 0;
  sketchCount = 0;
  rollupCount = 0;
  sketchBytes = 0;

  constructor(
    readonly retention: Readonly<Retention>,
    readonly bounds: Readonly<MemoryBounds>,
  ) {}

  /** Every stored series. */
  *allSeries(): Iterable<SeriesData> {
    for (const metrics of this.tenants.values()) {
      for (const series of metrics.values()) yield* series.values();
    }
  }

  /** The small integer that stands for `source` in stored rows. */
  sourceId(source: string): number {
    let id = this.#sourceIds.get(source);
    if (id === undefined) {
      id = this.#sources.length;
      this.#sources.push(source);
      this.#sourceIds.set(source, id);
    }
    return id;
  }

  /** The stored series, or undefined. */
  lookup(tenant: string, metric: string, key: string): SeriesData | undefined {
    return this.tenants.get(tenant)?.get(metric)?.get(key);
  }

  /** The stored series, created (and counted) when new. */
  series(tenant: string, metric: string, tags: Record<string, string> | undefined, key: string): SeriesData {
    let metrics = this.tenants.get(tenant);
    if (metrics === undefined) {
      metrics = new Map();
      this.tenants.set(tenant, metrics);
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
      this.seriesCount++;
    }
    return s;
  }

  /** The series of `metric` whose tags include `filter` and match `fleet.where`, sorted by key. */
  matching(
    tenant: string,
    metric: string,
    filter: Record<string, string> | undefined,
    fleet?: FleetOptions,
  ): SeriesData[] {
    const series = this.tenants.get(tenant)?.get(metric);
    if (series === undefined) return [];
    const out: SeriesData[] = [];
    const where = fleet?.where;
    for (const s of series.values()) {
      if (tagsMatch(s.tags, filter) && (where === undefined || where.matches(s.tags))) out.push(s);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /** Reject the batch (before writing anything) when it would exceed a bound. */
  checkLimits(
    points: readonly { metric: string; tenant?: string }[],
    keys: readonly string[],
    kind: 'points' | 'sketches',
    /** Rows (points) or bytes (sketches) the batch adds. */
    rows: number,
  ): void {
    const { maxSeries, maxRollups } = this.bounds;
    let fresh = 0;
    const seen = new Set<string>();
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as { metric: string; tenant?: string };
      const tenant = p.tenant ?? DEFAULT_TENANT;
      const key = keys[i] as string;
      if (this.lookup(tenant, p.metric, key) !== undefined) continue;
      const id = `${tenant}\u0000${key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      fresh++;
    }
    if (this.seriesCount + fresh > maxSeries) {
      throw new FleetwatchError(
        'E_STORE_UNAVAILABLE',
        `MemoryMetricsStore: maxSeries (${maxSeries}) reached: ${this.seriesCount} series stored, the batch adds ${fresh}`,
        { details: { limit: 'maxSeries', max: maxSeries, current: this.seriesCount, adding: fresh } },
      );
    }
    if (kind === 'points' && this.rollupCount >= maxRollups) {
      throw new FleetwatchError(
        'E_STORE_UNAVAILABLE',
        `MemoryMetricsStore: maxRollups (${maxRollups}) reached: writes resume when retention frees rollups`,
        { details: { limit: 'maxRollups', max: maxRollups, current: this.rollupCount, adding: 0 } },
      );
    }
    const [count, max, name] =
      kind === 'points'
        ? [this.pointCount, this.bounds.maxPoints, 'maxPoints']
        : [this.sketchBytes, this.bounds.maxSketchBytes, 'maxSketchBytes'];
    if (count + rows > max) {
      throw new FleetwatchError(
        'E_STORE_UNAVAILABLE',
        `MemoryMetricsStore: ${name} (${max}) reached: ${count} stored, the batch adds ${rows}`,
        { details: { limit: name, max, current: count, adding: rows } },
      );
    }
  }

  /** Drop everything (on close). */
  clear(): void {
    this.tenants.clear();
    this.seriesCount = 0;
    this.pointCount = 0;
    this.sketchCount = 0;
    this.rollupCount = 0;
    this.sketchBytes = 0;
  }
}

/**
 * Series keys of a batch (consecutive points with the same metric and tags object share one).
 *
 * @internal
 * @example
 * ```ts
 * keysOf([{ metric: 'cpu', tags }, { metric: 'cpu', tags }]); // one key computed, used twice
 * ```
 */
export function keysOf(points: readonly { metric: string; tags?: Record<string, string> }[]): string[] {
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
