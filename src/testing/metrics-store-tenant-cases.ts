import { describe, expect, it } from 'vitest';
import type { CombinePolicy, Point, RawPoint } from '../metrics-store/types.js';
import { close, expectRollup, HOUR, MIN, type OpenStore, only, uniqueTenant } from './conformance-kit.js';

/** Register the tenant, source and listing (`listMetrics`, `listSeries`) cases of the MetricsStore conformance suite. */
export function tenantCases(open: OpenStore, T0: number): void {
  describe('tenants', () => {
    it('every call is isolated by tenant', async () => {
      const { store, clock } = await open();
      clock.set(T0 + 10 * MIN);
      const a = uniqueTenant();
      const b = uniqueTenant();
      await store.write([{ metric: 'shared', tags: { h: 'x' }, ts: T0 + MIN, value: 1, tenant: a }]);
      await store.write([{ metric: 'shared', tags: { h: 'y' }, ts: T0 + MIN, value: 2, tenant: b }]);
      await store.write([{ metric: 'only_b', ts: T0 + MIN, value: 3, tenant: b }]);
      const q = { metric: 'shared', from: T0, to: T0 + HOUR, resolution: 'raw' as const };
      expect((await store.query({ ...q, tenant: a })).map((s) => [s.tags, s.points])).toEqual([
        [{ h: 'x' }, [{ ts: T0 + MIN, value: 1 }]],
      ]);
      expect((await store.query({ ...q, tenant: b })).map((s) => s.tags)).toEqual([{ h: 'y' }]);
      expect(await store.listMetrics(a)).toEqual(['shared']);
      expect(await store.listMetrics(b)).toEqual(['only_b', 'shared']);
      expect(await store.listSeries('shared', undefined, a)).toEqual([
        { metric: 'shared', tags: { h: 'x' } },
      ]);
      expect(await store.listMetrics(uniqueTenant())).toEqual([]);
      clock.set(T0 + HOUR);
      await store.flush();
      expect((await store.query({ ...q, resolution: '5m', tenant: a }))[0]?.points[0]).toMatchObject({
        sum: 1,
      });
      expect((await store.query({ ...q, resolution: '5m', tenant: b }))[0]?.points[0]).toMatchObject({
        sum: 2,
      });
    });

    it("a point without tenant goes to 'default', and a query without tenant reads it", async () => {
      const { store, clock } = await open();
      clock.set(T0 + 10 * MIN);
      const metric = `dflt_${uniqueTenant()}`;
      await store.write([{ metric, ts: T0 + MIN, value: 9 }]);
      expect(only(await store.query({ metric, from: T0, to: T0 + HOUR, resolution: 'raw' }), 'raw')).toEqual([
        { ts: T0 + MIN, value: 9 },
      ]);
      expect(
        only(
          await store.query({ metric, from: T0, to: T0 + HOUR, resolution: 'raw', tenant: 'default' }),
          'raw',
        ),
      ).toHaveLength(1);
      expect(await store.listMetrics()).toContain(metric);
      expect(await store.listSeries(metric)).toEqual([{ metric, tags: {} }]);
    });

    it('one batch may span tenants', async () => {
      const { store, clock } = await open();
      clock.set(T0 + 10 * MIN);
      const a = uniqueTenant();
      const b = uniqueTenant();
      await store.write([
        { metric: 'mix', ts: T0, value: 1, tenant: a },
        { metric: 'mix', ts: T0, value: 2, tenant: b },
      ]);
      const q = { metric: 'mix', from: T0, to: T0 + HOUR, resolution: 'raw' as const };
      expect(only(await store.query({ ...q, tenant: a }), 'raw')).toEqual([{ ts: T0, value: 1 }]);
      expect(only(await store.query({ ...q, tenant: b }), 'raw')).toEqual([{ ts: T0, value: 2 }]);
    });
  });

  describe('sources', () => {
    const policies: Array<[CombinePolicy, (vs: number[]) => number]> = [
      ['sum', (vs) => vs.reduce((a, b) => a + b, 0)],
      ['min', (vs) => Math.min(...vs)],
      ['max', (vs) => Math.max(...vs)],
      ['avg', (vs) => vs.reduce((a, b) => a + b, 0) / vs.length],
      ['last', (vs) => vs[vs.length - 1] as number],
    ];
    for (const [policy, combine] of policies) {
      it(`write({ combine: '${policy}' }) - values of several sources for one ts combine when read and rolled up`, async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 10 * MIN);
        const ts = [T0 + 1000, T0 + 2000, T0 + 3000];
        const bySource = { b1: [1, 10, -4], b2: [5, 2, 8], b3: [3, 3, 100] };
        for (const [source, values] of Object.entries(bySource)) {
          await store.write(
            ts.map((t, i) => ({
              metric: 'comb',
              tags: { s: 'x' },
              ts: t,
              value: values[i] as number,
              tenant,
            })),
            { source, combine: policy },
          );
        }
        const want = ts.map((t, i) => ({
          ts: t,
          value: combine(Object.values(bySource).map((v) => v[i] as number)),
        }));
        const raw = only(
          await store.query({ metric: 'comb', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }),
          'raw',
        );
        expect(raw.map((p) => p.ts)).toEqual(ts);
        for (const [i, p] of raw.entries()) close(p.value, (want[i] as RawPoint).value, `raw[${i}]`);
        clock.set(T0 + HOUR);
        await store.flush();
        const r5 = only(
          await store.query({ metric: 'comb', from: T0, to: T0 + HOUR, resolution: '5m', tenant }),
          '5m',
        );
        expectRollup(
          r5[0],
          T0,
          want.map((p) => p.value),
          `5m ${policy}`,
        );
      });
    }

    it("write() - a source's resend of a ts replaces its earlier value (idempotent)", async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      const batch = (v: number): Point[] =>
        [0, 1, 2].map((i) => ({ metric: 'idem', ts: T0 + i * 1000, value: v + i, tenant }));
      await store.write(batch(10), { source: 'a', combine: 'sum' });
      await store.write(batch(100), { source: 'b', combine: 'sum' });
      await store.write(batch(10), { source: 'a', combine: 'sum' }); // resend, same values
      const q = { metric: 'idem', from: T0, to: T0 + HOUR, tenant };
      expect(only(await store.query({ ...q, resolution: 'raw' }), 'raw').map((p) => p.value)).toEqual([
        110, 112, 114,
      ]);
      await store.write(batch(20), { source: 'a', combine: 'sum' }); // correction by a
      expect(only(await store.query({ ...q, resolution: 'raw' }), 'raw').map((p) => p.value)).toEqual([
        120, 122, 124,
      ]);
      clock.set(T0 + HOUR);
      await store.flush();
      expectRollup(only(await store.query({ ...q, resolution: '5m' }), '5m')[0], T0, [120, 122, 124]);
      // a resend after the slot was rolled re-rolls it and still counts each ts once
      await store.write(batch(20), { source: 'a', combine: 'sum' });
      await store.flush();
      expectRollup(only(await store.query({ ...q, resolution: '5m' }), '5m')[0], T0, [120, 122, 124]);
    });

    it('write() - the same source writing one ts twice in a batch keeps the later value', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      await store.write([
        { metric: 'dup', ts: T0, value: 1, tenant },
        { metric: 'dup', ts: T0, value: 2, tenant },
      ]);
      expect(
        only(await store.query({ metric: 'dup', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }), 'raw'),
      ).toEqual([{ ts: T0, value: 2 }]);
    });

    it("write() - the combine policy is recorded at a series' first write", async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      await store.write([{ metric: 'pol', ts: T0, value: 1, tenant }], { source: 'a', combine: 'sum' });
      await store.write([{ metric: 'pol', ts: T0, value: 2, tenant }], { source: 'b', combine: 'max' });
      expect(
        only(await store.query({ metric: 'pol', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }), 'raw'),
      ).toEqual([{ ts: T0, value: 3 }]);
    });

    it('write() - concurrent writers from several sources all land and combine', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + HOUR);
      const sources = Array.from({ length: 8 }, (_, i) => `host-${i}`);
      const ts = Array.from({ length: 50 }, (_, i) => T0 + i * 10_000);
      await Promise.all(
        sources.map((source, k) =>
          store.write(
            ts.flatMap((t, i) => [
              { metric: 'conc', tags: { w: 'all' }, ts: t, value: k + i, tenant },
              { metric: 'conc', tags: { w: source }, ts: t, value: i, tenant },
            ]),
            { source, combine: 'sum' },
          ),
        ),
      );
      const q = { metric: 'conc', from: T0, to: T0 + HOUR, resolution: 'raw' as const, tenant };
      const all = only(await store.query({ ...q, tags: { w: 'all' } }), 'raw');
      const ksum = sources.reduce((a, _, k) => a + k, 0);
      expect(all).toEqual(ts.map((t, i) => ({ ts: t, value: ksum + 8 * i })));
      expect(await store.query(q)).toHaveLength(9);
      expect(await store.listSeries('conc', undefined, tenant)).toHaveLength(9);
      await store.flush();
      const r5 = only(await store.query({ ...q, tags: { w: 'all' }, resolution: '5m' }), '5m');
      expect(r5.reduce((a, p) => a + p.count, 0)).toBe(50);
    });
  });

  describe('listMetrics() and listSeries()', () => {
    it('listMetrics() - sorted distinct metric names of the tenant', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      await store.write(
        ['zeta', 'alpha', 'mid.dle', 'alpha', 'a/b:c-d'].map((metric, i) => ({
          metric,
          ts: T0 + i,
          value: i,
          tenant,
        })),
      );
      expect(await store.listMetrics(tenant)).toEqual(['a/b:c-d', 'alpha', 'mid.dle', 'zeta']);
    });

    it('listSeries() - every series of a metric, or those whose tags include the filter', async () => {
      const { store, clock, tenant } = await open();
      clock.set(T0 + 10 * MIN);
      const tags = [
        { host: 'a', role: 'web', dc: 'x' },
        { host: 'b', role: 'web', dc: 'y' },
        { host: 'c', role: 'db', dc: 'x' },
        { host: 'weird value, with = and } chars', role: 'db', dc: 'y' },
      ];
      await store.write(tags.map((t, i) => ({ metric: 'req', tags: t, ts: T0 + i, value: i, tenant })));
      await store.write([{ metric: 'other', tags: { host: 'a' }, ts: T0, value: 1, tenant }]);
      const sort = (xs: Array<{ tags: Record<string, string> }>) =>
        xs.map((x) => x.tags).sort((a, b) => (a.host ?? '').localeCompare(b.host ?? ''));
      expect(sort(await store.listSeries('req', undefined, tenant))).toEqual(
        sort(tags.map((t) => ({ tags: t }))),
      );
      expect(sort(await store.listSeries('req', { role: 'web' }, tenant))).toEqual(tags.slice(0, 2));
      expect(sort(await store.listSeries('req', { role: 'db', dc: 'y' }, tenant))).toEqual([tags[3]]);
      expect(await store.listSeries('req', { role: 'none' }, tenant)).toEqual([]);
      expect(await store.listSeries('missing', undefined, tenant)).toEqual([]);
      for (const s of await store.listSeries('req', {}, tenant)) expect(s.metric).toBe('req');
    });
  });
}
