/**
 * The option, snapshot and self-metric types of {@link MetricsRegistry}, and its constants.
 */
import type { Clock, Logger } from '../core.js';
import type { CombinePolicy } from '../metrics-store/types.js';
import type { MeterRates } from './meter.js';
import type { MetricKind } from './types.js';

/** Default cap on series per metric (OTel's default cardinality limit). */
export const DEFAULT_MAX_SERIES_PER_METRIC = 2000;
/** Tag put on the series that absorbs updates past the cardinality cap. */
export const OVERFLOW_TAG = 'fleetwatch_overflow';
/** Percentiles reported by `snapshot()` for histograms and timers. */
export const SNAPSHOT_QUANTILES = [0.5, 0.75, 0.9, 0.95, 0.99, 0.999] as const;

/** Options of {@link MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Tags added to every series (e.g. `{ service: 'api' }`); an instrument's own tag wins. */
  tags?: Record<string, string>;
  /** Most series per metric name; more tag sets fold into one overflow series. Default 2000. */
  maxSeriesPerMetric?: number;
  /** Default relative accuracy of histogram/timer sketches. Default 0.01. */
  relativeAccuracy?: number;
  /** Wall clock (epoch ms) for windows and meter rates. Default `systemClock`. */
  clock?: Clock;
  /** Monotonic ms clock for timer durations. Default `performance.now`. */
  monotonicNow?: () => number;
  /** Logger for failed sends. Default silent. */
  logger?: Logger;
  /**
   * `false` makes every factory return a shared no-op instrument (recording costs one empty call),
   * `snapshot()`/`collect()` return nothing and `reportTo()` sends nothing. Default true.
   */
  enabled?: boolean;
}

/** Options of `registry.histogram()` and `registry.timer()`. */
export interface HistogramOptions {
  /** Relative accuracy of the sketch; every series of one metric shares it. */
  relativeAccuracy?: number;
}

/** The instrument kinds a registry hands out (a timer collects as a `histogram`). */
export type InstrumentKind = MetricKind | 'timer';

/** Count, sum, extremes and percentiles of a histogram or timer. */
export interface HistogramSummary {
  count: number;
  sum: number;
  /** NaN when empty (as are mean and the percentiles). */
  min: number;
  max: number;
  mean: number;
  /** Quantile → value, for `SNAPSHOT_QUANTILES` (`{ '0.5': …, '0.99': … }`). */
  quantiles: Record<string, number>;
}

/** One series' current state in {@link RegistrySnapshot}. */
export interface SeriesSnapshot {
  name: string;
  kind: InstrumentKind;
  tags: Readonly<Record<string, string>>;
  /** counter: cumulative value; gauge: current value; meter: count. */
  value?: number;
  /** For gauges. */
  policy?: CombinePolicy;
  /** For meters. */
  rates?: MeterRates;
  /** For histograms and timers: everything recorded since creation. */
  summary?: HistogramSummary;
}

/** What `registry.snapshot()` returns. */
export interface RegistrySnapshot {
  /** When it was taken (registry clock, epoch ms). */
  ts: number;
  series: SeriesSnapshot[];
  /** Metric name → handle requests folded into its overflow series (only metrics that overflowed). */
  overflows: Record<string, number>;
  /** The registry's self-metrics: what it dropped instead of throwing. */
  stats: RegistryStats;
}

/**
 * A registry's self-metrics: everything it refused without throwing (instruments never throw,
 * OpenTelemetry's API rule), so nothing is lost silently.
 */
export interface RegistryStats {
  /** Series held (overflow series included). */
  series: number;
  /**
   * Values dropped by an instrument: NaN, ±Infinity or a non-number, a negative counter or meter
   * step, and every update to an instrument handed out for a rejected tag set.
   */
  droppedValues: number;
  /**
   * Handle lookups whose tags break the naming rules (the store would refuse them): each got a
   * dropping instrument instead of a throw. The first per metric is logged at `warn`.
   */
  rejectedTagSets: number;
  /** Handle lookups folded into an overflow series past `maxSeriesPerMetric`. */
  overflows: number;
}
