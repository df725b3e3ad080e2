/**
 * Fleet-query cases of the MetricsStore conformance suite (`where`, `aggregate`, `groupBy`, top-k,
 * fleet percentiles, the query-cost guard, copy-on-validate). Registered by
 * `metricsStoreConformance`; every expected value is computed here from the raw data written.
 */
import { expect, it } from 'vitest';
import { FleetwatchError } from '../errors.js';
import { DDSketch } from '../metrics/sketch.js';
import type { AggregatedSeries, MetricsStore, Point, RawPoint, SketchPoint } from '../metrics-store/types.js';
import type { FakeClock } from './metrics-store-conformance.js';
import { seededRandom } from './random.js';

const MIN = 60_000;
const M5 = 5 * MIN;
const HOUR = 3_600_000;

/** What the cases need from the suite: a fresh store at a time, with optional query limits. */
export type OpenStore = (opts?: {
  at?: number;
  queryLimits?: { maxSeries?: number; maxPoints?: number };
}) => Promise<{ store: MetricsStore; clock: FakeClock; tenant: string }>;

interface Raw {
  tags: Record<string, string>;
  ts: number;
  value: number;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<FleetwatchError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code, (err as Error).message).toBe(code);
    return err as FleetwatchError;
  }
  return expect.fail(`expected ${code}`);
}

/** Group key of tags by `groupBy` (a missing key is left out), as the API defines it. */
function groupTags(tags: Record<string, string>, groupBy: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of groupBy) if (tags[k] !== undefined) out[k] = tags[k];
  return out;
}

/** Oracle: per group and 5m slot, from raw points (one value per ts per series). */
function oracle(
  raw: readonly Raw[],
  groupBy: readonly string[],
  w: number,
  aggregate: 'sum' | 'count' | 'avg' | 'min' | 'max',
): Map<string, Map<number, number>> {
  const acc = new Map<string, Map<number, number[]>>();
  for (const p of raw) {
    const g = JSON.stringify(groupTags(p.tags, groupBy));
    const slot = Math.floor(p.ts / w) * w;
    let m = acc.get(g);
    if (m === undefined) {
      m = new Map();
      acc.set(g, m);
    }
    const list = m.get(slot) ?? [];
    list.push(p.value);
    m.set(slot, list);
  }
  const out = new Map<string, Map<number, number>>();
  for (const [g, m] of acc) {
    const r = new Map<number, number>();
    for (const [slot, vs] of m) {
      const sum = vs.reduce((a, b) => a + b, 0);
      r.set(
        slot,
        aggregate === 'sum'
          ? sum
          : aggregate === 'count'
            ? vs.length
            : aggregate === 'avg'
              ? sum / vs.length
              : aggregate === 'min'
                ? Math.min(...vs)
                : Math.max(...vs),
      );
    }
    out.set(g, r);
  }
  return out;
}

function expectMatches(
  got: AggregatedSeries[],
  want: Map<string, Map<number, number>>,
  what: string,
  rel = 0,
): void {
  const gotKeys = got.map((s) => JSON.stringify(s.tags)).sort();
  expect(gotKeys, `${what}: groups`).toEqual([...want.keys()].sort());
  for (const s of got) {
    const w = want.get(JSON.stringify(s.tags)) as Map<number, number>;
    const slots = [...w.keys()].sort((a, b) => a - b);
    expect(
      s.points.map((p) => p.ts),
      `${what} ${JSON.stringify(s.tags)} slots`,
    ).toEqual(slots);
    for (const p of s.points) {
      const e = w.get(p.ts) as number;
      expect(Number.isFinite(p.value)).toBe(true);
      if (rel === 0) expect(p.value, `${what} ${JSON.stringify(s.tags)} @${p.ts}`).toBe(e);
      else
        expect(Math.abs(p.value - e), `${what} @${p.ts}: ${p.value} vs ${e}`).toBeLessThanOrEqual(
          Math.abs(e) * rel,
        );
    }
  }
}

const REGIONS = ['us-east', 'us-west', 'eu-west'];

/** 12 hosts over two hours, one point a minute, with a gap, a series starting mid-range and one without region. */
function fleetData(T: number): { points: Raw[]; hostTags: Record<string, string>[] } {
  const r = seededRandom(42);
  const hostTags: Record<string, string>[] = [];
  const points: Raw[] = [];
  for (let i = 0; i < 12; i++) {
    const tags: Record<string, string> = {
      host: `h${String(i).padStart(2, '0')}`,
      env: i % 4 === 0 ? 'dev' : 'prod',
    };
    if (i !== 11) tags.region = REGIONS[i % 3] as string;
    hostTags.push(tags);
    for (let t = T; t < T + 2 * HOUR; t += MIN) {
      if (i === 5 && t < T + 50 * MIN) continue; // appears mid-range
      if (i === 7 && t >= T + 20 * MIN && t < T + 40 * MIN) continue; // a gap
      points.push({ tags, ts: t + 7_000, value: Math.floor(r() * 2000) - 500 });
    }
  }
  return { points, hostTags };
}

function toPoints(raw: readonly Raw[], metric: string, tenant: string): Point[] {
  return raw.map((p) => ({ metric, tags: p.tags, ts: p.ts, value: p.value, tenant }));
}

/** Per series and slot: last and min of a counter, from raw points. */
function slotStats(points: readonly RawPoint[], w: number): Map<number, { last: number; min: number }> {
  const out = new Map<number, { last: number; min: number }>();
  for (const p of points) {
    const s = Math.floor(p.ts / w) * w;
    const cur = out.get(s);
    if (cur === undefined) out.set(s, { last: p.value, min: p.value });
    else {
      cur.last = p.value;
      cur.min = Math.min(cur.min, p.value);
    }
  }
  return out;
}

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
    for (const aggregate of ['sum', 'count', 'avg', 'min', 'max'] as const) {
      const got = await store.query({
        metric: 'rps',
        tenant,
        from: T,
        to: T + 2 * HOUR,
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
    const fleet = await store.query({
      metric: 'rps',
      tenant,
      from: T,
      to: T + 2 * HOUR,
      resolution: '1h',
      where,
      aggregate: 'avg',
      groupBy: [],
    });
    expectMatches(fleet, oracle(sel, [], HOUR, 'avg'), 'fleet avg 1h', 1e-12);
    // a mean of means would differ: h05 has fewer points in the first hour
    const noGroup = await store.query({
      metric: 'rps',
      tenant,
      from: T,
      to: T + 2 * HOUR,
      resolution: '5m',
      aggregate: 'sum',
    });
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
    const q = {
      metric: 'late',
      tenant,
      from: T,
      to: T + HOUR,
      resolution: '5m' as const,
      aggregate: 'sum' as const,
    };
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
    await rejectsWith(store.query({ ...q, groupBy: ['region'], aggregate: 'last' }), 'E_VALIDATION');
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

  it('query() and queryPercentiles() - past maxSeries or maxPoints reject with E_QUERY_TOO_LARGE naming the limit', async () => {
    const { store, tenant } = await open({
      at: T + 2 * HOUR + 10 * MIN,
      queryLimits: { maxSeries: 5, maxPoints: 100 },
    });
    const { points } = fleetData(T);
    await store.write(toPoints(points, 'rps', tenant));
    const sk = new DDSketch();
    sk.add(1);
    await store.writeSketches(
      [0, 1, 2].map((i) => ({
        metric: 'lat',
        tags: { host: `h${i}` },
        ts: T + i,
        sketch: sk.encode(),
        tenant,
      })),
    );
    await store.flush();
    const q = { metric: 'rps', tenant, from: T, to: T + 2 * HOUR, resolution: '5m' as const };
    const e1 = await rejectsWith(store.query({ ...q, aggregate: 'sum' }), 'E_QUERY_TOO_LARGE');
    expect(e1.details).toMatchObject({ limit: 'maxQuerySeries', max: 5, requested: 12 });
    // 4 series × 24 slots = 96 points fits; 5 × 24 = 120 does not
    const five = 'tag:host=h0* and not tag:region=us-west and not tag:env=dev';
    const fits = await store.query({ ...q, aggregate: 'sum', where: `${five} and not tag:host=h09` });
    expect(fits[0]?.series).toBe(4);
    const e2 = await rejectsWith(store.query({ ...q, aggregate: 'sum', where: five }), 'E_QUERY_TOO_LARGE');
    expect(e2.details).toMatchObject({ limit: 'maxQueryPoints', max: 100, requested: 120 });
    const e3 = await rejectsWith(
      store.queryPercentiles({
        metric: 'lat',
        tenant,
        from: T0,
        to: T + 2 * HOUR,
        quantiles: [0.5],
        groupBy: [],
        step: M5,
      }),
      'E_QUERY_TOO_LARGE',
    );
    // 3 series × 36 five-minute steps
    expect(e3.details).toMatchObject({ limit: 'maxQueryPoints', max: 100, requested: 108 });
  });

  it('query() - where and the fleet fields are validated with the field and position at fault', async () => {
    const { store, tenant } = await open();
    const q = { metric: 'm', tenant, from: T0, to: T0 + HOUR };
    const bad: Array<[Record<string, unknown>, string, number?]> = [
      [{ where: 'tag:a=1 and (tag:b=2' }, 'query.where', 20],
      [{ where: 'tag:a=1 and state:running' }, 'query.where', 12],
      [{ where: 'localtag:a=1' }, 'query.where', 0],
      [{ where: 42 }, 'query.where'],
      [{ aggregate: 'median' }, 'query.aggregate'],
      [{ groupBy: ['region'] }, 'query.groupBy'],
      [{ aggregate: 'sum', groupBy: ['ok', 'bad key'] }, 'query.groupBy[1]'],
      [{ aggregate: 'sum', resolution: 'raw' }, 'query.resolution'],
      [{ aggregate: 'sum', limit: 0 }, 'query.limit'],
      [{ limit: 3 }, 'query.limit'],
      [{ aggregate: 'sum', order: 'up' }, 'query.order'],
    ];
    for (const [extra, path, position] of bad) {
      const e = await rejectsWith(store.query({ ...q, ...extra } as never), 'E_VALIDATION');
      expect(e.path, JSON.stringify(extra)).toBe(path);
      if (position !== undefined) expect(e.position, JSON.stringify(extra)).toBe(position);
    }
    const pq = { metric: 'm', tenant, from: T0, to: T0 + HOUR, quantiles: [0.5] };
    for (const [extra, path] of [
      [{ step: 1000 }, 'query.step'],
      [{ step: 7 * MIN }, 'query.step'],
      [{ where: 'name:web' }, 'query.where'],
      [{ groupBy: 'host' }, 'query.groupBy'],
    ] as const) {
      const e = await rejectsWith(store.queryPercentiles({ ...pq, ...extra } as never), 'E_VALIDATION');
      expect(e.path).toBe(path);
    }
    expect(await store.query({ ...q, aggregate: 'sum', where: 'tag:x=y' })).toEqual([]);
  });

  it('write() and writeSketches() - a batch changed by the caller while the write is pending is stored as validated', async () => {
    const { store, clock, tenant } = await open();
    const tags = { host: 'a' };
    const batch: Point[] = [
      { metric: 'cpu', tags, ts: T0 + 1000, value: 1, tenant },
      { metric: 'cpu', tags, ts: T0 + 2000, value: 2, tenant },
    ];
    const pending = store.write(batch);
    (batch[0] as Point).value = Number.NaN;
    (batch[0] as Point).ts = clock.now() + 365 * 86_400_000;
    tags.host = 'b';
    batch.push({ metric: 'cpu', tags, ts: T0 + 3000, value: 3, tenant });
    expect(await pending).toEqual({ accepted: 2 });
    const got = await store.query({ metric: 'cpu', tenant, from: T0, to: T0 + HOUR, resolution: 'raw' });
    expect(got).toEqual([
      {
        metric: 'cpu',
        tags: { host: 'a' },
        resolution: 'raw',
        points: [
          { ts: T0 + 1000, value: 1 },
          { ts: T0 + 2000, value: 2 },
        ],
      },
    ]);
    const sk = new DDSketch();
    for (const v of [1, 2, 3]) sk.add(v);
    const bytes = sk.encode();
    const sbatch: SketchPoint[] = [
      { metric: 'lat', tags: { host: 'a' }, ts: T0 + 1000, sketch: bytes, tenant },
    ];
    const spending = store.writeSketches(sbatch);
    bytes.fill(0);
    (sbatch[0] as SketchPoint).ts = Number.NaN;
    await spending;
    const res = await store.queryPercentiles({
      metric: 'lat',
      tenant,
      from: T0,
      to: T0 + HOUR,
      quantiles: [1],
    });
    expect(res[0]?.count).toBe(3);
    expect(res[0]?.max).toBe(3);
  });
}
