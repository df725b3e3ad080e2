import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Clock, Logger } from '../core.js';
import { FleetwatchError, isFleetwatchError } from '../errors.js';
import type { CombinePolicy, MetricsStore, Point, SketchPoint } from '../metrics-store/types.js';
import { type CumulativeTotals, WindowPoints, type WindowState } from './aggregate.js';
import { HIGH_WATER_METRIC, HIGH_WATER_SLOT_MS, type StreamTable } from './delivery.js';
import type { FrameLedger } from './ledger.js';
import type { BrokerStats, SelfMetrics } from './stats.js';

/** A closed window waiting to be written (again). */
interface ClosedWindow {
  start: number;
  points: WindowPoints;
  frames: FrameLedger;
}

/** What the writer needs from the broker. */
export interface WindowWriterDeps {
  store: MetricsStore | undefined;
  /** The store `source` of this broker instance. */
  source: string;
  tenant: string | undefined;
  quantiles: readonly number[];
  chunkSize: number;
  maxPendingWindows: number;
  clock: Clock;
  logger: Logger;
  stats: BrokerStats;
  /** The current stats (for the self-metric points), or undefined when self-metrics are off. */
  selfStats: (() => BrokerStats) | undefined;
  self: SelfMetrics;
  streams: StreamTable;
  totals: CumulativeTotals;
  onFlush(info: { windowStart: number; points: number; sketches: number; durationMs: number }): void;
  onError(err: FleetwatchError): void;
}

/** A store error that says the batch itself is bad (rather than the store being unavailable). */
function isPoison(err: unknown): boolean {
  return isFleetwatchError(err, 'E_VALIDATION');
}

/**
 * Writes closed windows to the store. A batch the store refuses as invalid is split until the bad
 * points are found; those are dropped and counted (`quarantinedPoints`) and the rest is written.
 * A window the store cannot take now is kept for retry, and every kept window is retried on its own
 * (a failing one never holds back the others). With each window go the self-metrics and the
 * high-water sequence of every client stream in it; its frames are acknowledged after all of it is
 * written.
 */
export class WindowWriter {
  readonly #d: WindowWriterDeps;
  readonly #retry: ClosedWindow[] = [];

  constructor(deps: WindowWriterDeps) {
    this.#d = deps;
  }

  /** Windows kept for retry. */
  get pending(): number {
    return this.#retry.length;
  }

  /** Retry kept windows, then build and write `windows` (oldest first). With `final`, drop what still fails. */
  async close(windows: readonly WindowState[], final: boolean): Promise<void> {
    await this.#retryAll();
    for (const w of windows) {
      const t0 = performance.now();
      const closed = await this.#build(w);
      if (!(await this.#persist(closed, t0))) {
        this.#retry.push(closed);
        while (this.#retry.length > this.#d.maxPendingWindows)
          this.#drop(this.#retry.shift() as ClosedWindow);
      }
    }
    if (final) {
      await this.#retryAll();
      for (const w of this.#retry.splice(0)) this.#drop(w);
    }
  }

  async #retryAll(): Promise<void> {
    for (const w of [...this.#retry]) {
      if (await this.#persist(w)) this.#retry.splice(this.#retry.indexOf(w), 1);
    }
  }

  #drop(w: ClosedWindow): void {
    this.#d.stats.droppedWindows++;
    this.#d.streams.release(w.frames);
  }

  /** The points of a closed window; series whose aggregate is not finite are dropped and counted. */
  async #build(w: WindowState): Promise<ClosedWindow> {
    const d = this.#d;
    const points = new WindowPoints();
    let i = 0;
    for (const [key, s] of w.series) {
      if (++i % d.chunkSize === 0) await yieldToLoop();
      if (points.add(s, w.start, d.quantiles, d.tenant)) d.totals.add(key, s);
      else d.stats.nonFiniteAggregates++;
    }
    return { start: w.start, points, frames: w.frames };
  }

  /** Write a closed window, then acknowledge its frames. False when the store is unavailable. */
  async #persist(w: ClosedWindow, t0 = performance.now()): Promise<boolean> {
    const d = this.#d;
    if (d.store === undefined) d.streams.release(w.frames);
    else {
      const store = d.store;
      const { source } = d;
      try {
        for (const [combine, list] of Object.entries(w.points.byCombine) as Array<[CombinePolicy, Point[]]>) {
          if (list.length > 0) await this.#split(list, (b) => store.write(b, { source, combine }));
        }
        if (w.points.sketches.length > 0) {
          await this.#split<SketchPoint>(w.points.sketches, (b) => store.writeSketches(b, { source }));
        }
        const stats = d.selfStats?.();
        if (stats !== undefined) {
          await this.#split(d.self.points(stats, w.start), (b) => store.write(b, { source, combine: 'sum' }));
        }
        // The data is durable: its frames stop holding the high-water mark back.
        const moved = d.streams.release(w.frames);
        if (moved.size > 0) {
          await this.#split(this.#highWaterPoints(moved), (b) => store.write(b, { source, combine: 'max' }));
          d.streams.markWritten(moved);
        }
        if (stats !== undefined) d.self.commit(stats);
      } catch (err) {
        d.stats.flushFailures++;
        d.logger.warn({ err, windowStart: w.start }, 'broker: store write failed; window kept for retry');
        d.onError(
          err instanceof FleetwatchError
            ? err
            : new FleetwatchError('E_STORE_UNAVAILABLE', 'broker: store write failed', { cause: err }),
        );
        return false;
      }
    }
    const durationMs = performance.now() - t0;
    d.stats.flushes++;
    d.stats.lastFlushMs = durationMs;
    if (durationMs > d.stats.maxFlushMs) d.stats.maxFlushMs = durationMs;
    d.streams.ack(w.frames, () => d.stats.connectionErrors++);
    d.onFlush({
      windowStart: w.start,
      points: w.points.size,
      sketches: w.points.sketches.length,
      durationMs,
    });
    return true;
  }

  #highWaterPoints(moved: ReadonlyMap<string, number>): Point[] {
    const ts = Math.floor(this.#d.clock.now() / HIGH_WATER_SLOT_MS) * HIGH_WATER_SLOT_MS;
    const out: Point[] = [];
    for (const [stream, value] of moved) {
      const p: Point = { metric: HIGH_WATER_METRIC, tags: { stream }, ts, value };
      if (this.#d.tenant !== undefined) p.tenant = this.#d.tenant;
      out.push(p);
    }
    return out;
  }

  /** Write `list`; on an invalid-batch error split it in halves until the bad points are isolated. */
  async #split<P>(list: readonly P[], write: (batch: readonly P[]) => Promise<unknown>): Promise<void> {
    try {
      await write(list);
    } catch (err) {
      if (!isPoison(err)) throw err;
      if (list.length === 1) {
        this.#d.stats.quarantinedPoints++;
        this.#d.logger.warn({ err }, 'broker: the store refused a point; dropped');
        return;
      }
      const mid = list.length >> 1;
      await this.#split(list.slice(0, mid), write);
      await this.#split(list.slice(mid), write);
    }
  }
}

/**
 * Read the high-water sequences earlier instances wrote in the last `lookbackMs` into `streams`.
 * A range the store finds too large is read in halves. Failures are logged: the broker starts
 * without them (resends of already written frames may then count twice).
 */
export async function loadHighWater(
  store: MetricsStore,
  streams: StreamTable,
  o: { clock: Clock; lookbackMs: number; tenant: string | undefined; logger: Logger },
): Promise<void> {
  const now = o.clock.now();
  const read = async (from: number, to: number): Promise<void> => {
    try {
      const series = await store.query({
        metric: HIGH_WATER_METRIC,
        from,
        to,
        resolution: 'raw',
        ...(o.tenant === undefined ? {} : { tenant: o.tenant }),
      });
      for (const s of series) {
        const tag = s.tags.stream;
        if (tag === undefined) continue;
        for (const p of s.points) if ('value' in p) streams.restore(tag, p.value);
      }
    } catch (err) {
      if (isFleetwatchError(err, 'E_QUERY_TOO_LARGE') && to - from > HIGH_WATER_SLOT_MS) {
        const mid = from + Math.floor((to - from) / 2);
        await read(from, mid);
        await read(mid, to);
        return;
      }
      o.logger.warn(
        { err },
        'broker: could not read high-water sequences; duplicates of old frames may count',
      );
    }
  };
  await read(Math.max(0, now - o.lookbackMs - HIGH_WATER_SLOT_MS), now + HIGH_WATER_SLOT_MS);
}
