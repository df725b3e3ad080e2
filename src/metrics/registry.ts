/**
 * The per-process metrics registry. The class doc comment has the details and an example.
 */
import {
  type AbortOptions,
  type Clock,
  type Logger,
  rejectUnknownKeys,
  silentLogger,
  systemClock,
} from '../core.js';
import { abortError, FleetwatchError, validationError } from '../errors.js';
import { AliasIndex } from './alias-index.js';
import { Counter } from './counter.js';
import { GAUGE_POLICIES, Gauge } from './gauge.js';
import { Histogram } from './histogram.js';
import { Meter, type MeterRates } from './meter.js';
import { checkMetricName, checkTags, mergeTags, tagsKey } from './names.js';
import { NOOP_INSTRUMENTS } from './noop.js';
import type { PrometheusSeries } from './prometheus.js';
import { type DDSketch, DEFAULT_RELATIVE_ACCURACY } from './sketch.js';
import { Timer } from './timer.js';
import type { GaugePolicy, MetricKind, MetricsSink, SeriesDelta, WindowSnapshot } from './types.js';

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

/** Options of `registry.gauge()`. */
export interface GaugeOptions {
  /** How the broker combines this gauge across processes. Default `last` (per source). */
  policy?: GaugePolicy;
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
  /** Quantile → value, for `SNAPSHOT_QUANTILES` (0.5, 0.75, 0.9, 0.95, 0.99, 0.999) (`{ '0.5': …, '0.99': … }`). */
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
  policy?: GaugePolicy;
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
}

/** Default flush jitter of `reportTo`, as a fraction of the interval. */
export const DEFAULT_REPORT_JITTER = 0.1;

/** Options of `registry.reportTo()`. */
export interface ReportOptions {
  /**
   * Send each window at its end plus a random delay of up to this fraction of the interval, so a
   * fleet of processes does not hit the broker at the same instant. In [0, 1); default 0.1.
   * Updates made during that delay count toward the window just closed.
   */
  jitter?: number;
  /** Random source in [0, 1) for the jitter (tests inject one). Default `Math.random`. */
  random?: () => number;
}

/** The running report loop started by `registry.reportTo()`. */
export interface MetricsReport {
  /** Windows handed to the sink so far. */
  readonly sent: number;
  /** Sends that threw or rejected (logged, not retried). */
  readonly failed: number;
  /**
   * Stop the loop, collect the current partial window and send it, then wait for pending sends.
   * Idempotent. The signal aborts the wait (rejecting with `E_ABORTED`), not the send.
   */
  stop(options?: AbortOptions): Promise<void>;
}

type Handle = Counter | Gauge | Meter | Histogram;

interface Family {
  readonly name: string;
  readonly kind: InstrumentKind;
  /** policy or relative accuracy, fixed by the first registration. */
  readonly setting: GaugePolicy | number | undefined;
  readonly series: Map<string, Handle>;
  /** Raw tag objects → handle, for lookups that skip validation. Bounded. */
  readonly aliases: AliasIndex<Handle>;
  overflow: Handle | undefined;
  overflows: number;
}

/**
 * The per-process metrics registry: hands out cached, bound instrument handles, caps series per
 * metric, and separates recording from collecting (OTel's DeltaMetricProcessor): `collect()` takes
 * the window's deltas and swaps in fresh sketches, `snapshot()` reads current values for in-process use.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry({ tags: { service: 'api' } });
 * const requests = registry.counter('requests', { route: '/' }); // resolve once…
 * requests.inc();                                                 // …then a field update
 * registry.histogram('latency_ms').record(12.5);
 * const report = registry.reportTo(await connectBroker({ socketPath }));
 * await report.stop();
 * ```
 */
export class MetricsRegistry {
  /** The registry's own tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** The cardinality cap per metric. */
  readonly maxSeriesPerMetric: number;
  private readonly relativeAccuracy: number;
  private readonly clock: Clock;
  private readonly monotonicNow: () => number;
  private readonly logger: Logger;
  private readonly families = new Map<string, Family>();
  private reporting = false;
  /** False when constructed with `enabled: false`. */
  readonly enabled: boolean;

  constructor(options: MetricsRegistryOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw validationError('options', 'an object', options);
    rejectUnknownKeys(options, [
      'tags',
      'maxSeriesPerMetric',
      'relativeAccuracy',
      'clock',
      'monotonicNow',
      'logger',
      'enabled',
    ]);
    this.tags = checkTags(options.tags, 'options.tags');
    const cap = options.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES_PER_METRIC;
    if (!Number.isInteger(cap) || cap < 1)
      throw validationError('options.maxSeriesPerMetric', 'an integer >= 1', cap);
    this.maxSeriesPerMetric = cap;
    this.relativeAccuracy = this.checkAccuracy(options) ?? DEFAULT_RELATIVE_ACCURACY;
    this.clock = options.clock ?? systemClock;
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.logger = options.logger ?? silentLogger;
    if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
      throw validationError('options.enabled', 'a boolean', options.enabled);
    }
    this.enabled = options.enabled ?? true;
  }

  /** The counter for `name` + `tags`: the same handle for the same name and tags. */
  counter(name: string, tags?: Record<string, string>): Counter {
    if (!this.enabled) return NOOP_INSTRUMENTS.counter;
    const hit = this.cached('counter', name, tags, undefined);
    if (hit !== undefined) return hit as Counter;
    return this.handle('counter', name, tags, undefined, undefined, (t) => new Counter(name, t)) as Counter;
  }

  /** The gauge for `name` + `tags`. The policy is fixed by the metric's first registration. */
  gauge(name: string, tags?: Record<string, string>, options?: GaugeOptions): Gauge {
    const policy = options?.policy;
    if (!this.enabled) return NOOP_INSTRUMENTS.gauge;
    const hit = this.cached('gauge', name, tags, policy);
    if (hit !== undefined) return hit as Gauge;
    if (policy !== undefined && !GAUGE_POLICIES.includes(policy)) {
      throw validationError('options.policy', GAUGE_POLICIES.join(' | '), policy);
    }
    return this.handle(
      'gauge',
      name,
      tags,
      policy,
      'last',
      (t, p) => new Gauge(name, t, p as GaugePolicy),
    ) as Gauge;
  }

  /** The meter for `name` + `tags`. */
  meter(name: string, tags?: Record<string, string>): Meter {
    if (!this.enabled) return NOOP_INSTRUMENTS.meter;
    const hit = this.cached('meter', name, tags, undefined);
    if (hit !== undefined) return hit as Meter;
    return this.handle(
      'meter',
      name,
      tags,
      undefined,
      undefined,
      (t) => new Meter(name, t, this.clock),
    ) as Meter;
  }

  /** The histogram (DDSketch-backed) for `name` + `tags`. */
  histogram(name: string, tags?: Record<string, string>, options?: HistogramOptions): Histogram {
    if (!this.enabled) return NOOP_INSTRUMENTS.histogram;
    const hit = this.cached('histogram', name, tags, options?.relativeAccuracy);
    if (hit !== undefined) return hit as Histogram;
    const alpha = this.checkAccuracy(options ?? {});
    return this.handle(
      'histogram',
      name,
      tags,
      alpha,
      this.relativeAccuracy,
      (t, a) => new Histogram(name, t, { relativeAccuracy: a as number }),
    ) as Histogram;
  }

  /** The timer (a histogram of ms durations) for `name` + `tags`. */
  timer(name: string, tags?: Record<string, string>, options?: HistogramOptions): Timer {
    if (!this.enabled) return NOOP_INSTRUMENTS.timer;
    const hit = this.cached('timer', name, tags, options?.relativeAccuracy);
    if (hit !== undefined) return hit as Timer;
    const alpha = this.checkAccuracy(options ?? {});
    return this.handle(
      'timer',
      name,
      tags,
      alpha,
      this.relativeAccuracy,
      (t, a) => new Timer(name, t, { relativeAccuracy: a as number }, this.monotonicNow),
    ) as Timer;
  }

  /** Handle requests folded into overflow series: for one metric, or all metrics together. */
  overflowCount(name?: string): number {
    if (name !== undefined) return this.families.get(name)?.overflows ?? 0;
    let total = 0;
    for (const f of this.families.values()) total += f.overflows;
    return total;
  }

  /** Current values of every series, for in-process use. Does not disturb `collect` windows. */
  snapshot(): RegistrySnapshot {
    const series: SeriesSnapshot[] = [];
    const overflows: Record<string, number> = {};
    for (const family of this.families.values()) {
      if (family.overflows > 0) overflows[family.name] = family.overflows;
      for (const h of this.handlesOf(family)) {
        const base = { name: h.name, kind: family.kind, tags: h.tags };
        if (h instanceof Counter) series.push({ ...base, value: h.value });
        else if (h instanceof Gauge) series.push({ ...base, value: h.value, policy: h.policy });
        else if (h instanceof Meter) series.push({ ...base, value: h.count, rates: h.rates() });
        else series.push({ ...base, summary: summarize(h.total()) });
      }
    }
    return { ts: this.clock.now(), series, overflows };
  }

  /**
   * Collect the window's deltas: counter and meter increases since the last collect (series that
   * did not change are left out), every gauge's current value, and each histogram's sketch of the
   * window (taken; a fresh one records from now on). Series order is registration order.
   */
  collect(windowStart: number, intervalMs: number): WindowSnapshot {
    if (!Number.isSafeInteger(windowStart) || windowStart < 0) {
      throw validationError('windowStart', 'an epoch-ms integer >= 0', windowStart);
    }
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
      throw validationError('intervalMs', 'an integer >= 1', intervalMs);
    }
    const series: SeriesDelta[] = [];
    for (const family of this.families.values()) {
      for (const h of this.handlesOf(family)) {
        const tags = { ...h.tags };
        if (h instanceof Counter || h instanceof Meter) {
          const delta = h.takeDelta();
          if (delta !== 0)
            series.push({
              name: h.name,
              kind: h instanceof Counter ? 'counter' : 'meter',
              tags,
              value: delta,
            });
        } else if (h instanceof Gauge) {
          series.push({ name: h.name, kind: 'gauge', tags, value: h.value, policy: h.policy });
        } else {
          const sketch = h.takeWindow();
          if (sketch !== undefined) series.push({ name: h.name, kind: 'histogram', tags, sketch });
        }
      }
    }
    return { windowStart, intervalMs, series };
  }

  /** Cumulative series for Prometheus exposition (`toPrometheusText(registry)` calls this). */
  exposition(): PrometheusSeries[] {
    const out: PrometheusSeries[] = [];
    for (const family of this.families.values()) {
      for (const h of this.handlesOf(family)) {
        if (h instanceof Counter) out.push({ name: h.name, kind: 'counter', tags: h.tags, value: h.value });
        else if (h instanceof Gauge) out.push({ name: h.name, kind: 'gauge', tags: h.tags, value: h.value });
        else if (h instanceof Meter) out.push({ name: h.name, kind: 'meter', tags: h.tags, value: h.count });
        else out.push({ name: h.name, kind: 'histogram', tags: h.tags, sketch: h.total() });
      }
    }
    return out;
  }

  /**
   * Send a window to `sink` at every wall-clock multiple of `sink.intervalMs` (windows align across
   * processes). One timer per registry, `unref()`'d. A failed send is logged and counted, not retried
   * (the broker client keeps unsent windows). One report loop per registry at a time.
   */
  reportTo(sink: MetricsSink, options: ReportOptions = {}): MetricsReport {
    if (typeof sink !== 'object' || sink === null || typeof sink.send !== 'function') {
      throw validationError('sink', 'an object with send(snapshot) and intervalMs', sink);
    }
    const interval = sink.intervalMs;
    if (!Number.isSafeInteger(interval) || interval < 1) {
      throw validationError('sink.intervalMs', 'an integer >= 1', interval);
    }
    rejectUnknownKeys(options, ['jitter', 'random'], 'options');
    const jitter = options.jitter ?? DEFAULT_REPORT_JITTER;
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
      throw validationError('options.jitter', 'a number in [0, 1)', jitter);
    }
    const random = options.random ?? Math.random;
    if (typeof random !== 'function') throw validationError('options.random', 'a function', random);
    if (!this.enabled) return { sent: 0, failed: 0, stop: async () => {} };
    if (this.reporting) {
      throw new FleetwatchError(
        'E_VALIDATION',
        'this registry already reports to a sink; stop that report first',
        {
          path: 'sink',
        },
      );
    }
    this.reporting = true;
    const jitterMs = () => Math.floor(random() * jitter * interval);
    return new ReportLoop(this, sink, interval, jitterMs, this.clock, this.logger, () => {
      this.reporting = false;
    });
  }

  private checkAccuracy(options: HistogramOptions): number | undefined {
    const alpha = options.relativeAccuracy;
    if (alpha !== undefined && (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 0.5))) {
      throw validationError('options.relativeAccuracy', 'a number in (0, 0.5]', alpha);
    }
    return alpha;
  }

  /** The already-resolved handle for these exact arguments, without validation; else undefined. */
  private cached(
    kind: InstrumentKind,
    name: string,
    tags: Record<string, string> | undefined,
    setting: GaugePolicy | number | undefined,
  ): Handle | undefined {
    const family = this.families.get(name);
    if (family === undefined || family.kind !== kind) return undefined;
    if (setting !== undefined && setting !== family.setting) return undefined;
    return family.aliases.get(tags);
  }

  private *handlesOf(family: Family): Iterable<Handle> {
    yield* family.series.values();
    if (family.overflow !== undefined) yield family.overflow;
  }

  private handle(
    kind: InstrumentKind,
    name: string,
    tags: Record<string, string> | undefined,
    setting: GaugePolicy | number | undefined,
    defaultSetting: GaugePolicy | number | undefined,
    create: (tags: Readonly<Record<string, string>>, setting: GaugePolicy | number | undefined) => Handle,
  ): Handle {
    let family = this.families.get(name);
    if (family === undefined) {
      checkMetricName(name);
      family = {
        name,
        kind,
        setting: setting ?? defaultSetting,
        series: new Map(),
        aliases: new AliasIndex<Handle>(),
        overflow: undefined,
        overflows: 0,
      };
      this.families.set(name, family);
    } else {
      if (family.kind !== kind) {
        throw validationError('name', `a name not already used by a ${family.kind}`, name);
      }
      if (setting !== undefined && setting !== family.setting) {
        const path = kind === 'gauge' ? 'options.policy' : 'options.relativeAccuracy';
        throw validationError(path, `${String(family.setting)} (as first registered)`, setting);
      }
    }
    const hit = family.aliases.get(tags);
    if (hit !== undefined) return hit;
    const full = mergeTags(this.tags, checkTags(tags));
    const key = tagsKey(full);
    let h = family.series.get(key);
    if (h === undefined) {
      if (family.series.size >= this.maxSeriesPerMetric) {
        family.overflows++;
        family.overflow ??= create(mergeTags(this.tags, { [OVERFLOW_TAG]: 'true' }), family.setting);
        return family.overflow;
      }
      h = create(full, family.setting);
      family.series.set(key, h);
    }
    if (family.aliases.size < 4 * this.maxSeriesPerMetric) family.aliases.set(tags, h);
    return h;
  }
}

/** Percentile summary of a sketch. */
function summarize(s: DDSketch): HistogramSummary {
  const quantiles: Record<string, number> = {};
  for (const q of SNAPSHOT_QUANTILES) quantiles[String(q)] = s.quantile(q);
  return {
    count: s.count,
    sum: s.sum,
    min: s.min,
    max: s.max,
    mean: s.count > 0 ? s.sum / s.count : Number.NaN,
    quantiles,
  };
}

/** The loop behind `reportTo`. */
class ReportLoop implements MetricsReport {
  sent = 0;
  failed = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextBoundary: number;
  private pending: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly sink: MetricsSink,
    private readonly intervalMs: number,
    private readonly jitterMs: () => number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onStop: () => void,
  ) {
    this.nextBoundary = this.boundaryAfter(clock.now());
    this.schedule(this.jitterMs());
  }

  stop(options: AbortOptions = {}): Promise<void> {
    if (this.stopped === undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      const now = this.clock.now();
      this.flush(this.boundaryAfter(now) - this.intervalMs);
      this.onStop();
      this.stopped = this.pending;
    }
    const done = this.stopped;
    const signal = options.signal;
    if (signal === undefined) return done;
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      void done.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private boundaryAfter(now: number): number {
    return (Math.floor(now / this.intervalMs) + 1) * this.intervalMs;
  }

  private schedule(jitter = 0): void {
    const delay = Math.max(0, this.nextBoundary + jitter - this.clock.now());
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref?.();
  }

  private tick(): void {
    const boundary = this.nextBoundary;
    const now = this.clock.now();
    if (now < boundary) {
      // The timer fired before the wall clock reached the boundary: wait the rest.
      this.schedule();
      return;
    }
    this.flush(boundary - this.intervalMs);
    this.nextBoundary = Math.max(this.boundaryAfter(now), boundary + this.intervalMs);
    this.schedule(this.jitterMs());
  }

  private flush(windowStart: number): void {
    let snapshot: WindowSnapshot;
    try {
      snapshot = this.registry.collect(windowStart, this.intervalMs);
    } catch (err) {
      this.failed++;
      this.logger.error({ err: errorMessage(err), windowStart }, 'metrics collect failed');
      return;
    }
    this.pending = this.pending.then(async () => {
      try {
        await this.sink.send(snapshot);
        this.sent++;
      } catch (err) {
        this.failed++;
        this.logger.warn({ err: errorMessage(err), windowStart }, 'metrics send failed');
      }
    });
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
