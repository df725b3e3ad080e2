import { describe, expect, it } from 'vitest';
import type { IngestItem } from '../../src/broker/ingest.js';
import { FleetwatchError } from '../../src/errors.js';
import { DDSketch, decodeSketch } from '../../src/metrics/sketch.js';
import { counterSeries, frameBody, RecordingStore, useTestBroker } from './helpers.js';

const T0 = Date.UTC(2026, 10, 26, 6, 0, 0);

const start = useTestBroker(T0);

function sketchOf(...values: number[]): DDSketch {
  const s = new DDSketch();
  for (const v of values) s.add(v);
  return s;
}

/** A sketch whose exact sum overflowed (two values near the largest double). */
function overflowingSketch(): DDSketch {
  const s = new DDSketch();
  s.add(1.7e308);
  s.add(1.7e308);
  return s;
}

const metrics = (store: RecordingStore) =>
  store.writes.flatMap((w) => w.points.map((p) => `${p.metric}=${p.value}`));

describe('MetricsBroker.ingest(batch)', () => {
  it('applies a valid batch to the current window', async () => {
    const { clock, store, broker } = await start();
    const r = broker.ingest({
      source: 'otlp:a',
      items: [
        { kind: 'counter', name: 'req', tags: { route: '/' }, value: 3 },
        { kind: 'gauge', name: 'temp', tags: {}, value: 21.5 },
        { kind: 'histogram', name: 'lat', tags: {}, sketch: sketchOf(1, 2, 3) },
      ],
    });
    expect(r).toEqual({ accepted: 3 });
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(metrics(store)).toEqual(
      expect.arrayContaining(['req=3', 'temp=21.5', 'lat.count=3', 'lat.sum=6']),
    );
    expect(decodeSketch(store.sketches[0]!.points[0]!.sketch).count).toBe(3);
    expect(broker.stats()).toMatchObject({ batches: 1, rejectedBatches: 0 });
  });

  it("a batch of one item (the StatsD path) is applied alike and never keeps the caller's sketch", async () => {
    const { clock, store, broker } = await start();
    const mine = sketchOf(1, 2, 3);
    expect(
      broker.ingest({
        source: 'otlp:a',
        items: [{ kind: 'histogram', name: 'lat', tags: {}, sketch: mine }],
      }),
    ).toEqual({
      accepted: 1,
    });
    expect(
      broker.ingest({
        source: 'otlp:a',
        items: [{ kind: 'histogram', name: 'lat', tags: {}, sketch: sketchOf(4) }],
      }),
    ).toEqual({
      accepted: 1,
    });
    mine.add(1000); // after ingest: must not reach the window
    expect(
      broker.ingest({ source: 'otlp:a', items: [{ kind: 'gauge', name: 'lat', tags: {}, value: 1 }] }),
    ).toMatchObject({ accepted: 0, reason: 'kindConflicts', field: 'items[0].name' });
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(metrics(store)).toEqual(expect.arrayContaining(['lat.count=4', 'lat.sum=10']));
    expect(mine.count).toBe(4); // the window merged into its own copy, not into the caller's sketch
  });

  const bad: Array<[string, IngestItem, string, string]> = [
    ['a bad name', { kind: 'counter', name: '9x', tags: {}, value: 1 }, 'badNames', 'items[1].name'],
    [
      'a bad tag',
      { kind: 'counter', name: 'x', tags: { 'bad key': 'v' }, value: 1 },
      'badNames',
      'items[1].name',
    ],
    ['NaN', { kind: 'counter', name: 'x', tags: {}, value: Number.NaN }, 'nonFiniteValues', 'items[1].value'],
    [
      'Infinity',
      { kind: 'gauge', name: 'x', tags: {}, value: Infinity },
      'nonFiniteValues',
      'items[1].value',
    ],
    [
      'a sketch whose sum is Infinity',
      { kind: 'histogram', name: 'x', tags: {}, sketch: overflowingSketch() },
      'nonFiniteValues',
      'items[1].sketch',
    ],
    [
      'a sketch of another accuracy',
      { kind: 'histogram', name: 'lat', tags: {}, sketch: new DDSketch({ relativeAccuracy: 0.05 }) },
      'badSketches',
      'items[1].sketch',
    ],
    ['a kind conflict', { kind: 'gauge', name: 'req', tags: {}, value: 1 }, 'kindConflicts', 'items[1].name'],
  ];
  for (const [what, item, reason, field] of bad) {
    it(`refuses the whole batch for ${what}, counted by reason`, async () => {
      const { clock, store, broker } = await start();
      broker.ingest({
        source: 's',
        items: [{ kind: 'histogram', name: 'lat', tags: {}, sketch: sketchOf(5) }],
      });
      const r = broker.ingest({
        source: 's',
        items: [{ kind: 'counter', name: 'req', tags: {}, value: 7 }, item],
      });
      expect(r).toEqual({ accepted: 0, rejected: 2, reason, field });
      expect(broker.stats()).toMatchObject({ rejectedBatches: 1, [reason]: 2, badSeries: 2 });
      clock.t = T0 + 12_000;
      await broker.flushDue();
      expect(metrics(store).filter((m) => m.startsWith('req'))).toEqual([]); // nothing of the batch applied
    });
  }
});

describe('one bad value costs nothing else', () => {
  it('drops a series whose window sum overflows, counts it, and writes the rest of the window', async () => {
    const { clock, store, broker } = await start();
    broker.ingestFrame(frameBody('w1', 0, T0, [counterSeries('big', 1.7e308), counterSeries('ok', 1)]));
    broker.ingestFrame(frameBody('w2', 0, T0, [counterSeries('big', 1.7e308), counterSeries('ok', 2)]));
    broker.ingest({
      source: 's',
      items: [{ kind: 'histogram', name: 'lat', tags: {}, sketch: sketchOf(1.7e308) }],
    });
    broker.ingest({
      source: 't',
      items: [{ kind: 'histogram', name: 'lat', tags: {}, sketch: sketchOf(1.7e308) }],
    });
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(metrics(store)).toEqual(['ok=3']);
    expect(store.sketches).toEqual([]);
    expect(broker.stats()).toMatchObject({ nonFiniteAggregates: 2, flushFailures: 0, flushes: 1 });
  });

  it('refuses a frame series whose sketch sum is Infinity and merges the others of the frame', async () => {
    const { clock, store, broker } = await start();
    broker.ingestFrame(
      frameBody('w1', 0, T0, [
        counterSeries('ok', 4),
        { key: 'lat', kind: 'histogram', policy: 'last', value: 0, sketch: overflowingSketch().encode() },
      ]),
    );
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(metrics(store)).toEqual(['ok=4']);
    expect(broker.stats()).toMatchObject({ nonFiniteValues: 1, badSeries: 1 });
  });

  it('splits a window the store refuses, quarantines the bad point and writes the rest', async () => {
    class PickyStore extends RecordingStore {
      override async write(
        points: Parameters<RecordingStore['write']>[0],
        opts?: Parameters<RecordingStore['write']>[1],
      ) {
        if (points.some((p) => p.metric === 'poison'))
          throw new FleetwatchError('E_VALIDATION', 'bad point', { path: 'points[0]' });
        return super.write(points, opts);
      }
    }
    const { clock, store, broker } = await start({}, new PickyStore());
    const series = Array.from({ length: 9 }, (_, i) => counterSeries(`c${i}`, i));
    broker.ingestFrame(
      frameBody('w1', 0, T0, [...series.slice(0, 4), counterSeries('poison', 1), ...series.slice(4)]),
    );
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(metrics(store).sort()).toEqual(series.map((_, i) => `c${i}=${i}`).sort());
    expect(broker.stats()).toMatchObject({ quarantinedPoints: 1, flushes: 1, flushFailures: 0 });
  });

  it('retries failing windows independently: a window the store cannot take never blocks later ones', async () => {
    class StuckStore extends RecordingStore {
      override async write(
        points: Parameters<RecordingStore['write']>[0],
        opts?: Parameters<RecordingStore['write']>[1],
      ) {
        if (points.some((p) => p.metric === 'c' && p.ts === T0))
          throw new FleetwatchError('E_STORE_UNAVAILABLE', 'partition down');
        return super.write(points, opts);
      }
    }
    const { clock, store, broker } = await start({}, new StuckStore());
    const acked: number[] = [];
    const reply = () => acked.push(1);
    broker.ingestFrame(frameBody('w', 0, T0, [counterSeries('c', 1)]), reply);
    clock.t = T0 + 12_000;
    await broker.flushDue();
    broker.ingestFrame(frameBody('w', 1, T0 + 10_000, [counterSeries('c', 2)]), reply);
    clock.t = T0 + 22_000;
    await broker.flushDue();
    broker.ingestFrame(frameBody('w', 2, T0 + 20_000, [counterSeries('c', 4)]), reply);
    clock.t = T0 + 32_000;
    await broker.flushDue();
    expect(store.values('c').map((v) => v.value)).toEqual([2, 4]);
    expect(acked).toHaveLength(2);
    expect(broker.stats()).toMatchObject({ flushes: 2, flushFailures: 3 });
    // the high-water mark never passes the unwritten frame 0
    expect(store.highWater.flatMap((w) => w.points.map((p) => p.value))).toEqual([]);
  });
});
