/**
 * Prometheus text exposition (format 0.0.4) of cumulative metrics: a registry's own, or any plain
 * list of series — such as the broker's merged view. Counters and meters become `<name>_total`
 * counters, gauges stay gauges, and histograms/timers become summaries whose quantiles come from the
 * (merged) DDSketch, so they are correct across processes, plus `_sum` and `_count`.
 */
import { validationError } from '../errors.js';
import type { MetricsRegistry } from './registry.js';
import type { MetricKind, QuantileSketch } from './types.js';

/** The HTTP `Content-Type` of {@link toPrometheusText}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

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

/** What {@link toPrometheusText} accepts. */
export type PrometheusInput =
  | Pick<MetricsRegistry, 'exposition'>
  | readonly PrometheusSeries[]
  | { readonly series: readonly PrometheusSeries[] };

/** Options of {@link toPrometheusText}. */
export interface PrometheusOptions {
  /** Summary quantiles, each in [0, 1]. Default `PROMETHEUS_QUANTILES` (0.5, 0.9, 0.95, 0.99, 0.999). */
  quantiles?: readonly number[];
  /** `# HELP` text per metric name. */
  help?: Readonly<Record<string, string>>;
}

/**
 * Render metrics in the Prometheus text format. Series of one name are grouped under one `# TYPE`
 * line; names and tag keys are sanitised to Prometheus' alphabet; label values are escaped. A name
 * used with two incompatible kinds throws `E_VALIDATION`.
 */
export function toPrometheusText(input: PrometheusInput, options: PrometheusOptions = {}): string {
  const series = seriesOf(input);
  const quantiles = options.quantiles ?? PROMETHEUS_QUANTILES;
  quantiles.forEach((q, i) => {
    if (typeof q !== 'number' || !(q >= 0 && q <= 1))
      throw validationError(`options.quantiles[${i}]`, 'a number in [0, 1]', q);
  });
  const families = new Map<string, { type: string; lines: string[] }>();
  series.forEach((s, i) => {
    const type = s.kind === 'gauge' ? 'gauge' : s.kind === 'histogram' ? 'summary' : 'counter';
    const base = sanitizeName(s.name);
    const family = type === 'counter' ? `${base.replace(/_total$/, '')}_total` : base;
    let entry = families.get(family);
    if (entry === undefined) {
      entry = { type, lines: [] };
      families.set(family, entry);
    } else if (entry.type !== type) {
      throw validationError(
        `series[${i}].kind`,
        `${entry.type} like the other series named ${family}`,
        s.kind,
      );
    }
    const labels = labelPairs(s.tags);
    if (type === 'summary') {
      const sk = s.sketch;
      if (sk === undefined)
        throw validationError(`series[${i}].sketch`, 'a sketch for a histogram', undefined);
      for (const q of quantiles) {
        entry.lines.push(`${family}${braces([...labels, `quantile="${q}"`])} ${formatValue(sk.quantile(q))}`);
      }
      entry.lines.push(`${family}_sum${braces(labels)} ${formatValue(sk.sum)}`);
      entry.lines.push(`${family}_count${braces(labels)} ${formatValue(sk.count)}`);
    } else {
      if (typeof s.value !== 'number') throw validationError(`series[${i}].value`, 'a number', s.value);
      entry.lines.push(`${family}${braces(labels)} ${formatValue(s.value)}`);
    }
  });
  const out: string[] = [];
  for (const [name, { type, lines }] of families) {
    const help = options.help?.[name] ?? options.help?.[name.replace(/_total$/, '')];
    if (help !== undefined) out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    out.push(`# TYPE ${name} ${type}`, ...lines);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** Escape a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function seriesOf(input: PrometheusInput): readonly PrometheusSeries[] {
  if (Array.isArray(input)) return input as readonly PrometheusSeries[];
  if (typeof input === 'object' && input !== null) {
    if ('exposition' in input && typeof input.exposition === 'function') return input.exposition();
    if ('series' in input && Array.isArray(input.series)) return input.series;
  }
  throw validationError('input', 'a MetricsRegistry, a series list or { series }', input);
}

function sanitizeName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_:]/g, '_');
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
}

function labelPairs(tags: Readonly<Record<string, string>>): string[] {
  return Object.keys(tags)
    .sort()
    .map((k) => {
      const key = k.replace(/[^A-Za-z0-9_]/g, '_');
      return `${/^[0-9]/.test(key) ? `_${key}` : key}="${escapeLabelValue(String(tags[k]))}"`;
    });
}

function braces(pairs: readonly string[]): string {
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}
