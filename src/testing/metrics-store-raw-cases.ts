import { describe, expect, it } from 'vitest';
import type { CombinePolicy, Point, RawPoint, RollupPoint } from '../metrics-store/types.js';
import { byTags, DAY, expectError, HOUR, MIN, type OpenStore, only } from './conformance-kit.js';

/** Register the raw write/query, validation and large-batch cases of the MetricsStore conformance suite. */
export function rawCases(open: OpenStore, T0: number): void {
  describe('write() and query() raw', () => {
    it('write() - returns the number accepted and query(raw) reads the points back sorted', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      const ts = [7, 3, 9, 1, 5, 2].map((m) => T0 + m * MIN);
      const points: Point[] = ts.map((t, i) => ({
        metric: 'cpu',
        tags: { host: 'a' },
        ts: t,
        value: i * 1.5,
        tenant,
      }));
      expect(await store.write(points)).toEqual({ accepted: 6 });
      const got = only(
        await store.query({ metric: 'cpu', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }),
        'raw',
      );
      const want = points.map((p) => ({ ts: p.ts, value: p.value })).sort((a, b) => a.ts - b.ts);
      expect(got).toEqual(want);
      const series = await store.query({
        metric: 'cpu',
        from: T0,
        to: T0 + HOUR,
        resolution: 'raw',
        tenant,
      });
      expect(series[0]?.metric).toBe('cpu');
      expect(series[0]?.tags).toEqual({ host: 'a' });
    });

    it('write([]) - accepts nothing and succeeds', async () => {
      const { store } = await open();
      expect(await store.write([])).toEqual({ accepted: 0 });
    });

    it('query() - from is inclusive, to exclusive; series without points in range are left out', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      await store.write([0, 1, 2, 3].map((m) => ({ metric: 'm', ts: T0 + m * MIN, value: m, tenant })));
      const got = only(
        await store.query({ metric: 'm', from: T0 + MIN, to: T0 + 3 * MIN, resolution: 'raw', tenant }),
        'raw',
      );
      expect(got.map((p) => p.value)).toEqual([1, 2]);
      expect(
        await store.query({ metric: 'm', from: T0 + 5 * MIN, to: T0 + 9 * MIN, resolution: 'raw', tenant }),
      ).toEqual([]);
      expect(
        await store.query({ metric: 'nope', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }),
      ).toEqual([]);
    });

    it('query() - tags filter matches series whose tags include all of them', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      const t = T0 + MIN;
      await store.write([
        { metric: 'lat', tags: { host: 'a', role: 'web' }, ts: t, value: 1, tenant },
        { metric: 'lat', tags: { host: 'b', role: 'web' }, ts: t, value: 2, tenant },
        { metric: 'lat', tags: { host: 'c', role: 'db' }, ts: t, value: 3, tenant },
        { metric: 'lat', ts: t, value: 4, tenant },
      ]);
      const q = { metric: 'lat', from: T0, to: T0 + HOUR, resolution: 'raw' as const, tenant };
      const web = byTags(await store.query({ ...q, tags: { role: 'web' } }));
      expect(web.map((s) => s.tags)).toEqual([
        { host: 'a', role: 'web' },
        { host: 'b', role: 'web' },
      ]);
      expect((await store.query({ ...q, tags: { role: 'web', host: 'b' } })).map((s) => s.points)).toEqual([
        [{ ts: t, value: 2 }],
      ]);
      expect(await store.query(q)).toHaveLength(4);
      expect(await store.query({ ...q, tags: { role: 'none' } })).toEqual([]);
      const untagged = (await store.query(q)).find((s) => Object.keys(s.tags).length === 0);
      expect(untagged?.points).toEqual([{ ts: t, value: 4 }]);
    });

    it('write() - tag order does not matter: the same tags are the same series', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      await store.write([{ metric: 'x', tags: { a: '1', b: '2' }, ts: T0, value: 1, tenant }]);
      await store.write([{ metric: 'x', tags: { b: '2', a: '1' }, ts: T0 + MIN, value: 2, tenant }]);
      const got = only(
        await store.query({ metric: 'x', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }),
        'raw',
      );
      expect(got.map((p) => p.value)).toEqual([1, 2]);
    });

    it('write() - keeps extreme finite values and negative numbers exactly', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      const values = [-1e300, 1e300, -0.000001, Number.MAX_SAFE_INTEGER, 0];
      await store.write(values.map((v, i) => ({ metric: 'ext', ts: T0 + i * 1000, value: v, tenant })));
      const got = only(
        await store.query({ metric: 'ext', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }),
        'raw',
      );
      expect(got.map((p) => p.value)).toEqual(values);
    });
  });

  describe('validation', () => {
    const good = (tenant: string, i = 0): Point => ({
      metric: 'v',
      tags: { h: 'a' },
      ts: T0 + i * 1000,
      value: i,
      tenant,
    });
    const bad: Array<[string, (p: Point) => unknown, string]> = [
      ['NaN value', (p) => ({ ...p, value: Number.NaN }), 'value'],
      ['Infinity value', (p) => ({ ...p, value: Number.POSITIVE_INFINITY }), 'value'],
      ['string value', (p) => ({ ...p, value: '3' }), 'value'],
      ['empty metric', (p) => ({ ...p, metric: '' }), 'metric'],
      ['over-long metric', (p) => ({ ...p, metric: `m${'x'.repeat(200)}` }), 'metric'],
      ['metric with a space', (p) => ({ ...p, metric: 'cpu load' }), 'metric'],
      ['metric starting with a digit', (p) => ({ ...p, metric: '9cpu' }), 'metric'],
      ['tag key with a space', (p) => ({ ...p, tags: { 'bad key': 'v' } }), 'tags["bad key"]'],
      ['over-long tag key', (p) => ({ ...p, tags: { ['k'.repeat(101)]: 'v' } }), `tags.${'k'.repeat(101)}`],
      ['empty tag value', (p) => ({ ...p, tags: { h: '' } }), 'tags.h'],
      ['over-long tag value', (p) => ({ ...p, tags: { h: 'v'.repeat(201) } }), 'tags.h'],
      ['tag value with a newline', (p) => ({ ...p, tags: { h: 'a\nb' } }), 'tags.h'],
      ['non-string tag value', (p) => ({ ...p, tags: { h: 3 } }), 'tags.h'],
      [
        'too many tags',
        (p) => ({ ...p, tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }),
        'tags',
      ],
      ['fractional ts', (p) => ({ ...p, ts: p.ts + 0.5 }), 'ts'],
      ['missing ts', (p) => ({ ...p, ts: undefined }), 'ts'],
      ['ts far in the future', (p) => ({ ...p, ts: T0 + DAY }), 'ts'],
      ['ts outside the retention window', (p) => ({ ...p, ts: T0 - 8 * DAY }), 'ts'],
      ['bad tenant', (p) => ({ ...p, tenant: 'a b' }), 'tenant'],
      ['unknown field', (p) => ({ ...p, tag: { h: 'a' } }), 'tag'],
    ];
    for (const [what, mutate, field] of bad) {
      it(`write() - rejects the whole batch for a ${what}, naming points[3].${field}`, async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 10 * MIN);
        const batch = [0, 1, 2, 3, 4].map((i) => good(tenant, i)) as unknown[];
        batch[3] = mutate(batch[3] as Point);
        const err = await expectError(store.write(batch as Point[]), 'E_VALIDATION', `points[3].${field}`);
        expect(err.message).toContain(`points[3].${field}`);
        expect(
          await store.query({ metric: 'v', from: T0 - DAY, to: T0 + DAY, resolution: 'raw', tenant }),
        ).toEqual([]);
        expect(await store.listMetrics(tenant)).toEqual([]);
      });
    }

    it('write() - rejects a non-array batch and bad options', async () => {
      const { store, tenant } = await open();
      await expectError(store.write({} as unknown as Point[]), 'E_VALIDATION', 'points');
      await expectError(store.write([null as unknown as Point]), 'E_VALIDATION', 'points[0]');
      await expectError(
        store.write([good(tenant)], { combine: 'median' as CombinePolicy }),
        'E_VALIDATION',
        'opts.combine',
      );
      await expectError(store.write([good(tenant)], { source: 'a\u0000b' }), 'E_VALIDATION', 'opts.source');
    });

    it('query() - rejects a bad metric, range or resolution', async () => {
      const { store, tenant } = await open();
      const q = { metric: 'v', from: T0, to: T0 + HOUR, tenant };
      await expectError(store.query({ ...q, metric: '' }), 'E_VALIDATION', 'query.metric');
      await expectError(store.query({ ...q, from: Number.NaN }), 'E_VALIDATION', 'query.from');
      await expectError(store.query({ ...q, to: T0 - 1 }), 'E_VALIDATION', 'query.to');
      await expectError(
        store.query({ ...q, resolution: '10m' as 'raw' }),
        'E_VALIDATION',
        'query.resolution',
      );
      await expectError(store.query({ ...q, points: 0 }), 'E_VALIDATION', 'query.points');
      await expectError(store.query({ ...q, tenant: '' }), 'E_VALIDATION', 'query.tenant');
    });
  });

  describe('large batches', () => {
    it('write() - a 100k-point batch is accepted whole and reads back', async () => {
      const { store, clock, tenant } = await open();
      const n = 100_000;
      const seriesCount = 10;
      const per = n / seriesCount;
      clock.set(T0 + per * 1000);
      const points: Point[] = new Array(n);
      let k = 0;
      for (let s = 0; s < seriesCount; s++) {
        const tags = { shard: String(s) };
        for (let i = 0; i < per; i++)
          points[k++] = { metric: 'big', tags, ts: T0 + i * 1000, value: s * per + i, tenant };
      }
      expect(await store.write(points)).toEqual({ accepted: n });
      const series = await store.query({
        metric: 'big',
        from: T0,
        to: T0 + per * 1000,
        resolution: 'raw',
        tenant,
      });
      expect(series).toHaveLength(seriesCount);
      let count = 0;
      let sum = 0;
      for (const s of series) {
        count += s.points.length;
        for (const p of s.points as RawPoint[]) sum += p.value;
      }
      expect(count).toBe(n);
      expect(sum).toBe((n * (n - 1)) / 2);
      clock.advance(HOUR);
      await store.flush();
      const hours = await store.query({
        metric: 'big',
        tags: { shard: '3' },
        from: T0,
        to: T0 + DAY,
        resolution: '1h',
        tenant,
      });
      expect(hours.flatMap((s) => s.points as RollupPoint[]).reduce((a, p) => a + p.count, 0)).toBe(per);
    }, 180_000);
  });
}
