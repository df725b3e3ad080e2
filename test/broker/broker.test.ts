import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { snapshotSeries } from '../../src/broker/client.js';
import { decodeFrame, FRAME_ACK, FrameEncoder, type WireSeries } from '../../src/broker/protocol.js';
import { DDSketch, decodeSketch } from '../../src/metrics/sketch.js';
import { counterSeries, frameBody, useTestBroker } from './helpers.js';

const T0 = Date.UTC(2026, 10, 26, 6, 0, 0); // a multiple of 10 s
const enc = new FrameEncoder();

const frame = frameBody;
const counter = counterSeries;

const start = useTestBroker(T0);

describe('MetricsBroker windows', () => {
  it('sums counters from several sources into the aligned window and writes them with combine sum', async () => {
    const { clock, store, broker } = await start();
    broker.ingestFrame(frame('w1', 0, T0, [counter('req', 3, { route: '/' })]));
    broker.ingestFrame(frame('w2', 0, T0 + 4_000, [counter('req', 4, { route: '/' })])); // unaligned start → same window
    clock.t = T0 + 11_999; // end + grace (2 s) not reached
    await broker.flushDue();
    expect(store.writes).toHaveLength(0);
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(store.writes).toEqual([
      {
        points: [{ metric: 'req', tags: { route: '/' }, ts: T0, value: 7 }],
        source: broker.writeSource,
        combine: 'sum',
      },
    ]);
    expect(broker.stats()).toMatchObject({ frames: 2, seriesDeltas: 2, flushes: 1, openWindows: 0 });
  });

  it('combines gauges per policy across sources (last, sum, max, avg)', async () => {
    const { clock, store, broker } = await start();
    const g = (name: string, policy: WireSeries['policy'], value: number): WireSeries => ({
      key: name,
      kind: 'gauge',
      policy,
      value,
    });
    broker.ingestFrame(
      frame('a', 0, T0, [
        g('g_last', 'last', 1),
        g('g_sum', 'sum', 1),
        g('g_max', 'max', 5),
        g('g_avg', 'avg', 2),
      ]),
    );
    broker.ingestFrame(
      frame('b', 0, T0, [
        g('g_last', 'last', 9),
        g('g_sum', 'sum', 2),
        g('g_max', 'max', 3),
        g('g_avg', 'avg', 4),
      ]),
    );
    broker.ingestFrame(frame('a', 1, T0, [g('g_sum', 'sum', 10)])); // a's newer value replaces its older one
    clock.t = T0 + 20_000;
    await broker.flushDue();
    const got = Object.fromEntries(
      ['g_last', 'g_sum', 'g_max', 'g_avg'].map((m) => [
        m,
        store.values(m).map((v) => [v.value, v.combine])[0],
      ]),
    );
    expect(got).toEqual({ g_last: [9, 'last'], g_sum: [12, 'sum'], g_max: [5, 'max'], g_avg: [3, 'avg'] });
  });

  it('writes histograms as count/sum/min/max/percentiles and the merged sketch', async () => {
    const { clock, store, broker } = await start({ quantiles: [0.5, 0.99] });
    const a = new DDSketch();
    const b = new DDSketch();
    for (let i = 1; i <= 100; i++) (i % 2 ? a : b).add(i);
    broker.ingestFrame(
      frame(
        'a',
        0,
        T0,
        snapshotSeries({
          windowStart: T0,
          intervalMs: 10_000,
          series: [{ name: 'lat', kind: 'histogram', tags: {}, sketch: a }],
        }),
      ),
    );
    broker.ingestFrame(
      frame(
        'b',
        0,
        T0,
        snapshotSeries({
          windowStart: T0,
          intervalMs: 10_000,
          series: [{ name: 'lat', kind: 'histogram', tags: {}, sketch: b }],
        }),
      ),
    );
    clock.t = T0 + 20_000;
    await broker.flushDue();
    const one = (m: string) => store.values(m)[0];
    expect(one('lat.count')).toMatchObject({ value: 100, combine: 'sum' });
    expect(one('lat.sum')).toMatchObject({ value: 5050, combine: 'sum' });
    expect(one('lat.min')).toMatchObject({ value: 1, combine: 'min' });
    expect(one('lat.max')).toMatchObject({ value: 100, combine: 'max' });
    expect(one('lat.p50')!.value).toBeGreaterThanOrEqual(50 * 0.99);
    expect(one('lat.p50')!.value).toBeLessThanOrEqual(51 * 1.01);
    expect(one('lat.p99')!.value).toBeGreaterThanOrEqual(99 * 0.99);
    expect(store.sketches).toHaveLength(1);
    const merged = decodeSketch(store.sketches[0]!.points[0]!.sketch);
    expect(merged.count).toBe(100);
    expect(store.sketches[0]!.source).toBe(broker.writeSource);
  });

  it('counts gaps, ignores duplicates, acknowledges after the window is written', async () => {
    const { clock, store, broker } = await start();
    const acks: number[][] = [];
    const reply = (b: Buffer) => {
      const f = decodeFrame(b.subarray(4));
      if (f.type === FRAME_ACK) acks.push(f.seqs);
    };
    broker.ingestFrame(frame('w', 0, T0, [counter('c', 1)]), reply);
    broker.ingestFrame(frame('w', 3, T0, [counter('c', 1)]), reply); // 1 and 2 lost
    broker.ingestFrame(frame('w', 3, T0, [counter('c', 1)]), reply); // resent
    expect(acks).toEqual([]);
    clock.t = T0 + 20_000;
    await broker.flushDue();
    expect(store.sum('c')).toBe(2);
    expect(acks).toEqual([[0, 3]]);
    broker.ingestFrame(frame('w', 0, T0, [counter('c', 1)]), reply); // a resend of a written frame: acked at once
    expect(acks).toEqual([[0, 3], [0]]);
    expect(broker.stats()).toMatchObject({ gaps: 2, duplicates: 2, frames: 2 });
  });

  it('acknowledges every frame of a window once written, also of sources the full table forgot meanwhile', async () => {
    const { clock, store, broker } = await start({ maxSources: 10 });
    const acks = new Map<string, number[]>();
    const replyFor = (conn: string) => (b: Buffer) => {
      const f = decodeFrame(b.subarray(4));
      if (f.type === FRAME_ACK)
        acks.set(`${conn}/${f.epoch}`, [...(acks.get(`${conn}/${f.epoch}`) ?? []), ...f.seqs]);
    };
    // 25 sources on two connections: the table of 10 forgets most of them before the window closes
    for (let i = 0; i < 25; i++) {
      broker.ingestFrame(frame(`p${i}`, i, T0, [counter('c', 1)], 1 + (i % 2)), replyFor(i < 12 ? 'a' : 'b'));
    }
    expect(broker.stats().sourcesEvicted).toBeGreaterThanOrEqual(15);
    expect(acks.size).toBe(0);
    clock.t = T0 + 20_000;
    await broker.flushDue();
    expect(store.sum('c')).toBe(25);
    const got = [...acks].flatMap(([k, seqs]) => seqs.map((s) => `${k}/${s}`)).sort();
    const want = Array.from({ length: 25 }, (_, i) => `${i < 12 ? 'a' : 'b'}/${1 + (i % 2)}/${i}`).sort();
    expect(got).toEqual(want);
  });

  it('treats a restarted process (same sourceId, new epoch) as a new stream, not duplicates', async () => {
    const { clock, store, broker } = await start();
    broker.ingestFrame(frame('w', 0, T0, [counter('c', 5)], 1));
    broker.ingestFrame(frame('w', 0, T0, [counter('c', 2)], 2));
    clock.t = T0 + 20_000;
    await broker.flushDue();
    expect(store.sum('c')).toBe(7);
    expect(broker.stats().duplicates).toBe(0);
  });

  it('merges late frames into the current window and counts them; totals stay monotonic', async () => {
    const { clock, store, broker } = await start();
    broker.ingestFrame(frame('w', 0, T0, [counter('c', 5)]));
    clock.t = T0 + 12_000;
    await broker.flushDue();
    broker.ingestFrame(frame('w', 1, T0, [counter('c', 1)])); // T0 already closed
    await broker.flushDue(); // lets the merge run while the clock still reads T0 + 12 s
    clock.t = T0 + 22_000;
    await broker.flushDue();
    expect(store.values('c').map((v) => v.value)).toEqual([5, 1]);
    expect(store.writes.map((w) => w.points[0]!.ts)).toEqual([T0, T0 + 10_000]);
    expect(broker.stats().late).toBe(1);
    expect(broker.totals()).toEqual([{ name: 'c', tags: {}, kind: 'counter', value: 6 }]);
  });

  it('counts and drops bad frames and bad series, and keeps running', async () => {
    const { clock, store, broker } = await start();
    broker.ingestFrame(Buffer.from([1, 2, 3]));
    broker.ingestFrame(enc.ack(1, [1]).subarray(4)); // an ACK is not for the broker
    broker.ingestFrame(
      frame('w', 0, T0, [
        counter('9bad', 1), // name must start with a letter or _
        counter('ok', 1, { k: 'v' }),
        { key: 'h', kind: 'histogram', policy: 'last', value: 0, sketch: new Uint8Array([7, 7]) },
        { key: 'x\0dangling', kind: 'counter', policy: 'last', value: 1 },
      ]),
    );
    clock.t = T0 + 20_000;
    await broker.flushDue();
    expect(store.sum('ok')).toBe(1);
    expect(broker.stats()).toMatchObject({ badFrames: 2, badSeries: 3, frames: 1 });
  });

  it('keeps a window for retry while the store fails and acknowledges only once written', async () => {
    const { clock, store, broker } = await start();
    const errors: Error[] = [];
    broker.on('error', (e) => errors.push(e));
    let acked = 0;
    broker.ingestFrame(frame('w', 0, T0, [counter('c', 4)]), () => acked++);
    store.fail = true;
    clock.t = T0 + 20_000;
    await broker.flushDue();
    expect(acked).toBe(0);
    expect(errors[0]).toMatchObject({ code: 'E_STORE_UNAVAILABLE' });
    store.fail = false;
    await broker.flushDue();
    expect(store.sum('c')).toBe(4);
    expect(acked).toBe(1);
    expect(broker.stats()).toMatchObject({ flushFailures: 1, flushes: 1 });
  });

  it('writes fleetwatch.broker.* self-metrics as per-window deltas', async () => {
    const { clock, store, broker } = await start({ selfMetrics: true });
    broker.ingestFrame(frame('w', 0, T0, [counter('c', 1)]));
    broker.ingestFrame(Buffer.from([0]));
    clock.t = T0 + 20_000;
    await broker.flushDue();
    broker.ingestFrame(frame('w', 1, T0 + 20_000, [counter('c', 1)]));
    clock.t = T0 + 40_000;
    await broker.flushDue();
    expect(store.values('fleetwatch.broker.frames').map((v) => v.value)).toEqual([1, 1]);
    expect(store.values('fleetwatch.broker.badFrames').map((v) => v.value)).toEqual([1, 0]);
    expect(store.values('fleetwatch.broker.frames')[0]!.tags).toEqual({ broker: 'b1' });
  });

  it('prometheus() exposes the merged cumulative view and the self-metrics', async () => {
    const { clock, broker } = await start();
    const sk = new DDSketch();
    for (let i = 1; i <= 10; i++) sk.add(i);
    const hist = snapshotSeries({
      windowStart: T0,
      intervalMs: 10_000,
      series: [{ name: 'lat', kind: 'histogram', tags: {}, sketch: sk }],
    });
    broker.ingestFrame(frame('w', 0, T0, [counter('req', 3, { route: '/' }), ...hist]));
    broker.ingestFrame(frame('w2', 0, T0, [counter('req', 4, { route: '/' })]));
    clock.t = T0 + 12_000;
    await broker.flushDue();
    broker.ingestFrame(frame('w', 1, T0 + 10_000, [counter('req', 1, { route: '/' })]));
    await broker.flushDue();
    clock.t = T0 + 22_000;
    await broker.flushDue();
    const text = broker.prometheus({ quantiles: [0.5] });
    expect(text).toContain('# TYPE req_total counter\nreq_total{route="/"} 8\n');
    expect(text).toContain('# TYPE lat summary');
    expect(text).toContain('lat_count 10');
    expect(text).toContain('fleetwatch_broker_frames_total{broker="b1"} 3');
  });

  it('refuses frames beyond maxQueuedFrames without marking them seen, so a resend is accepted', async () => {
    // a frame of more than chunkSize series is merged in chunks, through the queue; smaller ones merge at once
    const { clock, store, broker } = await start({ maxQueuedFrames: 1, chunkSize: 1 });
    broker.ingestFrame(frame('w', 0, T0, [counter('c', 1), counter('d', 1)]));
    broker.ingestFrame(frame('w', 1, T0, [counter('c', 10)])); // the queue is full
    expect(broker.stats()).toMatchObject({ overloaded: 1, queuedFrames: 1 });
    await broker.flushDue();
    broker.ingestFrame(frame('w', 1, T0, [counter('c', 10)])); // resent later
    clock.t = T0 + 20_000;
    await broker.flushDue();
    expect(store.sum('c')).toBe(11);
    expect(broker.stats()).toMatchObject({ duplicates: 0, frames: 2, queuedFrames: 0 });
  });

  it('close() writes the open windows', async () => {
    const { store, broker: b } = await start();
    b.ingestFrame(frame('w', 0, T0, [counter('c', 2)]));
    await b.close();
    expect(store.sum('c')).toBe(2);
  });

  it('rejects bad options naming the field', async () => {
    await expect(MetricsBroker.start({ intervalMs: 0 })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'options.intervalMs',
    });
    await expect(MetricsBroker.start({ quantiles: [2] })).rejects.toMatchObject({
      path: 'options.quantiles',
    });
    await expect(MetricsBroker.start({ bogus: 1 } as never)).rejects.toMatchObject({ path: 'options.bogus' });
  });

  it('start() - an explicit undefined clock and logger get the defaults, as omitted ones do', async () => {
    const { store, broker } = await start({ clock: undefined, logger: undefined });
    const now = Math.floor(Date.now() / 10_000) * 10_000;
    broker.ingestFrame(frame('w1', 0, now - 60_000, [counter('req', 3)]));
    await broker.flushDue();
    expect(store.values('req')).toEqual([{ value: 3, combine: 'sum', tags: {} }]);
  });
});

describe('MetricsBroker StatsD', () => {
  it('aggregates every StatsD type with sample rates and tags', async () => {
    const { clock, store, broker } = await start({ quantiles: [0.5] });
    broker.ingestStatsd('hits:1|c|@0.1|#env:prod\nhits:2|c|#env:prod\nq:5|g\nq:+3|g\nq:-1|g');
    broker.ingestStatsd(
      Buffer.from('lat:10|ms\nlat:20:30|h|@0.5\nusers:a|s\nusers:b|s\nusers:a|s\nbad line'),
    );
    clock.t = T0 + 20_000;
    await broker.flushDue();
    expect(store.values('hits')).toEqual([{ value: 12, combine: 'sum', tags: { env: 'prod' } }]);
    expect(store.values('q')).toEqual([{ value: 7, combine: 'last', tags: {} }]);
    expect(store.values('lat.count')[0]!.value).toBe(5); // 1 + 2 × (1/0.5)
    expect(store.values('lat.max')[0]!.value).toBe(30);
    expect(store.values('users')[0]!.value).toBe(2);
    expect(broker.stats()).toMatchObject({ statsdPackets: 2, statsdLines: 11, badStatsdLines: 1 });
  });
});

describe('MetricsBroker fuzz', () => {
  it('counts random and corrupted frames and StatsD packets as bad, never throws, and still merges good ones', async () => {
    const { clock, store, broker } = await start();
    const good = frame('g', 0, T0, [counter('ok', 1), counter('ok2', 2, { a: 'b' })]);
    let expectedBad = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
          fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
            const b = Buffer.from(good);
            b[at] = (b[at]! ^ x) & 0xff;
            return b;
          }),
        ),
        fc.string({ maxLength: 60 }),
        async (bytes, line) => {
          const before = broker.stats();
          broker.ingestFrame(bytes);
          broker.ingestStatsd(line);
          const after = broker.stats();
          // each frame is exactly one of: bad, accepted, duplicate
          const outcomes =
            after.badFrames -
            before.badFrames +
            (after.frames - before.frames) +
            (after.duplicates - before.duplicates);
          expect(outcomes).toBe(1);
          expectedBad += after.badFrames - before.badFrames;
        },
      ),
      { numRuns: 500 },
    );
    expect(broker.stats().badFrames).toBe(expectedBad);
    broker.ingestFrame(frame('final', 0, T0, [counter('ok', 5)]));
    clock.t = T0 + 20_000;
    await broker.flushDue();
    expect(store.values('ok').reduce((a, v) => a + v.value, 0)).toBeGreaterThanOrEqual(5);
    expect(broker.stats().flushes).toBeGreaterThanOrEqual(1);
  });
});
