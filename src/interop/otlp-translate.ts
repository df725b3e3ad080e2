import type { IngestItem } from '../broker/ingest.js';
import { validationError } from '../errors.js';
import type { ExponentialHistogramPoint } from '../metrics/exponential.js';
import { fromExponentialHistogram } from '../metrics/exponential.js';
import { DDSketch, sketchInternals } from '../metrics/sketch.js';
import { validateMetricName, validateTags } from '../metrics-store/validate.js';
import { runSliced, runSync } from '../time-slice.js';
import { downscalePoint, subtractExponential } from './otlp-exponential.js';
import {
  attributesOf,
  CUMULATIVE,
  DELTA,
  type ExplicitPoint,
  explicitPoint,
  expPoint,
  int64Text,
  numberOf,
  sameNumbers,
  stableKey,
  temporalityOf,
} from './otlp-points.js';
import type { OtlpKeyValue, OtlpMetricsRequest } from './otlp-types.js';

/** Options of `OtlpTranslator`. */
export interface OtlpTranslatorOptions {
  /** Resource attributes copied into every series' tags (others identify the sender only). @default ['service.name'] */
  resourceAttributes?: readonly string[];
  /** Cumulative streams remembered (to turn cumulative points into deltas). @default 100000 */
  maxStreams?: number;
  /** A cumulative stream unseen this long is forgotten when room is needed, ms. @default 900000 */
  staleStreamMs?: number;
  /** Finest scale kept for exponential histograms; finer ones are downscaled exactly. @default 8 */
  maxScale?: number;
  /** Scale of sketches built from explicit-bucket histograms. @default 6 */
  explicitScale?: number;
  /** Bucket cap per sign of the sketches built. @default 2048 */
  maxBuckets?: number;
}

/** What {@link OtlpTranslator.translate} makes of a request. */
export interface OtlpTranslation {
  items: IngestItem[];
  /** Data points in the request. */
  points: number;
  /** Summary points: valid OTLP that fleetwatch cannot merge (reported as rejected, counted). */
  unsupported: number;
  /** Apply the cumulative-stream state this request advanced; call only once the items were accepted. */
  commit(): void;
}

/** Per cumulative stream: the previous point (sum value or histogram), and when it was seen. */
type Previous =
  | { kind: 'sum'; start: string; value: number; seen: number }
  | { kind: 'updown'; value: number; seen: number }
  | { kind: 'exp'; start: string; point: ExponentialHistogramPoint; seen: number }
  | {
      kind: 'explicit';
      start: string;
      bounds: readonly number[];
      counts: number[];
      sum: number;
      seen: number;
    };

/**
 * Turns OTLP metrics requests into broker ingest items: monotonic Sums into counter deltas, Gauges
 * and non-monotonic Sums into gauges, exponential histograms into exact sketches (explicit-bucket
 * histograms approximately, by bucket midpoints). Cumulative points become deltas against the
 * previous point of their stream; the first point of a stream counts in full, and a point lower than
 * the previous one (a restart) counts in full. Any invalid value throws `E_VALIDATION` with the path
 * of the field, so a request is taken whole or not at all.
 *
 * @example
 * ```ts
 * const t = new OtlpTranslator();
 * const { items, commit } = t.translate(decodeOtlpMetrics(body, 'json'), Date.now());
 * if ('rejected' in broker.ingest({ source: 'otlp', items }) === false) commit();
 * ```
 */
export class OtlpTranslator {
  readonly #resourceAttributes: readonly string[];
  readonly #maxStreams: number;
  readonly #staleMs: number;
  readonly #maxScale: number;
  readonly #explicitScale: number;
  readonly #maxBuckets: number;
  readonly #streams = new Map<string, Previous>();

  constructor(options: OtlpTranslatorOptions = {}) {
    this.#resourceAttributes = options.resourceAttributes ?? ['service.name'];
    this.#maxStreams = options.maxStreams ?? 100_000;
    this.#staleMs = options.staleStreamMs ?? 900_000;
    this.#maxScale = options.maxScale ?? 8;
    this.#explicitScale = options.explicitScale ?? 6;
    this.#maxBuckets = options.maxBuckets ?? 2048;
  }

  /** Cumulative streams remembered. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Translate a decoded request; `now` (epoch ms) stamps the stream state. Throws `E_VALIDATION`. */
  translate(request: OtlpMetricsRequest, now: number): OtlpTranslation {
    return runSync(this.#steps(request, now));
  }

  /**
   * {@link OtlpTranslator.translate} in slices of a few milliseconds, yielding the event loop
   * between them, so a large request never holds it for long. Everything is validated before the
   * translation is returned (whole or nothing), and nothing changes until `commit()`. Translations
   * of one translator must not overlap from `translateSliced` to `commit()` (a stream's delta is
   * taken against the last committed point): run them one after another.
   *
   * @example
   * ```ts
   * const t = await translator.translateSliced(request, Date.now(), { signal });
   * ```
   */
  translateSliced(
    request: OtlpMetricsRequest,
    now: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<OtlpTranslation> {
    return runSliced(this.#steps(request, now), options);
  }

  *#steps(request: OtlpMetricsRequest, now: number): Generator<void, OtlpTranslation> {
    const items: IngestItem[] = [];
    const updates = new Map<string, Previous>();
    let points = 0;
    let unsupported = 0;
    const prev = (key: string) => updates.get(key) ?? this.#streams.get(key);
    for (const [ri, rm] of (request.resourceMetrics ?? []).entries()) {
      const rpath = `resourceMetrics[${ri}]`;
      const resource = attributesOf(rm.resource?.attributes, `${rpath}.resource.attributes`);
      const identity = stableKey(resource);
      const shared: Record<string, string> = {};
      for (const k of this.#resourceAttributes) if (resource[k] !== undefined) shared[k] = resource[k];
      for (const [si, sm] of (rm.scopeMetrics ?? []).entries()) {
        const spath = `${rpath}.scopeMetrics[${si}]`;
        const scopeKey = `${sm.scope?.name ?? ''}\0${sm.scope?.version ?? ''}`;
        for (const [mi, m] of (sm.metrics ?? []).entries()) {
          const mpath = `${spath}.metrics[${mi}]`;
          const name = m.name;
          validateMetricName(name, `${mpath}.name`);
          const series = (attrs: OtlpKeyValue[] | undefined, ppath: string) => {
            const tags = { ...shared, ...attributesOf(attrs, `${ppath}.attributes`) };
            validateTags(tags, `${ppath}.attributes`);
            return { tags, key: `${identity}\0${scopeKey}\0${name}\0${stableKey(tags)}` };
          };
          if (m.gauge !== undefined) {
            for (const [pi, p] of (m.gauge.dataPoints ?? []).entries()) {
              const ppath = `${mpath}.gauge.dataPoints[${pi}]`;
              items.push({
                kind: 'gauge',
                name,
                tags: series(p.attributes, ppath).tags,
                value: numberOf(p, ppath),
              });
              points++;
              yield;
            }
          } else if (m.sum !== undefined) {
            const temporality = temporalityOf(
              m.sum.aggregationTemporality,
              `${mpath}.sum.aggregationTemporality`,
            );
            for (const [pi, p] of (m.sum.dataPoints ?? []).entries()) {
              const ppath = `${mpath}.sum.dataPoints[${pi}]`;
              const { tags, key } = series(p.attributes, ppath);
              const v = numberOf(p, ppath);
              points++;
              yield;
              if (m.sum?.isMonotonic !== true) {
                const before = prev(key);
                const value = temporality === DELTA ? (before?.kind === 'updown' ? before.value : 0) + v : v;
                if (temporality === DELTA) updates.set(key, { kind: 'updown', value, seen: now });
                items.push({ kind: 'gauge', name, tags, value });
                continue;
              }
              if (v < 0)
                throw validationError(`${ppath}.value`, 'a non-negative value of a monotonic sum', v);
              if (temporality === DELTA) {
                items.push({ kind: 'counter', name, tags, value: v });
                continue;
              }
              const start = int64Text(p.startTimeUnixNano);
              const before = prev(key);
              const delta =
                before?.kind === 'sum' && before.start === start && v >= before.value ? v - before.value : v;
              updates.set(key, { kind: 'sum', start, value: v, seen: now });
              items.push({ kind: 'counter', name, tags, value: delta });
            }
          } else if (m.exponentialHistogram !== undefined) {
            const h = m.exponentialHistogram;
            const temporality = temporalityOf(
              h.aggregationTemporality,
              `${mpath}.exponentialHistogram.aggregationTemporality`,
            );
            for (const [pi, p] of (h.dataPoints ?? []).entries()) {
              const ppath = `${mpath}.exponentialHistogram.dataPoints[${pi}]`;
              const { tags, key } = series(p.attributes, ppath);
              let point = this.#capScale(expPoint(p, ppath));
              points++;
              yield;
              if (temporality === CUMULATIVE) {
                const start = int64Text(p.startTimeUnixNano);
                const before = prev(key);
                updates.set(key, { kind: 'exp', start, point, seen: now });
                if (before?.kind === 'exp' && before.start === start)
                  point = subtractExponential(point, before.point);
              }
              const sketch = fromExponentialHistogram(point, { path: ppath, maxBuckets: this.#maxBuckets });
              items.push({ kind: 'histogram', name, tags, sketch });
            }
          } else if (m.histogram !== undefined) {
            const h = m.histogram;
            const temporality = temporalityOf(
              h.aggregationTemporality,
              `${mpath}.histogram.aggregationTemporality`,
            );
            for (const [pi, p] of (h.dataPoints ?? []).entries()) {
              const ppath = `${mpath}.histogram.dataPoints[${pi}]`;
              const { tags, key } = series(p.attributes, ppath);
              const e = explicitPoint(p, ppath);
              points++;
              yield;
              let counts = e.counts;
              let sum = e.sum;
              if (temporality === CUMULATIVE) {
                const start = int64Text(p.startTimeUnixNano);
                const before = prev(key);
                updates.set(key, {
                  kind: 'explicit',
                  start,
                  bounds: e.bounds,
                  counts: e.counts,
                  sum: e.sum,
                  seen: now,
                });
                if (
                  before?.kind === 'explicit' &&
                  before.start === start &&
                  sameNumbers(before.bounds, e.bounds) &&
                  e.counts.every((c, i) => c >= before.counts[i]!)
                ) {
                  counts = e.counts.map((c, i) => c - before.counts[i]!);
                  sum = e.sum - before.sum;
                }
              }
              items.push({ kind: 'histogram', name, tags, sketch: this.#explicitSketch(e, counts, sum) });
            }
          } else if (m.summary !== undefined) {
            unsupported += (m.summary.dataPoints ?? []).length;
            points += (m.summary.dataPoints ?? []).length;
          } else {
            throw validationError(
              mpath,
              'a metric with gauge, sum, histogram or exponentialHistogram data',
              'none',
            );
          }
        }
      }
    }
    return {
      items,
      points,
      unsupported,
      commit: () => this.#commit(updates, now),
    };
  }

  #commit(updates: Map<string, Previous>, now: number): void {
    for (const [key, p] of updates) {
      if (!this.#streams.has(key) && this.#streams.size >= this.#maxStreams) this.#evictStale(now);
      if (!this.#streams.has(key) && this.#streams.size >= this.#maxStreams) {
        // Oldest first (Map order = last update order): the least recently updated stream goes.
        const oldest = this.#streams.keys().next().value;
        if (oldest !== undefined) this.#streams.delete(oldest);
      }
      this.#streams.delete(key);
      this.#streams.set(key, p);
    }
  }

  #evictStale(now: number): void {
    for (const [key, p] of this.#streams) {
      if (now - p.seen <= this.#staleMs) break;
      this.#streams.delete(key);
    }
  }

  #capScale(p: ExponentialHistogramPoint): ExponentialHistogramPoint {
    return p.scale > this.#maxScale ? downscalePoint(p, this.#maxScale) : p;
  }

  /** A sketch with each explicit bucket's count at its midpoint (clamped to min/max), sum exact. */
  #explicitSketch(e: ExplicitPoint, counts: readonly number[], sum: number): DDSketch {
    const sketch = new DDSketch({ scale: this.#explicitScale, maxBuckets: this.#maxBuckets });
    const lo = e.min ?? Number.NEGATIVE_INFINITY;
    const hi = e.max ?? Number.POSITIVE_INFINITY;
    counts.forEach((c, i) => {
      if (c === 0) return;
      const below = i === 0 ? undefined : e.bounds[i - 1];
      const above = i < e.bounds.length ? e.bounds[i] : undefined;
      let v: number;
      if (below === undefined) v = e.min ?? above ?? 0;
      else if (above === undefined) v = e.max ?? below;
      else v = (below + above) / 2;
      sketch.add(Math.min(Math.max(v, lo), hi), c);
    });
    // The exact sum replaces the midpoints' estimate.
    const parts = sketchInternals.parts(sketch);
    sketchInternals.assign(sketch, { ...parts, sum });
    return sketch;
  }
}
