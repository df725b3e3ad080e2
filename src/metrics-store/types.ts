/**
 * The MetricsStore interface: raw points and rollups (5m, 1h, 1d), retention, tenants, and
 * mergeable sketch storage for percentiles. Implemented by `MemoryMetricsStore` (embedded) and
 * `CassandraMetricsStore` (`@fleetwatch/sdk/cassandra`).
 */
import type { AbortOptions } from '../core.js';

/** A stored resolution. `raw` keeps points as written. */
export type Resolution = 'raw' | '5m' | '1h' | '1d';

/** Resolutions from finest to coarsest. */
export const RESOLUTIONS: readonly Resolution[] = ['raw', '5m', '1h', '1d'];

/** Slot width of each rollup resolution, in ms (`raw` has none). */
export const RESOLUTION_MS: Readonly<Record<Exclude<Resolution, 'raw'>, number>> = {
  '5m': 300_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

/** How long each resolution is kept, in ms. */
export type Retention = Record<Resolution, number>;

const DAY = 86_400_000;
/** Default retention: raw 7 d, 5m 30 d, 1h 400 d, 1d 5 y. */
export const DEFAULT_RETENTION: Readonly<Retention> = {
  raw: 7 * DAY,
  '5m': 30 * DAY,
  '1h': 400 * DAY,
  '1d': 5 * 365 * DAY,
};

/** The tenant used when none is given. */
export const DEFAULT_TENANT = 'default';

/**
 * How values that several sources (brokers, hosts) wrote for the same series and timestamp are
 * combined when read and rolled up. A source's own rewrite of a timestamp always replaces its
 * earlier value (so resends are idempotent). It is also a gauge's policy (`registry.gauge(name, tags,
 * { policy })`): how the broker combines that gauge across processes, `last` being each source's
 * latest value.
 */
export type CombinePolicy = 'last' | 'sum' | 'min' | 'max' | 'avg';

/** Every {@link CombinePolicy}. */
export const COMBINE_POLICIES: readonly CombinePolicy[] = ['last', 'sum', 'min', 'max', 'avg'];

/** One raw metric point. */
export interface Point {
  /** Metric name: 1–200 chars of `[A-Za-z0-9_.:/-]`, starting with a letter or `_`. */
  metric: string;
  /** Tags: at most 32; keys 1–100 chars of `[A-Za-z0-9_.:/-]`, values 1–200 printable chars. */
  tags?: Record<string, string>;
  /** Epoch ms. Must lie inside the raw retention window and at most 10 minutes in the future. */
  ts: number;
  /** A finite number. */
  value: number;
  /** Tenant; defaults to `default`. */
  tenant?: string;
}

/** Options for {@link MetricsStore.write}. */
export interface WriteOptions extends AbortOptions {
  /**
   * Who is writing (a broker or host id). Values from different sources for the same series and
   * timestamp are combined with `combine`; the same source rewriting a timestamp replaces its value.
   * @default ''
   */
  source?: string;
  /**
   * How this batch's series combine across sources. Recorded per series at its first write.
   * @default 'last'
   */
  combine?: CombinePolicy;
}

/** What a write accepted. */
export interface WriteResult {
  /** Number of points accepted (all of them: a bad batch is rejected whole). */
  accepted: number;
}

/** A raw point as read back. */
export interface RawPoint {
  /** Epoch ms of the sample. */
  ts: number;
  /** The value written. */
  value: number;
}

/** A rollup point: statistics of every raw value in the slot starting at `ts`. */
export interface RollupPoint {
  /** Slot start, epoch ms (aligned to the resolution: 5 minutes, 1 hour or 1 day). */
  ts: number;
  /** Number of raw values in the slot. */
  count: number;
  /** Sum of the slot's values. */
  sum: number;
  /** Smallest value in the slot. */
  min: number;
  /** Largest value in the slot. */
  max: number;
  /** Arithmetic mean of the slot's values (`sum / count`). */
  mean: number;
  /** Population variance (Welford M2 / count). */
  variance: number;
  /** The value with the latest timestamp in the slot. */
  last: number;
}

/** One series as returned by {@link MetricsStore.query}. */
export type Series =
  | { metric: string; tags: Record<string, string>; resolution: 'raw'; points: RawPoint[] }
  | {
      metric: string;
      tags: Record<string, string>;
      resolution: Exclude<Resolution, 'raw'>;
      points: RollupPoint[];
    };

/** A query for one metric over a time range. */
export interface MetricsQuery extends AbortOptions {
  /** The metric name to read (naming rules as {@link Point.metric}). */
  metric: string;
  /** Series whose tags include all of these match. Omit for every series of the metric. */
  tags?: Record<string, string>;
  /** Inclusive start, epoch ms. */
  from: number;
  /** Exclusive end, epoch ms. */
  to: number;
  /** @default 'auto' */
  resolution?: Resolution | 'auto';
  /** The tenant to read. @default 'default' */
  tenant?: string;
  /** For `auto`: the number of points wanted. @default 400 */
  points?: number;
  /**
   * Series selection in the query language of the inventory (`tag:k=v` terms with `*` wildcards,
   * `and`, `or`, `not`, parentheses), applied together with `tags`. Only `tag:` terms apply to
   * series; other fields are rejected with `E_VALIDATION` naming the position.
   * @example 'tag:service=api and tag:region=us-* and not tag:env=dev'
   */
  where?: string;
  /**
   * Combine the selected series into one series per group, aligned on the slots of the resolution
   * (a rollup resolution: `raw` is rejected, `auto` picks among 5m, 1h and 1d). See docs/store.md.
   */
  aggregate?: FleetAggregate;
  /** Tag keys to group by (with `aggregate`); empty or absent: one series for the whole fleet. */
  groupBy?: string[];
  /** Keep only this many groups (or series), ranked by `order` over the whole range. */
  limit?: number;
  /** Ranking for `limit`. @default 'desc' */
  order?: 'asc' | 'desc';
}

/**
 * How {@link MetricsQuery.aggregate} combines the series of a group in each slot: `sum`, `count`
 * (points), `avg` (pooled: Σsum / Σcount), `min`, `max` of the slot statistics; `last` (the `last`
 * of a group holding one series); `rate` (per-second increase of cumulative counters, resets
 * handled) and `delta` (change of `last` from the previous slot), summed over the group.
 */
export type FleetAggregate = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'last' | 'rate' | 'delta';

/** Every {@link FleetAggregate}. */
export const FLEET_AGGREGATES: readonly FleetAggregate[] = [
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'last',
  'rate',
  'delta',
];

/** A query with `aggregate` set: it returns {@link AggregatedSeries}. */
export type AggregateQuery = MetricsQuery & { aggregate: FleetAggregate };

/** One point of an {@link AggregatedSeries}: the group's value in the slot starting at `ts`. */
export interface AggregatedPoint {
  ts: number;
  value: number;
}

/** One group of an aggregated query. */
export interface AggregatedSeries {
  metric: string;
  /** The group's values of the `groupBy` keys (a key the group's series lack is left out). */
  tags: Record<string, string>;
  resolution: Exclude<Resolution, 'raw'>;
  aggregate: FleetAggregate;
  /** Number of series in the group. */
  series: number;
  /** Slots with data, in time order (empty slots are left out, never zero-filled). */
  points: AggregatedPoint[];
}

/** One stored sketch: the merged DDSketch of a histogram for a window, in its binary encoding. */
export interface SketchPoint {
  /** Metric name (naming rules as {@link Point.metric}). */
  metric: string;
  /** Tags, as {@link Point.tags}. */
  tags?: Record<string, string>;
  /** Epoch ms the sketch belongs to (usually its window start); same window rules as {@link Point.ts}. */
  ts: number;
  /** `DDSketch#encode()` output. */
  sketch: Uint8Array;
  /** Tenant. @default 'default' */
  tenant?: string;
}

/** A percentile query over a range. */
export interface PercentileQuery extends AbortOptions {
  /** The metric whose sketches to merge. */
  metric: string;
  /** Series whose tags include all of these match. Omit for every series of the metric. */
  tags?: Record<string, string>;
  /** Inclusive start, epoch ms. */
  from: number;
  /** Exclusive end, epoch ms. */
  to: number;
  /** Quantiles in [0, 1]. */
  quantiles: number[];
  /** The tenant to read. @default 'default' */
  tenant?: string;
  /** Series selection, as in {@link MetricsQuery.where}. */
  where?: string;
  /**
   * Merge the sketches of every selected series per group of these tag keys (empty: one result for
   * the whole fleet). Absent: one result per series, as before.
   */
  groupBy?: string[];
  /**
   * Also give a time series of percentiles: one entry per `step` ms (a multiple of 5 minutes),
   * epoch-aligned, in {@link PercentileResult.steps}.
   */
  step?: number;
  /** Keep only this many results, ranked by the largest requested quantile over the whole range. */
  limit?: number;
  /** Ranking for `limit`. @default 'desc' */
  order?: 'asc' | 'desc';
}

/** The percentiles of one step of a {@link PercentileQuery} with `step`. */
export interface PercentileStep {
  /** Step start, epoch ms. */
  ts: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  quantiles: Record<string, number>;
}

/** Percentiles of one series over the whole queried range, from merged sketches. */
export interface PercentileResult {
  /** The metric name. */
  metric: string;
  /** The series' tags, or the group's values of the `groupBy` keys. */
  tags: Record<string, string>;
  /** Number of values in the merged sketch. */
  count: number;
  /** Sum of the values in the merged sketch. */
  sum: number;
  /** Smallest value recorded (exact, not estimated). */
  min: number;
  /** Largest value recorded (exact, not estimated). */
  max: number;
  /** Quantile → value, keyed by the quantile as written (`'0.99'`). */
  quantiles: Record<string, number>;
  /** With `groupBy`: how many series were merged. */
  series?: number;
  /** With `step`: the steps with data, in time order. */
  steps?: PercentileStep[];
}

/** A series identity as listed by {@link MetricsStore.listSeries}. */
export interface SeriesInfo {
  /** The metric name. */
  metric: string;
  /** The series' full tag set. */
  tags: Record<string, string>;
}

/** Where fleetwatch keeps metrics. */
export interface MetricsStore {
  /** Validate the whole batch, then write it. A bad point rejects the batch with `E_VALIDATION`. */
  write(points: readonly Point[], opts?: WriteOptions): Promise<WriteResult>;
  /**
   * Series with points for a metric and range, at the chosen resolution; with `aggregate`, one
   * series per group. Rejects with `E_QUERY_TOO_LARGE` past the store's `maxQuerySeries` or
   * `maxQueryPoints`.
   */
  query(q: AggregateQuery): Promise<AggregatedSeries[]>;
  /**
   * Series with points for a metric and range, one per matching series: raw points at `raw`, rollup
   * points otherwise (`auto` picks the finest resolution that keeps about `points` points). Rejects
   * with `E_QUERY_TOO_LARGE` past the store's `maxQuerySeries` or `maxQueryPoints`.
   */
  query(q: MetricsQuery): Promise<Series[]>;
  /** Metric names of a tenant. */
  listMetrics(tenant?: string): Promise<string[]>;
  /** Series of a metric whose tags include `tagFilter`. */
  listSeries(metric: string, tagFilter?: Record<string, string>, tenant?: string): Promise<SeriesInfo[]>;
  /** Store sketches; rollups merge them. Same validation rules as `write`. */
  writeSketches(points: readonly SketchPoint[], opts?: WriteOptions): Promise<WriteResult>;
  /** Percentiles over a range, merged from stored sketches across sources and slots. */
  queryPercentiles(q: PercentileQuery): Promise<PercentileResult[]>;
  /** Write everything buffered and bring the rollups of every closed slot up to date. */
  flush(opts?: AbortOptions): Promise<void>;
  /** Flush and release resources. Further calls fail with `E_CLOSED`. */
  close(): Promise<void>;
}
