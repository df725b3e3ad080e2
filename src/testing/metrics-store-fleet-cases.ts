/**
 * Fleet-query cases of the MetricsStore conformance suite (`where`, `aggregate`, `groupBy`, top-k,
 * fleet percentiles, the query-cost guard, copy-on-validate). Registered by
 * `metricsStoreConformance`; every expected value is computed here from the raw data written.
 */
import { expect, it } from 'vitest';
import { DDSketch } from '../metrics/sketch.js';
import type { Point, RawPoint, SketchPoint } from '../metrics-store/types.js';
import { expectError, HOUR, M5, MIN, type OpenStore } from './conformance-kit.js';
import { fleetGuardCases } from './metrics-store-fleet-guard-cases.js';
import {
  expectMatches,
  fleetData,
  oracle,
  REGIONS,
  slotStats,
  toPoints,
} from './metrics-store-fleet-oracle.js';
import { seededRandom } from './random.js';

/** Register the fleet-query cases (inside the suite's describe). */
export function fleetQueryCases(open: OpenStore, T0: number): void {
  const T = T0 + HOUR;

  it("query({ where, aggregate, groupBy }) - sum, count, avg, min and max per region and 5m slot equal the raw data's", async () => {
    const { store, clock, tenant } = await open({ at: T + 2 * HOUR + 10 * MIN });
    const { points } = fleetData(T);
    await store.write(toPoints(points, 'rps', tenant));
    await store.flush();
    void clock;
    const selected = points.filter((p) => p.tags.env === 'prod');
    const range = { metric: 'rps', tenant, from: T, to: T + 2 * HOUR };
    for (const aggregate of ['sum', 'count', 'avg', 'min', 'max'] as const) {
      const got = await store.query({
        ...range,
        resolution: '5m',
        where: 'tag:env=prod',
        aggregate,
        groupBy: ['region'],
      });
      expectMatches(
        got,
        oracle(selected, ['region'], M5, aggregate),
        aggregate,
        aggregate === 'avg' ? 1e-12 : 0,
      );
      for (const s of got) {
        expect(s.aggregate).toBe(aggregate);
        expect(s.resolution).toBe('5m');
        expect(s.series).toBe(
          new Set(selected.filter((p) => p.tags.region === s.tags.region).map((p) => p.tags.host)).size,
        );
      }
    }
    // one fleet series (groupBy empty), at 1h, with wildcards and not
    const where = 'tag:region=us-* and not tag:env=dev';
    const sel = points.filter((p) => p.tags.region?.startsWith('us-') && p.tags.env !== 'dev');
    const fleet = await store.query({ ...range, resolution: '1h', where, aggregate: 'avg', groupBy: [] });
    expectMatches(fleet, oracle(sel, [], HOUR, 'avg'), 'fleet avg 1h', 1e-12);
    // a mean of means would differ: h05 has fewer points in the first hour
    const noGroup = await store.query({ ...range, resolution: '5m', aggregate: 'sum' });
    expectMatches(noGroup, oracle(points, [], M5, 'sum'), 'all series sum');
    expect(noGroup[0]?.tags).toEqual({});
  });

  it("query({ aggregate: 'rate' | 'delta' }) - per-second increase of counters across series, resets handled", async () => {
    const { store, tenant } = await open({ at: T + 2 * HOUR + 10 * MIN });
    const r = seededRandom(9);
    const series: Record<string, RawPoint[]> = { c0: [], c1: [], c2: [] };
    for (const [name, list] of Object.entries(series)) {
      let v = 1000;
      for (let t = T; t < T + HOUR; t += 30_000) {
        if (name === 'c1' && t === T + 30 * MIN) v = 0; // reset exactly at a slot edge
        if (name === 'c2' && t === T + 47 * MIN) v = 0; // reset inside a slot
        v += Math.floor(r() * 10);
        list.push({ ts: t, value: v });
      }
    }
    const pts: Point[] = Object.entries(series).flatMap(([host, list]) =>
      list.map((p) => ({ metric: 'reqs', tags: { host, role: 'web' }, ts: p.ts, value: p.value, tenant })),
    );
    await store.write(pts);
    await store.flush();
    const q = { metric: 'reqs', tenant, from: T, to: T + HOUR, resolution: '5m' as const, groupBy: ['role'] };
    const rate = await store.query({ ...q, aggregate: 'rate' });
    const delta = await store.query({ ...q, aggregate: 'delta' });
    // oracle: per series, slot k with slot k-1: increase = last[k]-last[k-1], or last[k] after a reset
    const inc = new Map<number, number>();
    const dl = new Map<number, number>();
    const promRule = new Map<number, number>(); // Prometheus' rule over consecutive raw pairs
    for (const [name, list] of Object.entries(series)) {
      const st = slotStats(list, M5);
      for (const [s, cur] of st) {
        const prev = st.get(s - M5);
        if (prev === undefined) continue;
        const reset = cur.last < prev.last || cur.min < prev.last;
        inc.set(s, (inc.get(s) ?? 0) + (reset ? cur.last : cur.last - prev.last));
        dl.set(s, (dl.get(s) ?? 0) + cur.last - prev.last);
        let pr = 0;
        let before = prev.last;
        for (const p of list) {
          if (p.ts < s || p.ts >= s + M5) continue;
          pr += p.value >= before ? p.value - before : p.value;
          before = p.value;
        }
        if (name !== 'c2' || s !== T + 45 * MIN) promRule.set(s, (promRule.get(s) ?? 0) + pr);
      }
    }
    expect(rate).toHaveLength(1);
    expect(rate[0]?.tags).toEqual({ role: 'web' });
    expect(rate[0]?.points.map((p) => p.ts)).toEqual([...inc.keys()].sort((a, b) => a - b));
    for (const p of rate[0]?.points ?? []) {
      expect(p.value).toBeCloseTo((inc.get(p.ts) as number) / 300, 12);
      expect(p.value).toBeGreaterThanOrEqual(0);
    }
    // where the reset sits on a slot edge the rate is Prometheus' increase exactly
    const edge = rate[0]?.points.find((p) => p.ts === T + 30 * MIN);
    expect(edge?.value).toBeCloseTo((promRule.get(T + 30 * MIN) as number) / 300, 12);
    expect(delta[0]?.points.map((p) => [p.ts, p.value])).toEqual(
      [...dl.entries()].sort((a, b) => a[0] - b[0]),
    );
  });

  it('query({ aggregate }) - a late point re-rolls its slot and the aggregate follows', async () => {
    const { store, clock, tenant } = await open({ at: T + HOUR });
    const base: Point[] = [0, 1, 2].map((i) => ({
      metric: 'late',
      tags: { host: `h${i}` },
      ts: T + 10 * MIN + i * 1000,
      value: 10 * (i + 1),
      tenant,
    }));
    await store.write(base);
    await store.flush();
    const q = { metric: 'late', tenant, from: T, to: T + HOUR, resolution: '5m', aggregate: 'sum' } as const;
    expect((await store.query(q))[0]?.points).toEqual([{ ts: T + 10 * MIN, value: 60 }]);
    clock.advance(MIN);
    await store.write([{ metric: 'late', tags: { host: 'h1' }, ts: T + 12 * MIN, value: 5, tenant }]);
    await store.write([{ metric: 'late', tags: { host: 'h9' }, ts: T + 2 * MIN, value: 7, tenant }]);
    await store.flush();
    expect((await store.query(q))[0]?.points).toEqual([
      { ts: T, value: 7 },
      { ts: T + 10 * MIN, value: 65 },
    ]);
    expect((await store.query({ ...q, aggregate: 'count' }))[0]?.points).toEqual([
      { ts: T, value: 1 },
      { ts: T + 10 * MIN, value: 4 },
    ]);
  });

  it("query({ limit, order }) - top-k groups by the aggregate over the range; 'last' needs one series per group", async () => {
    const { store, tenant } = await open({ at: T + 2 * HOUR + 10 * MIN });
    const { points } = fleetData(T);
    await store.write(toPoints(points, 'rps', tenant));
    await store.flush();
    const q = {
      metric: 'rps',
      tenant,
      from: T,
      to: T + 2 * HOUR,
      resolution: '5m' as const,
      groupBy: ['host'],
    };
    const totals = new Map<string, number>();
    for (const p of points)
      totals.set(p.tags.host as string, (totals.get(p.tags.host as string) ?? 0) + p.value);
    const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const top = await store.query({ ...q, aggregate: 'sum', limit: 3 });
    expect(top.map((s) => s.tags.host)).toEqual(ranked.slice(0, 3).map((e) => e[0]));
    const bottom = await store.query({ ...q, aggregate: 'sum', limit: 2, order: 'asc' });
    expect(bottom.map((s) => s.tags.host)).toEqual(
      ranked
        .slice(-2)
        .reverse()
        .map((e) => e[0]),
    );
    const last = await store.query({ ...q, aggregate: 'last', where: 'tag:host=h03' });
    const h3 = points.filter((p) => p.tags.host === 'h03');
    expect(last[0]?.points.at(-1)?.value).toBe(h3.at(-1)?.value);
    await expectError(store.query({ ...q, groupBy: ['region'], aggregate: 'last' }), 'E_VALIDATION');
  });

  it('queryPercentiles({ groupBy, step }) - sketches of 100 series merged per group and hour equal exact quantiles within α', async () => {
    const { store, tenant } = await open({ at: T + 2 * HOUR + 10 * MIN });
    const r = seededRandom(5);
    const written: { host: number; region: string; ts: number; values: number[] }[] = [];
    const batch: SketchPoint[] = [];
    for (let h = 0; h < 100; h++) {
      const region = REGIONS[h % 3] as string;
      for (let t = T; t < T + 2 * HOUR; t += 10 * MIN) {
        const values = Array.from({ length: 16 }, () => Math.round(1.2 ** h * (1 + 50 * r() * r())));
        const sk = new DDSketch();
        for (const v of values) sk.add(v);
        written.push({ host: h, region, ts: t + 1000, values });
        batch.push({
          metric: 'lat',
          tags: { host: `h${String(h).padStart(3, '0')}`, region },
          ts: t + 1000,
          sketch: sk.encode(),
          tenant,
        });
      }
    }
    await store.writeSketches(batch);
    await store.flush();
    const QS = [0.5, 0.9, 0.99];
    const alpha = 0.01;
    const check = (
      got: { count: number; quantiles: Record<string, number> },
      values: number[],
      what: string,
    ) => {
      const sorted = [...values].sort((a, b) => a - b);
      expect(got.count, `${what} count`).toBe(values.length);
      for (const q of QS) {
        const exact = sorted[Math.floor(q * (sorted.length - 1))] as number;
        const est = got.quantiles[String(q)] as number;
        expect(Math.abs(est - exact), `${what} p${q}: ${est} vs ${exact}`).toBeLessThanOrEqual(
          alpha * Math.abs(exact) + 1e-9,
        );
      }
    };
    const from = T;
    const to = T + 2 * HOUR;
    const fleet = await store.queryPercentiles({
      metric: 'lat',
      tenant,
      from,
      to,
      quantiles: QS,
      groupBy: [],
    });
    expect(fleet).toHaveLength(1);
    expect(fleet[0]?.series).toBe(100);
    check(
      fleet[0] as never,
      written.flatMap((w) => w.values),
      'fleet',
    );
    const byRegion = await store.queryPercentiles({
      metric: 'lat',
      tenant,
      from,
      to,
      quantiles: QS,
      groupBy: ['region'],
      step: HOUR,
      where: 'tag:region=us-*',
    });
    expect(byRegion.map((g) => g.tags.region)).toEqual(['us-east', 'us-west']);
    for (const g of byRegion) {
      expect(g.steps?.map((s) => s.ts)).toEqual([T, T + HOUR]);
      for (const s of g.steps ?? []) {
        check(
          s,
          written
            .filter((w) => w.region === g.tags.region && w.ts >= s.ts && w.ts < s.ts + HOUR)
            .flatMap((w) => w.values),
          `${g.tags.region} @${s.ts}`,
        );
      }
    }
    // top 5 hosts by p99 (host h scales its values by 1.2^h, so the ranking is h99, h98, …)
    const top = await store.queryPercentiles({
      metric: 'lat',
      tenant,
      from,
      to,
      quantiles: [0.99],
      groupBy: ['host'],
      limit: 5,
    });
    expect(top.map((t) => t.tags.host)).toEqual(['h099', 'h098', 'h097', 'h096', 'h095']);
    // without groupBy: one result per series, as before
    const per = await store.queryPercentiles({
      metric: 'lat',
      tenant,
      from,
      to,
      quantiles: [0.5],
      where: 'tag:host=h00*',
    });
    expect(per.map((p) => p.tags.host)).toEqual(Array.from({ length: 10 }, (_, i) => `h00${i}`));
  }, 120_000);
  fleetGuardCases(open, T0);
}
