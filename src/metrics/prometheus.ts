import { FleetwatchError, validationError } from '../errors.js';
import { checkBuckets, cumulativeBucketCounts, DEFAULT_PROMETHEUS_BUCKETS } from './prometheus-buckets.js';
import {
  PrometheusNameIndex,
  type PrometheusType,
  prometheusLabelName,
  prometheusMetricName,
} from './prometheus-names.js';
import type { MetricsRegistry } from './registry.js';
import type { MetricKind, QuantileSketch } from './types.js';

/** `Content-Type` of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** `Content-Type` of OpenMetrics 1.0 text. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Quantiles a summary shows by default. */
export const PROMETHEUS_QUANTILES = [0.5, 0.9, 0.95, 0.99, 0.999] as const;

/** One cumulative series to expose (a `SeriesDelta` with cumulative values fits). */
export interface PrometheusSeries {
  name: string;
  kind: MetricKind;
  tags: Readonly<Record<string, string>>;
  /** counter/meter: cumulative total; gauge: value. */
  value?: number;
  /** histogram: everything recorded since the start. */
  sketch?: QuantileSketch;
}

/** What a broker offers for scraping (a `MetricsBroker` fits). */
export interface PrometheusBrokerView {
  readonly id: string;
  /** Merged cumulative series; `set` is shown as a gauge. */
  totals(): ReadonlyArray<{
    name: string;
    kind: MetricKind | 'set';
    tags: Readonly<Record<string, string>>;
    value: number;
    sketch?: QuantileSketch;
  }>;
  /** Self-metrics: fields ending in `Ms` and a few level fields are gauges, the rest counters. */
  stats(): object;
  /** OTLP receiver counters, when it runs. */
  otlpStats?(): object | undefined;
}

/** What {@link toPrometheusText} accepts. */
export type PrometheusInput =
  | Pick<MetricsRegistry, 'exposition'>
  | PrometheusBrokerView
  | readonly PrometheusSeries[]
  | { readonly series: readonly PrometheusSeries[] };

/** The two text formats. */
export type PrometheusFormat = 'text' | 'openmetrics';

/** Options of {@link toPrometheusText}. */
export interface PrometheusOptions {
  /** `text` (Prometheus 0.0.4) or `openmetrics` (OpenMetrics 1.0, ends with `# EOF`). @default 'text' */
  format?: PrometheusFormat;
  /** Summary quantiles, each in [0, 1]. @default PROMETHEUS_QUANTILES */
  quantiles?: readonly number[];
  /** `# HELP` text per metric name (the fleetwatch name); others get a generated line. */
  help?: Readonly<Record<string, string>>;
  /**
   * How histograms are shown: a `summary` (quantiles from the sketch, exact across processes but
   * not aggregatable by PromQL), a classic `histogram` (`_bucket{le}`, aggregatable with
   * `histogram_quantile`), or `both` (summary under the name, histogram under `<name>_histogram`).
   * @default 'both'
   */
  histograms?: 'both' | 'summary' | 'histogram';
  /** Classic-histogram upper bounds, strictly increasing. @default DEFAULT_PROMETHEUS_BUCKETS (2^-4 … 2^20) */
  buckets?: readonly number[];
  /**
   * What to do with a series whose name or labels collide after sanitising: `throw` `E_VALIDATION`
   * or `drop` it (counted in `fleetwatch_exposition_dropped_series`).
   * @default 'throw' ('drop' for a broker, whose series come from many processes)
   */
  onConflict?: 'throw' | 'drop';
}

interface Family {
  type: PrometheusType;
  help: string;
  lines: string[];
}

const BROKER_GAUGES = new Set([
  'lastFlushMs',
  'maxFlushMs',
  'openWindows',
  'queuedFrames',
  'bufferedBytes',
  'series',
  'connections',
]);

/**
 * Render metrics in the Prometheus text format 0.0.4 or OpenMetrics 1.0: every family has
 * `# HELP` and `# TYPE`; names and labels follow the one sanitising rule of
 * `prometheusMetricName`; counters are `<name>_total`; histograms are a summary and/or a
 * classic histogram derived from the (merged) sketch. Whatever the input, the output parses: names
 * that collide after sanitising throw `E_VALIDATION` (or are dropped and counted, see `onConflict`).
 *
 * @example
 * ```ts
 * http.createServer((req, res) => {
 *   res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(toPrometheusText(registry));
 * });
 * toPrometheusText(broker, { format: 'openmetrics' }); // the merged fleet view
 * ```
 */
export function toPrometheusText(input: PrometheusInput, options: PrometheusOptions = {}): string {
  if (options === null || typeof options !== 'object') throw validationError('options', 'an object', options);
  const format = options.format ?? 'text';
  if (format !== 'text' && format !== 'openmetrics')
    throw validationError('options.format', "'text' or 'openmetrics'", format);
  const quantiles = options.quantiles ?? PROMETHEUS_QUANTILES;
  if (!Array.isArray(quantiles))
    throw validationError('options.quantiles', 'an array of numbers in [0, 1]', quantiles);
  quantiles.forEach((q, i) => {
    if (typeof q !== 'number' || !(q >= 0 && q <= 1))
      throw validationError(`options.quantiles[${i}]`, 'a number in [0, 1]', q);
  });
  const histograms = options.histograms ?? 'both';
  if (histograms !== 'both' && histograms !== 'summary' && histograms !== 'histogram')
    throw validationError('options.histograms', "'both', 'summary' or 'histogram'", histograms);
  const buckets =
    options.buckets === undefined
      ? DEFAULT_PROMETHEUS_BUCKETS
      : checkBuckets(options.buckets, 'options.buckets');
  const { series, broker } = seriesOf(input);
  const onConflict = options.onConflict ?? (broker ? 'drop' : 'throw');
  const om = format === 'openmetrics';
  const names = new PrometheusNameIndex();
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let dropped = 0;

  const family = (source: string, name: string, type: PrometheusType, kind: string, path: string): Family => {
    names.claim(source, name, type, path);
    let f = families.get(name);
    if (f === undefined) {
      const help = options.help?.[source] ?? `${source} (fleetwatch ${kind})`;
      f = { type, help, lines: [] };
      families.set(name, f);
    }
    return f;
  };

  series.forEach((s, i) => {
    const path = `series[${i}]`;
    try {
      if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || s.name === '')
        throw validationError(`${path}.name`, 'a metric name', s?.name);
      const labels = labelsOf(s.tags, `${path}.tags`);
      const base = prometheusMetricName(s.name);
      const identity = `${base}{${labels}}`;
      const unique = () => {
        if (seen.has(identity))
          throw validationError(
            `${path}.tags`,
            'labels that stay distinct from another series after sanitising',
            s.name,
          );
      };
      if (s.kind === 'histogram') {
        const sk = s.sketch;
        if (sk === undefined || typeof sk.quantile !== 'function')
          throw validationError(`${path}.sketch`, 'a sketch for a histogram', undefined);
        // Claim every family first, so a refused series writes nothing.
        const summary =
          histograms !== 'histogram'
            ? family(s.name, base, 'summary', 'histogram', `${path}.name`)
            : undefined;
        const hname = histograms === 'both' ? `${base}_histogram` : base;
        const hist =
          histograms !== 'summary'
            ? family(s.name, hname, 'histogram', 'histogram', `${path}.name`)
            : undefined;
        unique();
        // OpenMetrics allows no negative observations in a summary's quantiles or sum, nor a histogram
        // _sum (and so _count) beside them: with negative values those samples are left out there
        // (the +Inf bucket still counts them; 0.0.4 keeps everything).
        const negative = om && sk.count > 0 && sk.min < 0;
        if (summary !== undefined) {
          if (!negative)
            for (const q of quantiles)
              summary.lines.push(
                `${base}${braces(labels, `quantile="${floatText(q, om)}"`)} ${num(sk.quantile(q))}`,
              );
          if (!negative) summary.lines.push(`${base}_sum${braces(labels)} ${num(sk.sum)}`);
          summary.lines.push(`${base}_count${braces(labels)} ${num(sk.count)}`);
        }
        if (hist !== undefined) {
          const counts = cumulativeBucketCounts(sk, buckets);
          buckets.forEach((b, j) => {
            hist.lines.push(
              `${hname}_bucket${braces(labels, `le="${floatText(b, om)}"`)} ${num(counts[j]!)}`,
            );
          });
          hist.lines.push(`${hname}_bucket${braces(labels, 'le="+Inf"')} ${num(sk.count)}`);
          if (!(negative || (om && buckets[0]! < 0))) {
            hist.lines.push(`${hname}_sum${braces(labels)} ${num(sk.sum)}`);
            hist.lines.push(`${hname}_count${braces(labels)} ${num(sk.count)}`);
          }
        }
      } else {
        if (typeof s.value !== 'number') throw validationError(`${path}.value`, 'a number', s.value);
        if (s.kind === 'gauge') {
          const f = family(s.name, base, 'gauge', 'gauge', `${path}.name`);
          unique();
          f.lines.push(`${base}${braces(labels)} ${num(s.value)}`);
        } else if (s.kind === 'counter' || s.kind === 'meter') {
          const stem = base.endsWith('_total') ? base.slice(0, -6) : base;
          const f = family(s.name, stem, 'counter', s.kind, `${path}.name`);
          unique();
          f.lines.push(`${stem}_total${braces(labels)} ${num(s.value)}`);
        } else throw validationError(`${path}.kind`, 'counter, gauge, meter or histogram', s.kind);
      }
      seen.add(identity);
    } catch (err) {
      if (onConflict === 'drop' && err instanceof FleetwatchError) dropped++;
      else throw err;
    }
  });
  if (broker) {
    const f = family(
      'fleetwatch.exposition.droppedSeries',
      'fleetwatch_exposition_dropped_series',
      'gauge',
      'gauge',
      'exposition',
    );
    f.help = 'Series left out of this exposition because their names collide after sanitising';
    f.lines.push(`fleetwatch_exposition_dropped_series ${dropped}`);
  }
  const out: string[] = [];
  for (const [name, f] of families) {
    const typeName = !om && f.type === 'counter' ? `${name}_total` : name;
    out.push(`# HELP ${typeName} ${escapeHelp(f.help, om)}`, `# TYPE ${typeName} ${f.type}`, ...f.lines);
  }
  if (om) out.push('# EOF');
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** Escape a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  if (value.indexOf('\\') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0) return value;
  let out = '';
  for (const ch of value) out += ch === '\\' ? '\\\\' : ch === '"' ? '\\"' : ch === '\n' ? '\\n' : ch;
  return out;
}

function escapeHelp(text: string, om: boolean): string {
  let out = '';
  for (const ch of text) out += ch === '\\' ? '\\\\' : ch === '\n' ? '\\n' : om && ch === '"' ? '\\"' : ch;
  return out;
}

function seriesOf(input: PrometheusInput): { series: readonly PrometheusSeries[]; broker: boolean } {
  if (Array.isArray(input)) return { series: input as readonly PrometheusSeries[], broker: false };
  if (typeof input === 'object' && input !== null) {
    if ('exposition' in input && typeof input.exposition === 'function')
      return { series: input.exposition(), broker: false };
    if ('series' in input && Array.isArray(input.series)) return { series: input.series, broker: false };
    if ('totals' in input && typeof input.totals === 'function' && typeof input.stats === 'function')
      return { series: brokerSeries(input), broker: true };
  }
  throw validationError('input', 'a MetricsRegistry, a MetricsBroker, a series list or { series }', input);
}

function brokerSeries(b: PrometheusBrokerView): PrometheusSeries[] {
  const out: PrometheusSeries[] = [];
  for (const t of b.totals()) {
    if (t.kind === 'histogram') {
      if (t.sketch !== undefined)
        out.push({ name: t.name, kind: 'histogram', tags: t.tags, sketch: t.sketch });
    } else
      out.push({ name: t.name, kind: t.kind === 'set' ? 'gauge' : t.kind, tags: t.tags, value: t.value });
  }
  const tags = { broker: b.id };
  const self = (prefix: string, stats: object | undefined) => {
    for (const [k, v] of Object.entries(stats ?? {})) {
      if (typeof v !== 'number') continue;
      const gauge = BROKER_GAUGES.has(k) || k.endsWith('Ms');
      out.push({ name: `${prefix}.${k}`, kind: gauge ? 'gauge' : 'counter', tags, value: v });
    }
  };
  self('fleetwatch.broker', b.stats());
  self('fleetwatch.otlp', b.otlpStats?.());
  return out;
}

/** Sorted `name="value"` pairs, sanitised; two keys that meet throw. */
function labelsOf(tags: Readonly<Record<string, string>> | undefined, path: string): string {
  if (tags === undefined || tags === null) return '';
  if (typeof tags !== 'object') throw validationError(path, 'an object of tags', tags);
  const pairs = new Map<string, string>();
  for (const k of Object.keys(tags)) {
    const name = prometheusLabelName(k);
    if (pairs.has(name))
      throw validationError(`${path}.${k}`, `a tag key that stays distinct as label ${name}`, k);
    pairs.set(name, escapeLabelValue(String(tags[k])));
  }
  return [...pairs.keys()]
    .sort()
    .map((n) => `${n}="${pairs.get(n)}"`)
    .join(',');
}

function braces(labels: string, extra?: string): string {
  const all = extra === undefined ? labels : labels === '' ? extra : `${labels},${extra}`;
  return all === '' ? '' : `{${all}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** `le`/`quantile` values: OpenMetrics wants canonical floats (`1.0`, `+Inf`). */
function floatText(v: number, om: boolean): string {
  const t = num(v);
  return om && Number.isInteger(v) && !t.includes('e') ? `${t}.0` : t;
}
