import { describe, expect, it } from 'vitest';
import type { IngestItem } from '../../src/broker/ingest.js';
import { DDSketch, decodeSketch } from '../../src/metrics/sketch.js';
import type { Point, WriteOptions } from '../../src/metrics-store/types.js';
import { RecordingStore, until, useTestBroker } from './helpers.js';

const T0 = Date.UTC(2026, 10, 26, 6, 0, 0);

/** A store whose writes wait until `open()`: the broker's task queue stays busy meanwhile. */
class GatedStore extends RecordingStore {
  #open: () => void = () => {};
  readonly #gate = new Promise<void>((r) => {
    this.#open = r;
  });
  open(): void {
    this.#open();
  }
  override async write(points: readonly Point[], opts: WriteOptions = {}) {
    await this.#gate;
    return super.write(points, opts);
  }
}

const start = useTestBroker(T0);

const counters = (n: number, value: number): IngestItem[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'counter', name: `c${i}`, tags: {}, value }));

const sketchOf = (...values: number[]) => {
  const s = new DDSketch();
  for (const v of values) s.add(v);
  return s;
};

describe('MetricsBroker.ingestSliced(batch)', () => {
  it('refuses the whole batch when another source gives one of its series another kind before the commit', async () => {
    const store = new GatedStore();
    const { clock, broker } = await start({}, store);
    broker.ingest({ source: 'a', items: [{ kind: 'counter', name: 'warm', tags: {}, value: 1 }] });
    clock.t = T0 + 12_000;
    const flushing = broker.flushDue(); // the queue waits on the store: the commit will wait behind it
    const pending = broker.ingestSliced({ source: 'otlp', items: counters(2000, 1) });
    await until(() => broker.stats().series >= 2001); // every item staged (its key looked up)
    expect(
      broker.ingest({ source: 'statsd', items: [{ kind: 'gauge', name: 'c1999', tags: {}, value: 5 }] }),
    ).toEqual({ accepted: 1 });
    store.open();
    await flushing;
    expect(await pending).toEqual({
      accepted: 0,
      rejected: 2000,
      reason: 'kindConflicts',
      field: 'items[1999].name',
    });
    clock.t = T0 + 22_000;
    await broker.flushDue();
    const later = store.writes.flatMap((w) => w.points).filter((p) => p.ts >= T0 + 10_000);
    expect(later.map((p) => `${p.metric}=${p.value}`)).toEqual(['c1999=5']);
    expect(broker.stats()).toMatchObject({ batches: 2, rejectedBatches: 1 });
    expect(broker.stats().kindConflicts).toBeGreaterThanOrEqual(2000);
  });

  it('adds to the series the window holds and creates the others, exactly', async () => {
    const store = new RecordingStore();
    const { clock, broker } = await start({}, store);
    broker.ingest({
      source: 'a',
      items: [...counters(1000, 1), { kind: 'histogram', name: 'lat', tags: {}, sketch: sketchOf(1, 2) }],
    });
    const r = await broker.ingestSliced({
      source: 'otlp',
      items: [
        ...counters(2000, 2),
        { kind: 'histogram', name: 'lat', tags: {}, sketch: sketchOf(3) },
        { kind: 'histogram', name: 'lat', tags: {}, sketch: sketchOf(4, 5) },
        { kind: 'gauge', name: 'g', tags: {}, value: 1 },
        { kind: 'gauge', name: 'g', tags: {}, value: 9 },
      ],
    });
    expect(r).toEqual({ accepted: 2004 });
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(store.values('c0')[0]?.value).toBe(3);
    expect(store.values('c999')[0]?.value).toBe(3);
    expect(store.values('c1000')[0]?.value).toBe(2);
    expect(store.values('c1999')[0]?.value).toBe(2);
    expect(store.values('g')[0]?.value).toBe(9);
    expect(store.values('lat.count')[0]?.value).toBe(5);
    expect(decodeSketch(store.sketches[0]!.points[0]!.sketch).sum).toBe(15);
  });

  it('refuses a batch while the broker closes, counted as refusedClosing', async () => {
    const { broker } = await start();
    const closing = broker.close();
    expect(await broker.ingestSliced({ source: 'otlp', items: counters(3, 1) })).toEqual({
      accepted: 0,
      rejected: 3,
      reason: 'closed',
    });
    await closing;
    expect(broker.stats().refusedClosing).toBe(1);
  });
});
