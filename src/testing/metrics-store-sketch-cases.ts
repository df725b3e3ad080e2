import { describe, expect, it } from 'vitest';
import { DDSketch } from '../metrics/sketch.js';
import type { SketchPoint } from '../metrics-store/types.js';
import {
  close,
  DAY,
  exactQuantile,
  expectError,
  HOUR,
  MIN,
  normal,
  type OpenStore,
  sketchOf,
  uniqueTenant,
} from './conformance-kit.js';
import { seededRandom } from './random.js';

/** Register the sketch cases (`writeSketches`, `queryPercentiles`) of the MetricsStore conformance suite. */
export function sketchCases(open: OpenStore, T0: number): void {
  describe('sketches', () => {
    const ALPHA = 0.01;
    const QS = [0, 0.1, 0.5, 0.9, 0.99, 0.999, 1];
    function expectQuantiles(
      res: { quantiles: Record<string, number> },
      sorted: number[],
      what: string,
      alpha = ALPHA,
    ): void {
      for (const q of QS) {
        const got = res.quantiles[String(q)] as number;
        const want = exactQuantile(sorted, q);
        const err = Math.abs(got - want);
        if (!(err <= alpha * Math.abs(want) + 1e-12)) {
          expect.fail(
            `${what} p${q * 100}: ${got} vs exact ${want} (relative error ${err / Math.abs(want)})`,
          );
        }
      }
    }

    it('queryPercentiles() - a month of hourly sketches from two sources equals exact quantiles of all values', async () => {
      const { store, clock, tenant } = await open();
      const r = seededRandom(7);
      const days = 31;
      const written: Array<{ ts: number; values: number[] }> = [];
      for (let d = 0; d < days; d++) {
        const batch: Record<string, SketchPoint[]> = { 'broker-1': [], 'broker-2': [] };
        for (let h = 0; h < 24; h++) {
          for (const [k, source] of ['broker-1', 'broker-2'].entries()) {
            const ts = T0 + d * DAY + h * HOUR + 20 * MIN;
            const values = Array.from({ length: 6 + Math.floor(r() * 6) }, () =>
              Math.exp(3 + k + 0.8 * normal(r)),
            );
            if (d === 3 && h === 7 && k === 0) values.push(-2.5, 0); // negatives and zero merge too
            written.push({ ts, values });
            (batch[source] as SketchPoint[]).push({
              metric: 'latency',
              tags: { svc: 'api' },
              ts,
              sketch: sketchOf(values),
              tenant,
            });
          }
        }
        clock.set(T0 + (d + 1) * DAY);
        for (const [source, points] of Object.entries(batch)) {
          expect(await store.writeSketches(points, { source })).toEqual({ accepted: 24 });
        }
        await store.flush();
      }
      // the last day also gets sketches every 10 minutes from a third source, for the raw edge
      const lastDay = T0 + (days - 1) * DAY;
      const late: SketchPoint[] = [];
      for (let m = 0; m < 24 * 60; m += 10) {
        const ts = lastDay + m * MIN + 1000;
        const values = Array.from({ length: 3 }, () => Math.exp(4 + normal(r)));
        written.push({ ts, values });
        late.push({ metric: 'latency', tags: { svc: 'api' }, ts, sketch: sketchOf(values), tenant });
      }
      await store.writeSketches(late, { source: 'broker-3' });
      const now = T0 + days * DAY + 3 * HOUR;
      clock.set(now);
      await store.flush();
      const check = async (from: number, to: number, what: string) => {
        const values = written.filter((w) => w.ts >= from && w.ts < to).flatMap((w) => w.values);
        const sorted = [...values].sort((a, b) => a - b);
        const res = await store.queryPercentiles({ metric: 'latency', from, to, quantiles: QS, tenant });
        expect(res, what).toHaveLength(1);
        const p = res[0]!;
        expect(p.metric).toBe('latency');
        expect(p.tags).toEqual({ svc: 'api' });
        expect(p.count, `${what} count`).toBe(values.length);
        close(
          p.sum,
          values.reduce((a, b) => a + b, 0),
          `${what} sum`,
          1e-9,
        );
        expect(p.min, `${what} min`).toBe(sorted[0]);
        expect(p.max, `${what} max`).toBe(sorted[sorted.length - 1]);
        expectQuantiles(p, sorted, what);
      };
      // an hour-aligned start 30 days back (its 5m and raw data are gone), an unaligned recent end
      await check(T0 + 2 * HOUR, lastDay + 17 * HOUR + 33 * MIN, 'month');
      await check(T0, now, 'everything');
      await check(lastDay + 3 * HOUR + 7 * MIN, lastDay + 9 * HOUR + 52 * MIN, 'recent hours');
      expect(
        await store.queryPercentiles({
          metric: 'latency',
          from: now,
          to: now + HOUR,
          quantiles: [0.5],
          tenant,
        }),
      ).toEqual([]);
    }, 120_000);

    it('writeSketches() - a series takes sketches of any scale (an OTel SDK lowering its scale) and rejects other accuracies', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + HOUR);
      const r = seededRandom(11);
      const metric = 'otel.latency';
      const tags = { svc: 'api' };
      // window 1 at scale 8, windows 2 and 3 at scale 6 (values spread, so the SDK lowered its scale)
      const windows = [
        {
          ts: T0 + 10 * MIN,
          scale: 8,
          values: Array.from({ length: 400 }, () => Math.exp(2 + 0.3 * normal(r))),
        },
        {
          ts: T0 + 20 * MIN,
          scale: 6,
          values: Array.from({ length: 400 }, () => Math.exp(3 + 1.5 * normal(r))),
        },
        {
          ts: T0 + 25 * MIN,
          scale: 6,
          values: [0, -4.5, ...Array.from({ length: 50 }, () => Math.exp(6 * r()))],
        },
      ];
      for (const w of windows) {
        const sketch = sketchOf(w.values, { scale: w.scale });
        expect(await store.writeSketches([{ metric, tags, ts: w.ts, sketch, tenant }])).toEqual({
          accepted: 1,
        });
      }
      const values = windows.flatMap((w) => w.values);
      const sorted = [...values].sort((a, b) => a - b);
      const coarser = new DDSketch({ scale: 6 }).relativeAccuracy;
      const q = { metric, from: T0, to: T0 + HOUR, quantiles: QS, tenant };
      const check = async (what: string) => {
        const res = await store.queryPercentiles(q);
        expect(res, what).toHaveLength(1);
        const p = res[0]!;
        expect(p.tags).toEqual(tags);
        expect(p.count, `${what} count`).toBe(values.length);
        expect(p.min, `${what} min`).toBe(sorted[0]);
        expect(p.max, `${what} max`).toBe(sorted[sorted.length - 1]);
        close(
          p.sum,
          values.reduce((a, b) => a + b, 0),
          `${what} sum`,
        );
        expectQuantiles(p, sorted, what, coarser);
        // the scale-8 window alone keeps its finer accuracy
        const [fine] = await store.queryPercentiles({ ...q, to: T0 + 15 * MIN });
        expect(fine?.count, `${what} window 1`).toBe(400);
        expectQuantiles(
          fine!,
          [...(windows[0]?.values ?? [])].sort((a, b) => a - b),
          `${what} window 1`,
          new DDSketch({ scale: 8 }).relativeAccuracy,
        );
      };
      await check('raw');
      clock.set(T0 + 2 * HOUR);
      await store.flush(); // 5m and 1h rollups merge across the scales
      await check('rolled');
      // a finer scale after a coarser one is accepted too, in one batch with a coarser one
      const late = [7, 5].map((scale, i) => ({
        metric,
        tags,
        ts: T0 + 30 * MIN + i,
        sketch: sketchOf([42], { scale }),
        tenant,
      }));
      expect(await store.writeSketches(late)).toEqual({ accepted: 2 });
      // genuinely incompatible sketches are still refused, naming the point
      const at = (sketch: Uint8Array, ts = T0 + 40 * MIN): SketchPoint => ({
        metric,
        tags,
        ts,
        sketch,
        tenant,
      });
      await expectError(store.writeSketches([at(sketchOf([1]))]), 'E_VALIDATION', 'points[0].sketch');
      await expectError(
        store.writeSketches([at(sketchOf([1], { scale: 4 })), at(sketchOf([1], { relativeAccuracy: 0.05 }))]),
        'E_VALIDATION',
        'points[1].sketch',
      );
      const corrupt = sketchOf([1], { scale: 6 }).slice(0, 5);
      await expectError(store.writeSketches([at(corrupt)]), 'E_VALIDATION', 'points[0].sketch');
      // and a series of a relative accuracy refuses a scaled sketch
      await store.writeSketches([{ metric: 'plain', ts: T0, sketch: sketchOf([1]), tenant }]);
      await expectError(
        store.writeSketches([{ metric: 'plain', ts: T0 + 1, sketch: sketchOf([1], { scale: 6 }), tenant }]),
        'E_VALIDATION',
        'points[0].sketch',
      );
      await store.flush();
      const [after] = await store.queryPercentiles({ ...q, quantiles: [1] });
      expect(after?.count).toBe(values.length + 2);
    });

    it('writeSketches() - sources merge, a source resending a ts replaces its sketch, tenants isolate', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + HOUR);
      const other = uniqueTenant();
      const ts = T0 + 10 * MIN;
      const a = [1, 2, 3, 4];
      const b = [10, 20, 30];
      const pt = (values: number[], t = tenant): SketchPoint => ({
        metric: 'sz',
        ts,
        sketch: sketchOf(values),
        tenant: t,
      });
      await store.writeSketches([pt([100, 200])], { source: 'a' });
      await store.writeSketches([pt(a)], { source: 'a' }); // replaces the first
      await store.writeSketches([pt(b)], { source: 'b' });
      await store.writeSketches([pt([5000], other)], { source: 'a' });
      const q = { metric: 'sz', from: T0, to: T0 + HOUR, quantiles: [0, 0.5, 1], tenant };
      const [res] = await store.queryPercentiles(q);
      expect(res).toMatchObject({ count: 7, sum: 70, min: 1, max: 30, quantiles: { '0': 1, '1': 30 } });
      expect(res!.tags).toEqual({});
      expect(Math.abs(res!.quantiles['0.5']! - 4) <= 0.04).toBe(true);
      await store.flush(); // rolled: same answer from rollups
      expect(await store.queryPercentiles(q)).toEqual([res]);
      await store.writeSketches([pt([7, 7])], { source: 'b' }); // late correction after the roll
      await store.flush();
      expect((await store.queryPercentiles(q))[0]).toMatchObject({ count: 6, sum: 24, max: 7 });
      expect((await store.queryPercentiles({ ...q, tenant: other }))[0]).toMatchObject({
        count: 1,
        sum: 5000,
      });
      expect(await store.listMetrics(other)).toEqual(['sz']);
    });

    it('queryPercentiles() - the tags filter selects series; each series gets its own result', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + HOUR);
      await store.writeSketches([
        { metric: 'h', tags: { host: 'a', role: 'web' }, ts: T0, sketch: sketchOf([1, 2]), tenant },
        { metric: 'h', tags: { host: 'b', role: 'web' }, ts: T0, sketch: sketchOf([3]), tenant },
        { metric: 'h', tags: { host: 'c', role: 'db' }, ts: T0, sketch: sketchOf([4]), tenant },
      ]);
      const res = await store.queryPercentiles({
        metric: 'h',
        tags: { role: 'web' },
        from: T0,
        to: T0 + HOUR,
        quantiles: [1],
        tenant,
      });
      expect(res.map((x) => [x.tags.host, x.count, x.quantiles['1']]).sort()).toEqual([
        ['a', 2, 2],
        ['b', 1, 3],
      ]);
    });

    it('writeSketches() - validates the whole batch like write(), including undecodable bytes', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + HOUR);
      const good = (i: number): SketchPoint => ({
        metric: 'sk',
        ts: T0 + i,
        sketch: sketchOf([i + 1]),
        tenant,
      });
      const cases: Array<[unknown, string]> = [
        [{ ...good(2), sketch: new Uint8Array([1, 2, 3]) }, 'points[2].sketch'],
        [{ ...good(2), sketch: new Uint8Array(0) }, 'points[2].sketch'],
        [{ ...good(2), sketch: [1, 2] }, 'points[2].sketch'],
        [{ ...good(2), ts: T0 + DAY }, 'points[2].ts'],
        [{ ...good(2), metric: '' }, 'points[2].metric'],
        [{ ...good(2), value: 3 }, 'points[2].value'],
      ];
      for (const [badPoint, path] of cases) {
        await expectError(
          store.writeSketches([good(0), good(1), badPoint as SketchPoint]),
          'E_VALIDATION',
          path,
        );
      }
      await expectError(
        store.queryPercentiles({ metric: 'sk', from: T0, to: T0 + HOUR, quantiles: [1.5], tenant }),
        'E_VALIDATION',
        'query.quantiles[0]',
      );
      await expectError(
        store.queryPercentiles({ metric: 'sk', from: T0, to: T0 + HOUR, quantiles: [], tenant }),
        'E_VALIDATION',
        'query.quantiles',
      );
      expect(
        await store.queryPercentiles({ metric: 'sk', from: T0, to: T0 + HOUR, quantiles: [0.5], tenant }),
      ).toEqual([]);
      expect(await store.writeSketches([])).toEqual({ accepted: 0 });
    });
  });
}
