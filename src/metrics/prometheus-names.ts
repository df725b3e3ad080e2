import { validationError } from '../errors.js';

/**
 * The one rule by which fleetwatch names become Prometheus names (docs/metrics.md, "Prometheus
 * names"):
 *
 * 1. Names in fleetwatch's own `fleetwatch.` namespace (self-metrics) have camelCase words split
 *    into snake_case (`badFrames` → `bad_frames`).
 * 2. Every character outside `[A-Za-z0-9_]` becomes `_` (so `a.b`, `a-b` and `a/b` all become `a_b`;
 *    `:` too, as it is reserved for recording rules).
 * 3. A metric name that then starts with a digit gets a `_` prefix (`9lives` → `_9lives`).
 * 4. A label name that starts with a digit or `_` (reserved: `__name__`, OpenMetrics' `_…`), or is
 *    `le` or `quantile` (reserved by histograms and summaries), gets a `tag_` prefix
 *    (`__name__` → `tag___name__`, `le` → `tag_le`) — for every kind, so a tag is named the same
 *    everywhere.
 *
 * Two different names that meet after this rule are a collision: `E_VALIDATION`, never a duplicate
 * series (see {@link PrometheusNameIndex}).
 *
 * @example
 * ```ts
 * prometheusMetricName('http.server.duration'); // 'http_server_duration'
 * prometheusLabelName('quantile');             // 'tag_quantile'
 * ```
 */
export function prometheusMetricName(name: string): string {
  const hit = metricNames.get(name);
  if (hit !== undefined) return hit;
  const out = sanitizeMetricName(name);
  remember(metricNames, name, out);
  return out;
}

/** Results of the rule, kept for the names seen most (bounded: cleared when full). */
const metricNames = new Map<string, string>();
const labelNames = new Map<string, string>();
const MAX_CACHED_NAMES = 50_000;

function remember(cache: Map<string, string>, key: string, value: string): void {
  if (cache.size >= MAX_CACHED_NAMES) cache.clear();
  cache.set(key, value);
}

function sanitizeMetricName(name: string): string {
  const words = name.startsWith('fleetwatch.') ? snakeCase(name) : name;
  let out = '';
  for (let i = 0; i < words.length; i++) {
    const c = words.charCodeAt(i);
    out += isWordChar(c) ? words[i] : '_';
  }
  const first = out.charCodeAt(0);
  return out === '' || (first >= 48 && first <= 57) ? `_${out}` : out;
}

/** The Prometheus label name of a tag key, by the rule of `prometheusMetricName`. */
export function prometheusLabelName(key: string): string {
  const hit = labelNames.get(key);
  if (hit !== undefined) return hit;
  const out = sanitizeLabelName(key);
  remember(labelNames, key, out);
  return out;
}

function sanitizeLabelName(key: string): string {
  let out = '';
  for (let i = 0; i < key.length; i++) out += isWordChar(key.charCodeAt(i)) ? key[i] : '_';
  const first = out.charCodeAt(0);
  if (out === '' || out === 'le' || out === 'quantile' || first === 95 || (first >= 48 && first <= 57))
    return `tag_${out}`;
  return out;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function snakeCase(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      const prev = name.charCodeAt(i - 1);
      if (i > 0 && ((prev >= 97 && prev <= 122) || (prev >= 48 && prev <= 57))) out += '_';
      out += String.fromCharCode(c + 32);
    } else out += name[i];
  }
  return out;
}

/** The Prometheus type of a family. */
export type PrometheusType = 'counter' | 'gauge' | 'summary' | 'histogram';

/** Sample-name suffixes each family type writes (OpenMetrics 1.0; `''` is the bare name). */
const SUFFIXES: Record<PrometheusType, readonly string[]> = {
  counter: ['_total', '_created'],
  gauge: [''],
  summary: ['', '_sum', '_count', '_created'],
  histogram: ['_bucket', '_sum', '_count', '_created'],
};

/**
 * Remembers which source name owns each Prometheus family and sample name, so that two names that
 * meet after sanitising, or a family whose samples clash with another's (`foo` histogram beside a
 * gauge `foo_count`, a counter `x` beside a gauge `x_total`), are refused instead of written.
 *
 * @example
 * ```ts
 * const names = new PrometheusNameIndex();
 * names.claim('a.b', 'a_b', 'gauge', 'series[0].name');
 * names.claim('a_b', 'a_b', 'gauge', 'series[1].name'); // throws E_VALIDATION: collides with a.b
 * ```
 */
export class PrometheusNameIndex {
  readonly #families = new Map<string, { source: string; type: PrometheusType }>();
  readonly #samples = new Map<string, string>();

  /**
   * Claim `family` of `type` for the source name `source`. Claiming it again for the same source
   * and type is a no-op; anything else that would give two families one sample name throws
   * `E_VALIDATION` at `path`.
   */
  claim(source: string, family: string, type: PrometheusType, path: string): void {
    if (this.#check(source, family, type, path)) this.#take(family, type, source);
  }

  /**
   * Claim every Prometheus name an instrument may be written under, whatever the exposition's
   * `histograms` option: a counter or meter `<name>_total`; a gauge `<name>`; a histogram or timer
   * the summary `<name>` and the histograms `<name>_histogram` and `<name>_bucket…`. All or nothing:
   * `E_VALIDATION` at `path` when any of them collides with another instrument's.
   *
   * @example
   * ```ts
   * names.claimInstrument('lat', 'histogram', 'name');
   * names.claimInstrument('lat_count', 'gauge', 'name'); // throws E_VALIDATION
   * ```
   */
  claimInstrument(
    source: string,
    kind: 'counter' | 'meter' | 'gauge' | 'histogram' | 'timer',
    path: string,
  ): void {
    const base = prometheusMetricName(source);
    const claims: [string, PrometheusType][] =
      kind === 'gauge'
        ? [[base, 'gauge']]
        : kind === 'counter' || kind === 'meter'
          ? [[base.endsWith('_total') ? base.slice(0, -6) : base, 'counter']]
          : [
              [base, 'summary'],
              [`${base}_histogram`, 'histogram'],
            ];
    const bucket = `${base}_bucket`;
    if (claims.length === 2 && this.#samples.has(bucket) && this.#samples.get(bucket) !== base)
      throw validationError(
        path,
        `a name whose Prometheus samples do not clash with family ${this.#samples.get(bucket)}`,
        source,
      );
    const fresh = new PrometheusNameIndex();
    for (const [family, type] of claims) {
      // Checked against the claims so far and against each other before any is taken.
      if (this.#check(source, family, type, path)) fresh.claim(source, family, type, path);
    }
    for (const [family, type] of claims) if (!this.#families.has(family)) this.#take(family, type, source);
    if (claims.length === 2) this.#samples.set(bucket, base);
  }

  /** Whether `family` is new (true) or already this source's (false); throws on a collision. */
  #check(source: string, family: string, type: PrometheusType, path: string): boolean {
    const have = this.#families.get(family);
    if (have !== undefined) {
      if (have.source === source && have.type === type) return false;
      throw validationError(
        path,
        have.source === source
          ? `one Prometheus type per metric (${family} is a ${have.type})`
          : `a name that stays distinct from "${have.source}" in Prometheus (both become ${family})`,
        source,
      );
    }
    // Its samples may not be another family's, nor its bare name a sample of another family
    // (`x_total` vs counter `x`).
    for (const n of [...SUFFIXES[type].map((s) => family + s), family]) {
      const owner = this.#samples.get(n);
      if (owner !== undefined)
        throw validationError(
          path,
          `a name whose Prometheus samples do not clash with family ${owner}`,
          source,
        );
    }
    return true;
  }

  #take(family: string, type: PrometheusType, source: string): void {
    this.#families.set(family, { source, type });
    for (const s of SUFFIXES[type]) this.#samples.set(family + s, family);
    this.#samples.set(family, family);
  }
}
