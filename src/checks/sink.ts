/**
 * The results sink: turns a run's metrics into `check.<metric>` points and hands them to a metrics
 * registry (as gauges) and/or a MetricsStore (buffered, batched writes). Failures are reported
 * through `onError`, never thrown back into a check.
 */
import type { Point } from '../metrics-store/types.js';
import type { CheckMetrics, CheckMetricsRegistry, CheckPointStore } from './types.js';

/** Options of {@link CheckResultSink}. */
export interface CheckResultSinkOptions {
  registry?: CheckMetricsRegistry;
  store?: CheckPointStore;
  /** Points per store write. @default 1000 */
  maxBatch?: number;
  /** Points kept while the store is slow or down; older ones are dropped and counted. @default 100000 */
  maxBuffered?: number;
  onError(err: unknown): void;
}

const TAG_VALUE = /^[\x20-\x7e]{1,200}$/;

/** Metric names must fit the store's rules: `[A-Za-z0-9_.:/-]`. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.:/-]/g, '_').slice(0, 190);
}

/** Numeric view of a metric value: numbers, booleans as 0/1, numeric strings (`code`). */
export function numericValue(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return undefined;
}

/** Buffers points and writes them in batches. */
export class CheckResultSink {
  #buffer: Point[] = [];
  #writing: Promise<void> | undefined;
  /** Points dropped because the buffer was full. */
  dropped = 0;
  /** Points written. */
  written = 0;

  readonly #opts: CheckResultSinkOptions;

  constructor(opts: CheckResultSinkOptions) {
    this.#opts = opts;
  }

  /** Tags for a run: check id, node uid, provider and location where known. */
  static tags(
    checkId: string,
    target: string,
    extra: { node?: string; provider?: string; location?: string },
  ) {
    const tags: Record<string, string> = { check: checkId, target };
    if (extra.node) tags.node = extra.node;
    if (extra.provider) tags.provider = extra.provider;
    if (extra.location) tags.location = extra.location;
    for (const [k, v] of Object.entries(tags))
      if (!TAG_VALUE.test(v)) tags[k] = v.replace(/[^\x20-\x7e]/g, '_').slice(0, 200) || '_';
    return tags;
  }

  /** Record one run. */
  record(metrics: CheckMetrics, ok: boolean, tags: Record<string, string>, ts: number): void {
    const { registry, store } = this.#opts;
    if (!registry && !store) return;
    const values: [string, number][] = [['check.ok', ok ? 1 : 0]];
    for (const [name, v] of Object.entries(metrics)) {
      const n = numericValue(v);
      if (n !== undefined) values.push([`check.${safeName(name)}`, n]);
    }
    if (registry) {
      try {
        for (const [metric, value] of values) registry.gauge(metric, tags).set(value);
      } catch (err) {
        this.#opts.onError(err);
      }
    }
    if (store) {
      for (const [metric, value] of values) this.#buffer.push({ metric, tags, ts, value });
      const max = this.#opts.maxBuffered ?? 100_000;
      if (this.#buffer.length > max) {
        this.dropped += this.#buffer.length - max;
        this.#buffer.splice(0, this.#buffer.length - max);
      }
      if (this.#buffer.length >= (this.#opts.maxBatch ?? 1000)) void this.flush();
    }
  }

  /** True when there is a registry or a store to record to. */
  get active(): boolean {
    return this.#opts.registry !== undefined || this.#opts.store !== undefined;
  }

  /** Points waiting to be written. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Write everything buffered (one write at a time). Never rejects. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    const store = this.#opts.store;
    if (!store || this.#buffer.length === 0) return;
    const batch = this.#buffer.splice(0, this.#opts.maxBatch ?? 1000);
    this.#writing = store
      .write(batch, { source: 'checks' })
      .then(
        () => {
          this.written += batch.length;
        },
        (err) => this.#opts.onError(err),
      )
      .finally(() => {
        this.#writing = undefined;
      });
    await this.#writing;
    if (this.#buffer.length >= (this.#opts.maxBatch ?? 1000)) await this.flush();
  }
}
