import { type Clock, rejectUnknownKeys, systemClock } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import {
  type ExponentialHistogramPoint,
  rebucketToScale,
  toExponentialHistogram,
} from '../metrics/exponential.js';
import { asDDSketch } from '../metrics/sketch.js';
import type { QuantileSketch } from '../metrics/types.js';
import { decodeOtlpResponse, encodeOtlpMetrics } from './otlp-codec.js';
import { subtractExponential } from './otlp-exponential.js';
import {
  OTLP_CONTENT_TYPES,
  type OtlpEncoding,
  type OtlpExponentialHistogramDataPoint,
  type OtlpKeyValue,
  type OtlpMetric,
  type OtlpMetricsRequest,
} from './otlp-types.js';

/** A cumulative view to export: a `MetricsBroker` (its merged totals) or a registry's exposition. */
export type OtlpExportSource =
  | {
      totals(): ReadonlyArray<{
        name: string;
        kind: string;
        tags: Readonly<Record<string, string>>;
        value: number;
        sketch?: QuantileSketch;
      }>;
      on?(event: 'flush', listener: () => void): unknown;
      off?(event: 'flush', listener: () => void): unknown;
    }
  | {
      exposition(): ReadonlyArray<{
        name: string;
        kind: string;
        tags: Readonly<Record<string, string>>;
        value?: number;
        sketch?: QuantileSketch;
      }>;
    };

/** Options of {@link OtlpExporter}. */
export interface OtlpExporterOptions {
  /** The collector's OTLP/HTTP metrics URL, e.g. `http://127.0.0.1:4318/v1/metrics`. */
  url: string;
  /** What to export. A broker is exported after each window it closes; a registry every `intervalMs`. */
  source: OtlpExportSource;
  /** @default 'protobuf' */
  encoding?: OtlpEncoding;
  /** Counter and histogram temporality. @default 'cumulative' */
  temporality?: 'delta' | 'cumulative';
  /** Resource attributes. @default { 'service.name': 'fleetwatch' } */
  resource?: Readonly<Record<string, string>>;
  /** Extra request headers (e.g. an auth token; never logged or put in errors). */
  headers?: Readonly<Record<string, string>>;
  /** Scale accuracy-based sketches are re-bucketed to (sketches with a scale keep theirs). @default 6 */
  scale?: number;
  /** Export period for a registry (or a source without `flush` events), ms; 0 = only `collect()`. @default 10000 */
  intervalMs?: number;
  /** Requests waiting to be sent; when full the oldest is dropped and counted. @default 64 */
  maxQueue?: number;
  /** Retries of a request answered 429/502/503/504 or failing on the network. @default 5 */
  maxRetries?: number;
  /** First retry delay (doubles, with jitter), ms; `Retry-After` is honoured up to `maxBackoffMs`. @default 1000 */
  initialBackoffMs?: number;
  /** @default 30000 */
  maxBackoffMs?: number;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  /** The clock for data-point timestamps (start and end times). @default `Date.now()` */
  clock?: Clock;
}

/** Counters of an {@link OtlpExporter}. */
export interface OtlpExporterStats {
  requests: number;
  exportedPoints: number;
  retries: number;
  failedRequests: number;
  droppedRequests: number;
  /** Points the collector reported as rejected (partial success). */
  rejectedPoints: number;
  queued: number;
}

const KEYS = [
  'url',
  'source',
  'encoding',
  'temporality',
  'resource',
  'headers',
  'scale',
  'intervalMs',
  'maxQueue',
  'maxRetries',
  'initialBackoffMs',
  'maxBackoffMs',
  'timeoutMs',
  'clock',
];
const RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * Sends a broker's merged windows (or a registry) to an OpenTelemetry collector over OTLP/HTTP
 * (protobuf or JSON): counters and meters as monotonic Sums (delta or cumulative), gauges as Gauges,
 * histograms as ExponentialHistograms (exact for sketches with a scale). Requests wait in a bounded
 * queue and are retried with exponential backoff on 429/502/503/504 and network errors; what cannot
 * be sent is dropped and counted, never thrown from a timer.
 *
 * @example
 * ```ts
 * const exporter = new OtlpExporter({ url: 'http://127.0.0.1:4318/v1/metrics', source: broker });
 * // … after each closed window the merged totals are sent …
 * await exporter.close();
 * ```
 */
export class OtlpExporter {
  readonly #o: Required<Omit<OtlpExporterOptions, 'source' | 'headers' | 'resource'>> & {
    headers: Readonly<Record<string, string>>;
  };
  readonly #source: OtlpExportSource;
  readonly #resource: OtlpKeyValue[];
  readonly #queue: Uint8Array[] = [];
  readonly #stats: OtlpExporterStats = {
    requests: 0,
    exportedPoints: 0,
    retries: 0,
    failedRequests: 0,
    droppedRequests: 0,
    rejectedPoints: 0,
    queued: 0,
  };
  readonly #previous = new Map<string, { value: number; time: string; point?: ExponentialHistogramPoint }>();
  readonly #start: bigint;
  readonly #onFlush = () => this.collect();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(options: OtlpExporterOptions) {
    if (options === null || typeof options !== 'object')
      throw validationError('options', 'an object', options);
    rejectUnknownKeys(options, KEYS);
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw validationError('options.url', 'an http(s) URL', typeof options.url);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw validationError('options.url', 'an http(s) URL', url.protocol);
    const s = options.source as Record<string, unknown>;
    if (
      s === null ||
      typeof s !== 'object' ||
      (typeof s.totals !== 'function' && typeof s.exposition !== 'function')
    )
      throw validationError('options.source', 'a MetricsBroker or a MetricsRegistry', typeof s);
    this.#source = options.source;
    this.#o = {
      url: options.url,
      encoding: options.encoding ?? 'protobuf',
      temporality: options.temporality ?? 'cumulative',
      headers: options.headers ?? {},
      scale: options.scale ?? 6,
      intervalMs: options.intervalMs ?? 10_000,
      maxQueue: options.maxQueue ?? 64,
      maxRetries: options.maxRetries ?? 5,
      initialBackoffMs: options.initialBackoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      clock: options.clock ?? systemClock,
    };
    if (this.#o.encoding !== 'protobuf' && this.#o.encoding !== 'json')
      throw validationError('options.encoding', "'protobuf' or 'json'", this.#o.encoding);
    if (this.#o.temporality !== 'delta' && this.#o.temporality !== 'cumulative')
      throw validationError('options.temporality', "'delta' or 'cumulative'", this.#o.temporality);
    const ints: Array<[string, number, number, number]> = [
      ['scale', this.#o.scale, 0, 20],
      ['intervalMs', this.#o.intervalMs, 0, 2 ** 31 - 1],
      ['maxQueue', this.#o.maxQueue, 1, 100_000],
      ['maxRetries', this.#o.maxRetries, 0, 100],
      ['initialBackoffMs', this.#o.initialBackoffMs, 0, 3_600_000],
      ['maxBackoffMs', this.#o.maxBackoffMs, 0, 3_600_000],
      ['timeoutMs', this.#o.timeoutMs, 1, 3_600_000],
    ];
    for (const [k, v, lo, hi] of ints)
      if (!Number.isInteger(v) || v < lo || v > hi)
        throw validationError(`options.${k}`, `an integer in [${lo}, ${hi}]`, v);
    const resource = options.resource ?? { 'service.name': 'fleetwatch' };
    this.#resource = Object.entries(resource).map(([key, v]) => ({ key, value: { stringValue: String(v) } }));
    this.#start = BigInt(this.#o.clock.now()) * 1_000_000n;
    const src = this.#source as { on?: (e: 'flush', l: () => void) => unknown };
    if (typeof src.on === 'function' && 'totals' in this.#source) src.on('flush', this.#onFlush);
    else if (this.#o.intervalMs > 0) {
      this.#timer = setInterval(() => this.collect(), this.#o.intervalMs);
      this.#timer.unref();
    }
  }

  /** A copy of the counters. */
  stats(): OtlpExporterStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /** Read the source now and queue one request (no-op when there is nothing, or after close). */
  collect(): void {
    if (this.#closed) return;
    const request = this.#build();
    if (request === undefined) return;
    if (this.#queue.length >= this.#o.maxQueue) {
      this.#queue.shift();
      this.#stats.droppedRequests++;
    }
    this.#queue.push(encodeOtlpMetrics(request.body, this.#o.encoding));
    this.#points.push(request.points);
    this.#kick();
  }

  readonly #points: number[] = [];

  /** Resolves when every queued request was sent or dropped. */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    while (this.#sending !== undefined) {
      if (options.signal?.aborted) throw new FleetwatchError('E_ABORTED', 'OTLP exporter flush aborted');
      await this.#sending;
    }
  }

  /** Export once more, send what is queued (retries included), and stop. Idempotent. */
  async close(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.#closed) {
      this.collect();
      this.#closed = true;
      clearInterval(this.#timer);
      const src = this.#source as { off?: (e: 'flush', l: () => void) => unknown };
      if (typeof src.off === 'function') src.off('flush', this.#onFlush);
    }
    const onAbort = () => this.#abort.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.flush(options);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  #kick(): void {
    if (this.#sending !== undefined) return;
    this.#sending = (async () => {
      while (this.#queue.length > 0) {
        const body = this.#queue.shift()!;
        const points = this.#points.shift() ?? 0;
        await this.#send(body, points);
      }
    })().finally(() => {
      this.#sending = undefined;
    });
  }

  async #send(body: Uint8Array, points: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let delay: number | undefined;
      try {
        this.#stats.requests++;
        const res = await fetch(this.#o.url, {
          method: 'POST',
          body,
          headers: { ...this.#o.headers, 'content-type': OTLP_CONTENT_TYPES[this.#o.encoding] },
          signal: AbortSignal.any([AbortSignal.timeout(this.#o.timeoutMs), this.#abort.signal]),
        });
        const reply = new Uint8Array(await res.arrayBuffer());
        if (res.ok) {
          let rejected = 0;
          try {
            rejected = Number(
              decodeOtlpResponse(reply, this.#o.encoding).partialSuccess?.rejectedDataPoints ?? 0,
            );
          } catch {
            // An unreadable success reply still means success.
          }
          this.#stats.rejectedPoints += rejected;
          this.#stats.exportedPoints += points - rejected;
          return;
        }
        if (!RETRYABLE.has(res.status)) break;
        const after = Number(res.headers.get('retry-after'));
        if (Number.isFinite(after) && after >= 0) delay = Math.min(after * 1000, this.#o.maxBackoffMs);
      } catch {
        if (this.#abort.signal.aborted) break;
      }
      if (attempt >= this.#o.maxRetries) break;
      this.#stats.retries++;
      const backoff = Math.min(this.#o.initialBackoffMs * 2 ** attempt, this.#o.maxBackoffMs);
      await sleep(delay ?? backoff * (0.5 + Math.random() / 2), this.#abort.signal);
    }
    this.#stats.failedRequests++;
  }

  /** The source as one OTLP request, or undefined when it holds nothing. */
  #build(): { body: OtlpMetricsRequest; points: number } | undefined {
    const now = BigInt(this.#o.clock.now()) * 1_000_000n;
    const time = String(now);
    const start = String(this.#start);
    const delta = this.#o.temporality === 'delta';
    const temporality = delta ? 1 : 2;
    const byName = new Map<string, OtlpMetric>();
    let points = 0;
    const series =
      'totals' in this.#source
        ? this.#source.totals()
        : this.#source.exposition().map((s) => ({ ...s, value: s.value ?? 0 }));
    for (const s of series) {
      const attributes = Object.entries(s.tags).map(([key, v]) => ({ key, value: { stringValue: v } }));
      const key = `${s.name}\0${JSON.stringify(Object.entries(s.tags).sort())}`;
      const prev = this.#previous.get(key);
      let metric = byName.get(s.name);
      if (s.kind === 'counter' || s.kind === 'meter') {
        metric ??= {
          name: s.name,
          sum: { aggregationTemporality: temporality, isMonotonic: true, dataPoints: [] },
        };
        if (metric.sum === undefined) continue;
        const value = delta ? s.value - (prev?.value ?? 0) : s.value;
        this.#previous.set(key, { value: s.value, time });
        metric.sum.dataPoints!.push({
          attributes,
          startTimeUnixNano: delta ? (prev?.time ?? start) : start,
          timeUnixNano: time,
          asDouble: value,
        });
      } else if (s.kind === 'gauge' || s.kind === 'set') {
        metric ??= { name: s.name, gauge: { dataPoints: [] } };
        if (metric.gauge === undefined) continue;
        metric.gauge.dataPoints!.push({ attributes, timeUnixNano: time, asDouble: s.value });
      } else if (s.kind === 'histogram' && s.sketch !== undefined) {
        metric ??= {
          name: s.name,
          exponentialHistogram: { aggregationTemporality: temporality, dataPoints: [] },
        };
        if (metric.exponentialHistogram === undefined) continue;
        const sk = asDDSketch(s.sketch);
        const cumulative = toExponentialHistogram(
          rebucketToScale(sk, Math.min(sk.scale ?? this.#o.scale, this.#o.scale)),
        );
        const point =
          delta && prev?.point !== undefined ? subtractExponential(cumulative, prev.point) : cumulative;
        this.#previous.set(key, { value: 0, time, point: cumulative });
        metric.exponentialHistogram.dataPoints!.push({
          ...toOtlpPoint(point),
          attributes,
          startTimeUnixNano: delta ? (prev?.time ?? start) : start,
          timeUnixNano: time,
        });
      } else continue;
      byName.set(s.name, metric);
      points++;
    }
    if (points === 0) return undefined;
    return {
      body: {
        resourceMetrics: [
          {
            resource: { attributes: this.#resource },
            scopeMetrics: [{ scope: { name: '@fleetwatch/sdk' }, metrics: [...byName.values()] }],
          },
        ],
      },
      points,
    };
  }
}

function toOtlpPoint(p: ExponentialHistogramPoint): OtlpExponentialHistogramDataPoint {
  return {
    ...p,
    positive: { offset: p.positive.offset, bucketCounts: [...p.positive.bucketCounts] },
    negative: { offset: p.negative.offset, bucketCounts: [...p.negative.bucketCounts] },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    t.unref();
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
