/**
 * The per-process metrics registry: hands out cached, bound instrument handles, caps series per
 * metric, and separates recording from collecting (OTel's DeltaMetricProcessor): `collect()` takes
 * the window's deltas and swaps in fresh sketches, `snapshot()` reads current values for in-process use.
 */
import { type Clock, type Logger, rejectUnknownKeys, silentLogger, systemClock } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import { COMBINE_POLICIES, type CombinePolicy } from '../metrics-store/types.js';
import { Counter } from './counter.js';
import type { DropCounts } from './drops.js';
import { Gauge } from './gauge.js';
import { Histogram } from './histogram.js';
import { Meter } from './meter.js';
import { type DroppingInstruments, droppingInstruments, NOOP_INSTRUMENTS } from './noop.js';
import type { PrometheusSeries } from './prometheus.js';
import {
  type Create,
  type Family,
  FamilyTable,
  type Handle,
  handlesOf,
  summarize,
} from './registry-families.js';
import { checkAccuracy, checkFunctionOf, optionsObject } from './registry-options.js';
import { checkReportArgs, type MetricsReport, ReportLoop } from './report.js';
import { DEFAULT_RELATIVE_ACCURACY } from './sketch.js';
import { EMPTY_TAGS, seriesTags, type TagSet, tagsKey } from './tag-set.js';
import { Timer } from './timer.js';
import type { MetricsSink, SeriesDelta, WindowSnapshot } from './types.js';

export { DEFAULT_REPORT_JITTER, type MetricsReport } from './report.js';

import {
  DEFAULT_MAX_SERIES_PER_METRIC,
  type HistogramOptions,
  type InstrumentKind,
  type MetricsRegistryOptions,
  OVERFLOW_TAG,
  type RegistrySnapshot,
  type RegistryStats,
  type SeriesSnapshot,
} from './registry-types.js';

export * from './registry-types.js';

/**
 * The per-process registry of instruments: cached, bound handles (resolve once, then each update
 * is a field update), a cardinality cap per metric, and windows collected for the broker.
 *
 * Names and options are checked when a handle is first resolved (`E_VALIDATION`); tags are checked
 * against the same rules the stores apply (docs/naming.md): a tag set a store would refuse gets a
 * dropping instrument, counted in {@link MetricsRegistry.stats}, never a throw. Instruments never
 * throw on bad values either: they drop and count them.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry({ tags: { service: 'api' } });
 * const requests = registry.counter('requests', { route: '/' }); // resolve once…
 * requests.inc();                                                 // …then a field update
 * registry.histogram('latency_ms').record(12.5);
 * registry.stats(); // { series: 2, droppedValues: 0, rejectedTagSets: 0, overflows: 0 }
 * const report = registry.reportTo(await connectBroker({ socketPath: '/tmp/fleetwatch.sock' }));
 * await report.stop();
 * ```
 */
export class MetricsRegistry {
  /** The registry's own tags. */
  readonly tags: TagSet;
  /** The cardinality cap per metric. */
  readonly maxSeriesPerMetric: number;
  /** False when constructed with `enabled: false`. */
  readonly enabled: boolean;
  readonly #relativeAccuracy: number;
  readonly #clock: Clock;
  readonly #monotonicNow: () => number;
  readonly #logger: Logger;
  readonly #families = new FamilyTable();
  readonly #drops: DropCounts = { values: 0 };
  #rejectedTagSets = 0;
  #dropping: DroppingInstruments | undefined;
  #reporting = false;

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
    const tags = seriesTags(EMPTY_TAGS, options.tags, 'options.tags');
    if (tags instanceof FleetwatchError) throw tags;
    this.tags = tags;
    const cap = options.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES_PER_METRIC;
    if (!Number.isInteger(cap) || cap < 1)
      throw validationError('options.maxSeriesPerMetric', 'an integer >= 1', cap);
    this.maxSeriesPerMetric = cap;
    this.#relativeAccuracy = checkAccuracy(options) ?? DEFAULT_RELATIVE_ACCURACY;
    this.#clock = checkFunctionOf(options.clock, 'options.clock', 'now') ?? systemClock;
    if (options.monotonicNow !== undefined && typeof options.monotonicNow !== 'function')
      throw validationError('options.monotonicNow', 'a function', options.monotonicNow);
    this.#monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.#logger = checkFunctionOf(options.logger, 'options.logger', 'warn') ?? silentLogger;
    if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
      throw validationError('options.enabled', 'a boolean', options.enabled);
    }
    this.enabled = options.enabled ?? true;
  }

  /** The counter for `name` + `tags`: the same handle for the same name and tags. */
  counter(name: string, tags?: Record<string, string>): Counter {
    if (!this.enabled) return NOOP_INSTRUMENTS.counter;
    const hit = this.#cached('counter', name, tags, undefined);
    if (hit !== undefined) return hit as Counter;
    return this.#handle(
      'counter',
      name,
      tags,
      undefined,
      undefined,
      (t) => new Counter(name, t, this.#drops),
    ) as Counter;
  }

  /** The gauge for `name` + `tags`. The policy is fixed by the metric's first registration. */
  gauge(
    name: string,
    tags?: Record<string, string>,
    options?: {
      /** How the broker combines this gauge across processes. Default `last` (per source). */
      policy?: CombinePolicy;
    },
  ): Gauge {
    if (!this.enabled) return NOOP_INSTRUMENTS.gauge;
    const policy = optionsObject(options)?.policy;
    const hit = this.#cached('gauge', name, tags, policy);
    if (hit !== undefined) return hit as Gauge;
    if (policy !== undefined && !COMBINE_POLICIES.includes(policy)) {
      throw validationError('options.policy', COMBINE_POLICIES.join(' | '), policy);
    }
    return this.#handle(
      'gauge',
      name,
      tags,
      policy,
      'last',
      (t, p) => new Gauge(name, t, p as CombinePolicy, this.#drops),
    ) as Gauge;
  }

  /** The meter for `name` + `tags`. */
  meter(name: string, tags?: Record<string, string>): Meter {
    if (!this.enabled) return NOOP_INSTRUMENTS.meter;
    const hit = this.#cached('meter', name, tags, undefined);
    if (hit !== undefined) return hit as Meter;
    return this.#handle(
      'meter',
      name,
      tags,
      undefined,
      undefined,
      (t) => new Meter(name, t, this.#clock, this.#drops),
    ) as Meter;
  }

  /** The histogram (DDSketch-backed) for `name` + `tags`. */
  histogram(name: string, tags?: Record<string, string>, options?: HistogramOptions): Histogram {
    if (!this.enabled) return NOOP_INSTRUMENTS.histogram;
    const alpha = checkAccuracy(optionsObject(options) ?? {});
    const hit = this.#cached('histogram', name, tags, alpha);
    if (hit !== undefined) return hit as Histogram;
    return this.#handle(
      'histogram',
      name,
      tags,
      alpha,
      this.#relativeAccuracy,
      (t, a) => new Histogram(name, t, { relativeAccuracy: a as number }, this.#drops),
    ) as Histogram;
  }

  /** The timer (a histogram of ms durations) for `name` + `tags`. */
  timer(name: string, tags?: Record<string, string>, options?: HistogramOptions): Timer {
    if (!this.enabled) return NOOP_INSTRUMENTS.timer;
    const alpha = checkAccuracy(optionsObject(options) ?? {});
    const hit = this.#cached('timer', name, tags, alpha);
    if (hit !== undefined) return hit as Timer;
    return this.#handle(
      'timer',
      name,
      tags,
      alpha,
      this.#relativeAccuracy,
      (t, a) => new Timer(name, t, { relativeAccuracy: a as number }, this.#monotonicNow, this.#drops),
    ) as Timer;
  }

  /** Handle requests folded into overflow series: for one metric, or all metrics together. */
  overflowCount(name?: string): number {
    if (name !== undefined) return this.#families.get(name)?.overflows ?? 0;
    let total = 0;
    for (const f of this.#families.values()) total += f.overflows;
    return total;
  }

  /** The registry's self-metrics: series held and what was dropped instead of thrown. */
  stats(): RegistryStats {
    let series = 0;
    for (const f of this.#families.values()) series += f.series.size + (f.overflow === undefined ? 0 : 1);
    return {
      series,
      droppedValues: this.#drops.values,
      rejectedTagSets: this.#rejectedTagSets,
      overflows: this.overflowCount(),
    };
  }

  /** Current values of every series, for in-process use. Does not disturb `collect` windows. */
  snapshot(): RegistrySnapshot {
    const series: SeriesSnapshot[] = [];
    const overflows: Record<string, number> = {};
    for (const family of this.#families.values()) {
      if (family.overflows > 0) overflows[family.name] = family.overflows;
      for (const h of handlesOf(family)) {
        const base = { name: h.name, kind: family.kind, tags: h.tags };
        if (h instanceof Counter) series.push({ ...base, value: h.value });
        else if (h instanceof Gauge) series.push({ ...base, value: h.value, policy: h.policy });
        else if (h instanceof Meter) series.push({ ...base, value: h.count, rates: h.rates() });
        else series.push({ ...base, summary: summarize(h.total()) });
      }
    }
    return { ts: this.#clock.now(), series, overflows, stats: this.stats() };
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
    for (const family of this.#families.values()) {
      for (const h of handlesOf(family)) {
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
    for (const family of this.#families.values()) {
      for (const h of handlesOf(family)) {
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
  reportTo(
    sink: MetricsSink,
    options: {
      /**
       * Send each window at its end plus a random delay of up to this fraction of the interval, so a
       * fleet of processes does not hit the broker at the same instant. In [0, 1); default 0.1.
       * Updates made during that delay count toward the window just closed.
       */
      jitter?: number;
      /** Random source in [0, 1) for the jitter (tests inject one). Default `Math.random`. */
      random?: () => number;
    } = {},
  ): MetricsReport {
    const { intervalMs, jitterMs } = checkReportArgs(sink, options);
    if (!this.enabled) return { sent: 0, failed: 0, stop: async () => {} };
    if (this.#reporting) {
      throw new FleetwatchError(
        'E_VALIDATION',
        'this registry already reports to a sink; stop that report first',
        {
          path: 'sink',
        },
      );
    }
    this.#reporting = true;
    return new ReportLoop({
      source: this,
      sink,
      intervalMs,
      jitterMs,
      clock: this.#clock,
      logger: this.#logger,
      onStop: () => {
        this.#reporting = false;
      },
    });
  }

  /** The already-resolved handle for these exact arguments, without validation; else undefined. */
  #cached(
    kind: InstrumentKind,
    name: string,
    tags: Record<string, string> | undefined,
    setting: CombinePolicy | number | undefined,
  ): Handle | undefined {
    const family = this.#families.get(name);
    if (family === undefined || family.kind !== kind) return undefined;
    if (setting !== undefined && setting !== family.setting) return undefined;
    return family.aliases.get(tags);
  }

  #handle(
    kind: InstrumentKind,
    name: string,
    tags: Record<string, string> | undefined,
    setting: CombinePolicy | number | undefined,
    defaultSetting: CombinePolicy | number | undefined,
    create: Create,
  ): Handle {
    const family = this.#families.resolve(kind, name, setting, defaultSetting);
    const hit = family.aliases.get(tags);
    if (hit !== undefined) return hit;
    const full = seriesTags(this.tags, tags);
    if (full instanceof FleetwatchError) return this.#reject(family, full);
    const key = tagsKey(full);
    let h = family.series.get(key);
    if (h === undefined) {
      if (family.series.size >= this.maxSeriesPerMetric) {
        family.overflows++;
        family.overflow ??= create(
          seriesTags(this.tags, { [OVERFLOW_TAG]: 'true' }) as TagSet,
          family.setting,
        );
        return family.overflow;
      }
      h = create(full, family.setting);
      family.series.set(key, h);
    }
    if (family.aliases.size < 4 * this.maxSeriesPerMetric) family.aliases.set(tags, h);
    return h;
  }

  /** Count a rejected tag set (logging the first per metric) and hand out a dropping instrument. */
  #reject(family: Family, err: FleetwatchError): Handle {
    this.#rejectedTagSets++;
    if (family.rejected++ === 0) {
      this.#logger.warn(
        { metric: family.name, path: err.path, expected: err.expected, received: err.received },
        'metrics: tag set refused by the naming rules; its updates are dropped and counted',
      );
    }
    this.#dropping ??= droppingInstruments(this.#drops, this.#monotonicNow);
    return this.#dropping[family.kind];
  }
}
