import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LatencyResponse, PercentilesResponse, SeriesResponse } from '../../src/dashboard/index.js';
import { api, type Fleet, startFleet, writeDurations } from './fleet.js';

/** The sketch's rule for the exact quantile of a sorted sample: rank ⌊q(n−1)⌋. */
function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}
const ALPHA = 0.01; // DDSketch default relative accuracy

const slot = Math.floor((Date.now() - 900_000) / 300_000) * 300_000;
const CHECK = 'fleet-check';
// t1 is the busiest target (200 fast values), t2 the slow one (100 values): the merged p99 lies in t2
const VALUES: Record<string, number[]> = {
  t1: Array.from({ length: 200 }, (_, i) => i + 1),
  t2: Array.from({ length: 100 }, (_, i) => 1000 + i * 3),
};
const ALL = Object.values(VALUES)
  .flat()
  .sort((a, b) => a - b);

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
  for (const [target, values] of Object.entries(VALUES)) {
    await writeDurations(fleet, { check: CHECK, target }, slot, values);
  }
  await fleet.store.flush();
});
afterAll(() => fleet.close());

const range = `from=${slot}&to=${slot + 300_000}`;

describe('dashboard API over fleet-wide store queries', () => {
  it('GET /api/v1/latency - merges every target per slot: p99 of the union, not of the busiest target', async () => {
    const lat: LatencyResponse = (await api(fleet, `api/v1/latency?check=${CHECK}&${range}`)).json();
    expect(lat.series).toBe(2);
    expect(lat.points).toHaveLength(1);
    const p = lat.points[0]!;
    expect(p).toMatchObject({ ts: slot, count: ALL.length, min: ALL[0], max: ALL.at(-1) });
    expect(p.mean).toBeCloseTo(ALL.reduce((a, b) => a + b, 0) / ALL.length, 9);
    for (const [q, got] of [
      [0.5, p.p50!],
      [0.99, p.p99!],
    ] as const) {
      const exact = exactQuantile(ALL, q);
      expect(Math.abs(got - exact)).toBeLessThanOrEqual(ALPHA * exact + 1e-9);
    }
    // the busiest target's p99 (≈ 198) is far from the merged one (≈ 1291)
    const busiest = exactQuantile(VALUES.t1!, 0.99);
    expect(p.p99!).toBeGreaterThan(busiest * 5);
  });

  it('GET /api/v1/latency?groupBy=target - one chart per target, each with its own p99', async () => {
    const lat: LatencyResponse = (
      await api(fleet, `api/v1/latency?check=${CHECK}&${range}&groupBy=target`)
    ).json();
    expect(lat.points).toEqual([]);
    expect(lat.groupBy).toEqual(['target']);
    expect(lat.groups?.map((g) => g.tags)).toEqual([{ target: 't1' }, { target: 't2' }]);
    for (const g of lat.groups ?? []) {
      const values = VALUES[g.tags.target!]!;
      expect(g.series).toBe(1);
      expect(g.points[0]).toMatchObject({
        ts: slot,
        count: values.length,
        min: values[0],
        max: values.at(-1),
      });
      const exact = exactQuantile(values, 0.99);
      expect(Math.abs(g.points[0]!.p99! - exact)).toBeLessThanOrEqual(ALPHA * exact + 1e-9);
    }
    // `target=` and `where=` narrow the selection before merging
    const one: LatencyResponse = (
      await api(fleet, `api/v1/latency?check=${CHECK}&${range}&where=${encodeURIComponent('tag:target=t2')}`)
    ).json();
    expect(one.series).toBe(1);
    expect(one.points[0]).toMatchObject({ count: 100, min: 1000 });
  });

  it('GET /api/v1/series?aggregate= - one combined series per group', async () => {
    const fleetWide: SeriesResponse = (
      await api(
        fleet,
        `api/v1/series?metric=check.duration&tag=check:${CHECK}&${range}&resolution=5m&aggregate=count`,
      )
    ).json();
    expect(fleetWide.series).toHaveLength(1);
    expect(fleetWide.series[0]).toMatchObject({
      tags: {},
      aggregate: 'count',
      seriesCount: 2,
      resolution: '5m',
    });
    expect(fleetWide.series[0]!.points).toEqual([{ ts: slot, value: ALL.length }]);
    const byTarget: SeriesResponse = (
      await api(
        fleet,
        `api/v1/series?metric=check.duration&where=${encodeURIComponent(`tag:check=${CHECK}`)}&${range}` +
          '&resolution=5m&aggregate=max&groupBy=target&limit=1&order=desc',
      )
    ).json();
    expect(byTarget.series.map((s) => [s.tags, s.points[0]?.value])).toEqual([
      [{ target: 't2' }, VALUES.t2!.at(-1)],
    ]);
    const noAgg = await api(fleet, `api/v1/series?metric=check.duration&${range}&groupBy=target`);
    expect(noAgg.res.status).toBe(400);
    expect(noAgg.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'groupBy' });
    const badAgg = await api(fleet, `api/v1/series?metric=check.duration&${range}&aggregate=median`);
    expect(badAgg.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'aggregate' });
  });

  it('GET /api/v1/percentiles?groupBy=&step= - merged sketches per step', async () => {
    const r: PercentilesResponse = (
      await api(
        fleet,
        `api/v1/percentiles?metric=check.duration&tag=check:${CHECK}&${range}&q=0.99&groupBy=&step=300000`,
      )
    ).json();
    expect(r.results).toHaveLength(1);
    const res = r.results[0]!;
    expect(res).toMatchObject({ tags: {}, seriesCount: 2, count: ALL.length });
    expect(res.steps?.map((s) => s.ts)).toEqual([slot]);
    const exact = exactQuantile(ALL, 0.99);
    expect(Math.abs(res.steps![0]!.quantiles['0.99']! - exact)).toBeLessThanOrEqual(ALPHA * exact + 1e-9);
    const perSeries: PercentilesResponse = (
      await api(fleet, `api/v1/percentiles?metric=check.duration&tag=check:${CHECK}&${range}`)
    ).json();
    expect(perSeries.results).toHaveLength(2);
    const badStep = await api(fleet, `api/v1/percentiles?metric=check.duration&${range}&groupBy=&step=1000`);
    expect(badStep.res.status).toBe(400);
    expect(badStep.json().error.code).toBe('E_VALIDATION');
  });

  it('where= is validated by the store - 400 with the code and the position of the fault', async () => {
    const node = await api(
      fleet,
      `api/v1/latency?check=${CHECK}&where=${encodeURIComponent('tag:a=1 and state:running')}`,
    );
    expect(node.res.status).toBe(400);
    expect(node.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'where', position: 12 });
    const syntax = await api(
      fleet,
      `api/v1/series?metric=check.duration&where=${encodeURIComponent('tag:a=1 and (')}`,
    );
    expect(syntax.res.status).toBe(400);
    expect(syntax.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'where' });
    expect(syntax.json().error.position).toBeTypeOf('number');
    const pct = await api(
      fleet,
      `api/v1/percentiles?metric=check.duration&where=${encodeURIComponent('provider:x')}`,
    );
    expect(pct.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'where', position: 0 });
  });
});

describe("the store's cost guard", () => {
  let small: Fleet;
  beforeAll(async () => {
    small = await startFleet({}, { maxQueryPoints: 5 });
    const points = ['a', 'b'].flatMap((target) =>
      [0, 1, 2].map((k) => ({ metric: 'cost.m', tags: { target }, ts: slot - k * 300_000, value: k })),
    );
    await small.store.write(points);
    await small.store.flush();
  });
  afterAll(() => small.close());

  it('E_QUERY_TOO_LARGE from the store - a 400 JSON error with the limit that was exceeded', async () => {
    const from = slot - 3_600_000;
    const r = await api(
      small,
      `api/v1/series?metric=cost.m&from=${from}&to=${slot + 300_000}&resolution=5m&aggregate=sum`,
    );
    expect(r.res.status).toBe(400);
    expect(r.json().error).toMatchObject({
      code: 'E_QUERY_TOO_LARGE',
      details: { limit: 'maxQueryPoints', max: 5 },
    });
    expect(r.json().error.details.requested).toBeGreaterThan(5);
    const lat = await api(small, `api/v1/latency?check=x&from=${from}&to=${slot}`);
    expect(lat.res.status).toBe(200); // nothing selected: nothing to read
    const narrow = await api(
      small,
      `api/v1/series?metric=cost.m&from=${slot}&to=${slot + 300_000}&resolution=5m&aggregate=sum`,
    );
    expect(narrow.res.status).toBe(200);
    expect(narrow.json().series[0].points).toEqual([{ ts: slot, value: 0 }]);
  });
});
