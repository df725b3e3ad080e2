/** Test doubles for the broker suites: a store that records writes, a fake clock, waiting helpers. */
import { afterEach } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import type { MetricsBrokerOptions } from '../../src/broker/options.js';
import { FrameEncoder, type WireSeries, wireSeriesKey } from '../../src/broker/protocol.js';
import type {
  CombinePolicy,
  MetricsStore,
  Point,
  SketchPoint,
  WriteOptions,
} from '../../src/metrics-store/types.js';

/** A write as the store received it. */
export interface RecordedWrite {
  points: Point[];
  source: string | undefined;
  combine: CombinePolicy | undefined;
}

/** A MetricsStore double that records writes; set `fail` to make writes reject. */
export class RecordingStore implements MetricsStore {
  writes: RecordedWrite[] = [];
  /** Writes of the broker's high-water sequences (`fleetwatch.broker.highWater`), kept apart from data. */
  highWater: RecordedWrite[] = [];
  sketches: Array<{ points: SketchPoint[]; source: string | undefined }> = [];
  fail = false;

  async write(points: readonly Point[], opts: WriteOptions = {}) {
    if (this.fail) throw new Error('store down');
    const w = { points: [...points], source: opts.source, combine: opts.combine };
    if (points[0]?.metric === 'fleetwatch.broker.highWater') this.highWater.push(w);
    else this.writes.push(w);
    return { accepted: points.length };
  }
  async writeSketches(points: readonly SketchPoint[], opts: WriteOptions = {}) {
    if (this.fail) throw new Error('store down');
    this.sketches.push({ points: [...points], source: opts.source });
    return { accepted: points.length };
  }
  /** Every written value of `metric` (optionally at `ts`), with the combine it was written with. */
  values(
    metric: string,
    ts?: number,
  ): Array<{ value: number; combine: CombinePolicy | undefined; tags: Record<string, string> | undefined }> {
    const out = [];
    for (const w of this.writes)
      for (const p of w.points)
        if (p.metric === metric && (ts === undefined || p.ts === ts))
          out.push({ value: p.value, combine: w.combine, tags: p.tags });
    return out;
  }
  /** The sum of every written value of `metric`. */
  sum(metric: string): number {
    return this.values(metric).reduce((a, b) => a + b.value, 0);
  }
  query = async () => [];
  listMetrics = async () => [];
  listSeries = async () => [];
  queryPercentiles = async () => [];
  flush = async () => {};
  close = async () => {};
}

/** A clock tests move by hand. */
export class FakeClock {
  constructor(public t: number) {}
  now = () => this.t;
}

/** Poll `cond` every 5 ms until true (bounded: rejects after `ms`). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const encoder = new FrameEncoder();
/** A WINDOW frame body (without the length prefix), as `ingestFrame()` takes it. */
export function frameBody(
  source: string,
  seq: number,
  windowStart: number,
  series: WireSeries[],
  epoch = 1,
): Buffer {
  return encoder
    .window({ sourceId: source, epoch, seq, windowStart, intervalMs: 10_000 }, series)
    .subarray(4);
}
/** A counter series for a frame. */
export const counterSeries = (name: string, value: number, tags?: Record<string, string>): WireSeries => ({
  key: wireSeriesKey(name, tags),
  kind: 'counter',
  policy: 'last',
  value,
});

/**
 * Returns `start(extra, store)`: a broker `b1` on a {@link FakeClock} at `t0 + 1 s`, writing to a
 * {@link RecordingStore} (or `store`), with no auto flush and no self-metrics unless `extra` says so.
 * Registers an `afterEach` that closes every broker `start()` made.
 */
export function useTestBroker(t0: number) {
  const brokers: MetricsBroker[] = [];
  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.close();
  });
  return async <S extends RecordingStore = RecordingStore>(
    extra: MetricsBrokerOptions = {},
    store: S = new RecordingStore() as S,
  ) => {
    const clock = new FakeClock(t0 + 1_000);
    const broker = await MetricsBroker.start({
      store,
      id: 'b1',
      clock,
      autoFlush: false,
      selfMetrics: false,
      ...extra,
    });
    brokers.push(broker);
    return { clock, store, broker };
  };
}
