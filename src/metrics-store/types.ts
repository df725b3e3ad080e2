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
 * earlier value (so resends are idempotent).
 */
export type CombinePolicy = 'last' | 'sum' | 'min' | 'max' | 'avg';

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
  ts: number;
  value: number;
}

/** A rollup point: statistics of every raw value in the slot starting at `ts`. */
export interface RollupPoint {
  ts: number;
  count: number;
  sum: number;
  min: number;
  max: number;
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
  metric: string;
  /** Series whose tags include all of these match. Omit for every series of the metric. */
  tags?: Record<string, string>;
  /** Inclusive start, epoch ms. */
  from: number;
  /** Exclusive end, epoch ms. */
  to: number;
  /** @default 'auto' */
  resolution?: Resolution | 'auto';
  tenant?: string;
  /** For `auto`: the number of points wanted. @default 400 */
  points?: number;
}

/** One stored sketch: the merged DDSketch of a histogram for a window, in its binary encoding. */
export interface SketchPoint {
  metric: string;
  tags?: Record<string, string>;
  ts: number;
  /** `DDSketch#encode()` output. */
  sketch: Uint8Array;
  tenant?: string;
}

/** A percentile query over a range. */
export interface PercentileQuery extends AbortOptions {
  metric: string;
  tags?: Record<string, string>;
  from: number;
  to: number;
  /** Quantiles in [0, 1]. */
  quantiles: number[];
  tenant?: string;
}

/** Percentiles of one series over the whole queried range, from merged sketches. */
export interface PercentileResult {
  metric: string;
  tags: Record<string, string>;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Quantile → value, keyed by the quantile as written (`'0.99'`). */
  quantiles: Record<string, number>;
}

/** A series identity as listed by {@link MetricsStore.listSeries}. */
export interface SeriesInfo {
  metric: string;
  tags: Record<string, string>;
}

/** Where fleetwatch keeps metrics. */
export interface MetricsStore {
  /** Validate the whole batch, then write it. A bad point rejects the batch with `E_VALIDATION`. */
  write(points: readonly Point[], opts?: WriteOptions): Promise<WriteResult>;
  /** Series with points for a metric and range, at the chosen resolution. */
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
