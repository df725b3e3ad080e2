/**
 * The loop behind `registry.reportTo(sink)`: collects a window at every wall-clock multiple of the
 * sink's interval (plus jitter) and hands it to the sink, one send at a time.
 */
import { type AbortOptions, type Clock, type Logger, rejectUnknownKeys } from '../core.js';
import { abortError, validationError } from '../errors.js';
import type { MetricsSink, WindowSnapshot } from './types.js';

/** Default flush jitter of `reportTo`, as a fraction of the interval. */
export const DEFAULT_REPORT_JITTER = 0.1;

/** Check `reportTo(sink, options)`'s arguments: the sink's interval and the jitter as a delay function. */
export function checkReportArgs(
  sink: MetricsSink,
  options: { jitter?: number; random?: () => number },
): { intervalMs: number; jitterMs: () => number } {
  if (typeof sink !== 'object' || sink === null || typeof sink.send !== 'function') {
    throw validationError('sink', 'an object with send(snapshot) and intervalMs', sink);
  }
  const interval = sink.intervalMs;
  if (!Number.isSafeInteger(interval) || interval < 1) {
    throw validationError('sink.intervalMs', 'an integer >= 1', interval);
  }
  if (typeof options !== 'object' || options === null)
    throw validationError('options', 'an options object', options);
  rejectUnknownKeys(options, ['jitter', 'random'], 'options');
  const jitter = options.jitter ?? DEFAULT_REPORT_JITTER;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw validationError('options.jitter', 'a number in [0, 1)', jitter);
  }
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') throw validationError('options.random', 'a function', random);
  return { intervalMs: interval, jitterMs: () => Math.floor(random() * jitter * interval) };
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

/** What the loop needs from its registry. */
export interface ReportSource {
  collect(windowStart: number, intervalMs: number): WindowSnapshot;
}

/** Everything a {@link ReportLoop} runs with. */
export interface ReportLoopOptions {
  source: ReportSource;
  sink: MetricsSink;
  intervalMs: number;
  jitterMs: () => number;
  clock: Clock;
  logger: Logger;
  onStop: () => void;
}

/** The loop behind `reportTo`. @internal */
export class ReportLoop implements MetricsReport {
  #sent = 0;
  #failed = 0;
  readonly #o: ReportLoopOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #nextBoundary: number;
  #pending: Promise<void> = Promise.resolve();
  #stopped: Promise<void> | undefined;

  constructor(options: ReportLoopOptions) {
    this.#o = options;
    this.#nextBoundary = this.#boundaryAfter(options.clock.now());
    this.#schedule(options.jitterMs());
  }

  get sent(): number {
    return this.#sent;
  }

  get failed(): number {
    return this.#failed;
  }

  stop(options: AbortOptions = {}): Promise<void> {
    if (this.#stopped === undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      const now = this.#o.clock.now();
      this.#flush(this.#boundaryAfter(now) - this.#o.intervalMs);
      this.#o.onStop();
      this.#stopped = this.#pending;
    }
    const done = this.#stopped;
    const signal = options?.signal;
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

  #boundaryAfter(now: number): number {
    return (Math.floor(now / this.#o.intervalMs) + 1) * this.#o.intervalMs;
  }

  #schedule(jitter = 0): void {
    const delay = Math.max(0, this.#nextBoundary + jitter - this.#o.clock.now());
    this.#timer = setTimeout(() => this.#tick(), delay);
    this.#timer.unref?.();
  }

  #tick(): void {
    const boundary = this.#nextBoundary;
    const now = this.#o.clock.now();
    if (now < boundary) {
      // The timer fired before the wall clock reached the boundary: wait the rest.
      this.#schedule();
      return;
    }
    this.#flush(boundary - this.#o.intervalMs);
    this.#nextBoundary = Math.max(this.#boundaryAfter(now), boundary + this.#o.intervalMs);
    this.#schedule(this.#o.jitterMs());
  }

  #flush(windowStart: number): void {
    let snapshot: WindowSnapshot;
    try {
      snapshot = this.#o.source.collect(windowStart, this.#o.intervalMs);
    } catch (err) {
      this.#failed++;
      this.#o.logger.error({ err: errorMessage(err), windowStart }, 'metrics collect failed');
      return;
    }
    this.#pending = this.#pending.then(async () => {
      try {
        await this.#o.sink.send(snapshot);
        this.#sent++;
      } catch (err) {
        this.#failed++;
        this.#o.logger.warn({ err: errorMessage(err), windowStart }, 'metrics send failed');
      }
    });
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
