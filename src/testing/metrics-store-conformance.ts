/**
 * The conformance suite every {@link MetricsStore} must pass. Memory runs it from
 * `test/metrics-store/memory.test.ts`; Cassandra runs it against a real node.
 *
 * ```ts
 * metricsStoreConformance('CassandraMetricsStore', async ({ retention, clock }) =>
 *   CassandraMetricsStore.connect({ ...connection, retention, clock }));
 * ```
 *
 * What a store must do to run it:
 * - accept `retention` (partial, merged over the defaults) and an injectable `clock`, and use that
 *   clock for everything time-dependent: the write window, which slots are closed, retention on read
 *   (data whose `expiresAt(ts, res, retention)` is `<= clock.now()` is not returned, even if its TTL
 *   has not physically run out yet) and the `auto` choice;
 * - `flush()` must leave the rollups of every slot closed at `clock.now()` up to date.
 *
 * Every test uses its own random tenant (and the few that need the default tenant a random metric),
 * so the suite can run against a persistent Cassandra repeatedly. Data volumes are small, except for
 * the one 100k-point batch. Fake time starts at the current UTC midnight, so TTLs computed from the
 * fake clock stay positive.
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../core.js';
import { FleetwatchError } from '../errors.js';
import { DDSketch } from '../metrics/sketch.js';
import { chooseResolution } from '../metrics-store/resolution.js';
import type {
  CombinePolicy,
  MetricsStore,
  Point,
  RawPoint,
  Retention,
  RollupPoint,
  Series,
  SketchPoint,
} from '../metrics-store/types.js';
import { DEFAULT_RETENTION } from '../metrics-store/types.js';
import { fleetQueryCases } from './metrics-store-fleet-cases.js';
import { seededRandom } from './random.js';

/** What the suite passes to `make`. */
export interface ConformanceStoreOptions {
  retention?: Partial<Retention>;
  clock?: Clock;
  /** The store's query-cost guard, when a test sets one (series and points per query). */
  queryLimits?: { maxSeries?: number; maxPoints?: number };
}

/** Builds a fresh store for one test. */
export type MakeMetricsStore = (opts: ConformanceStoreOptions) => Promise<MetricsStore>;

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const M5 = 5 * MIN;

/** A settable clock. */
export class FakeClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Independent, straightforward two-pass statistics of values given in ts order. */
export function exactStats(values: readonly number[]): Omit<RollupPoint, 'ts'> {
  const count = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / count;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return {
    count,
    sum,
    min: Math.min(...values),
    max: Math.max(...values),
    mean,
    variance: sq / count,
    last: values[values.length - 1] as number,
  };
}

function close(actual: number, expected: number, what: string, rel = 1e-9): void {
  const tol = Math.max(Math.abs(expected) * rel, 1e-9);
  if (!(Math.abs(actual - expected) <= tol)) {
    expect.fail(`${what}: expected ${expected} (±${tol}), got ${actual}`);
  }
}

/** Assert a rollup point equals exact statistics of `values` (ts-ordered). */
export function expectRollup(
  p: RollupPoint | undefined,
  ts: number,
  values: readonly number[],
  what = 'rollup',
): void {
  expect(p, `${what} at ${new Date(ts).toISOString()}`).toBeDefined();
  const e = exactStats(values);
  const r = p as RollupPoint;
  expect(r.ts, `${what}.ts`).toBe(ts);
  expect(r.count, `${what}.count`).toBe(e.count);
  close(r.sum, e.sum, `${what}.sum`);
  expect(r.min, `${what}.min`).toBe(e.min);
  expect(r.max, `${what}.max`).toBe(e.max);
  close(r.mean, e.mean, `${what}.mean`);
  close(r.variance, e.variance, `${what}.variance`, 1e-7);
  expect(r.last, `${what}.last`).toBe(e.last);
}

/** Points of the only series in `series` (fails when there is not exactly one, or at another resolution). */
function only(series: Series[], res: 'raw'): RawPoint[];
function only(series: Series[], res: '5m' | '1h' | '1d'): RollupPoint[];
function only(series: Series[], res: Series['resolution']): RawPoint[] | RollupPoint[] {
  expect(series).toHaveLength(1);
  const s = series[0] as Series;
  expect(s.resolution).toBe(res);
  return s.points;
}

function byTags(series: Series[]): Series[] {
  return [...series].sort((a, b) => JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)));
}

async function expectError(promise: Promise<unknown>, code: string, path?: string): Promise<FleetwatchError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    const e = err as FleetwatchError;
    expect(e.code, e.message).toBe(code);
    if (path !== undefined) expect(e.path, e.message).toBe(path);
    return e;
  }
  return expect.fail(`expected a ${code} rejection${path ? ` at ${path}` : ''}`);
}

/** The exact q-quantile as DDSketch defines it: the value of rank ⌊q·(n−1)⌋ in sorted order. */
export function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

/** A standard-normal sample from two uniforms (Box–Muller). */
function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** A sketch of `values` (default options, or those given) and its encoding. */
function sketchOf(
  values: readonly number[],
  options?: { scale?: number; relativeAccuracy?: number },
): Uint8Array {
  const s = new DDSketch(options);
  for (const v of values) s.add(v);
  return s.encode();
}

let tenantSeq = 0;
/** A tenant name unique to this run and test. */
export function uniqueTenant(): string {
  tenantSeq++;
  return `cf_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9).toString(36)}_${tenantSeq}`;
}

/**
 * Register the conformance suite for a store.
 *
 * @param name    the describe name (e.g. `'MemoryMetricsStore'`)
 * @param make    builds a fresh store using the given retention and clock; called once or more per test
 * @param cleanup called after each test with every store it made (already closed by the suite)
 */
export function metricsStoreConformance(
  name: string,
  make: MakeMetricsStore,
  cleanup?: (store: MetricsStore) => Promise<void>,
): void {
  describe(`MetricsStore conformance: ${name}`, () => {
    const opened: MetricsStore[] = [];
    /** Midnight UTC today: day-aligned, so every slot boundary below is predictable. */
    const T0 = Math.floor(Date.now() / DAY) * DAY;

    async function open(
      opts: {
        retention?: Partial<Retention>;
        at?: number;
        queryLimits?: { maxSeries?: number; maxPoints?: number };
      } = {},
    ) {
      const clock = new FakeClock(opts.at ?? T0 + MIN);
      const store = await make({
        clock,
        ...(opts.retention ? { retention: opts.retention } : {}),
        ...(opts.queryLimits ? { queryLimits: opts.queryLimits } : {}),
      });
      opened.push(store);
      return { store, clock, tenant: uniqueTenant() };
    }

    afterEach(async () => {
      const stores = opened.splice(0);
      for (const s of stores) {
        await s.close().catch(() => {});
        if (cleanup) await cleanup(s);
      }
    });

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

    describe('rollups', () => {
      it('query(5m) - closed slots carry count, sum, min, max, mean, variance and last of their raw values', async () => {
        const { store, clock, tenant } = await open();
        const r = seededRandom(1);
        clock.set(T0 + 15 * MIN);
        const points: Point[] = [];
        for (let i = 0; i < 90; i++) {
          points.push({
            metric: 'lat',
            tags: { h: 'a' },
            ts: T0 + Math.floor(r() * 15 * MIN),
            value: r() * 100 - 20,
            tenant,
          });
        }
        // make timestamps unique (one value per ts, like a single source)
        const seen = new Set<number>();
        const uniq = points.filter((p) => {
          if (seen.has(p.ts)) return false;
          seen.add(p.ts);
          return true;
        });
        await store.write(uniq);
        clock.set(T0 + 16 * MIN);
        await store.flush();
        const got = only(
          await store.query({ metric: 'lat', from: T0, to: T0 + 15 * MIN, resolution: '5m', tenant }),
          '5m',
        );
        expect(got.map((p) => p.ts)).toEqual([T0, T0 + M5, T0 + 2 * M5]);
        for (const p of got) {
          const vals = uniq
            .filter((x) => x.ts >= p.ts && x.ts < p.ts + M5)
            .sort((a, b) => a.ts - b.ts)
            .map((x) => x.value);
          expectRollup(p, p.ts, vals, '5m');
        }
      });

      it('query(1h) and query(1d) - rollups of rollups equal exact statistics of all raw values', async () => {
        const { store, clock, tenant } = await open();
        const r = seededRandom(2);
        clock.set(T0 + 2 * DAY);
        const points: Point[] = [];
        // two days, ~2 points per 5 minutes at random offsets, values with a large offset (variance stability)
        for (let slot = 0; slot < 2 * 288; slot++) {
          const a = Math.floor(r() * 150_000);
          const b = 150_000 + Math.floor(r() * 150_000);
          for (const off of [a, b])
            points.push({ metric: 'temp', ts: T0 + slot * M5 + off, value: 1e6 + r() * 10, tenant });
        }
        for (let i = 0; i < points.length; i += 400) await store.write(points.slice(i, i + 400));
        clock.set(T0 + 2 * DAY + MIN);
        await store.flush();
        const values = (from: number, to: number) =>
          points.filter((p) => p.ts >= from && p.ts < to).map((p) => p.value);
        const hours = only(
          await store.query({ metric: 'temp', from: T0, to: T0 + 2 * DAY, resolution: '1h', tenant }),
          '1h',
        );
        expect(hours).toHaveLength(48);
        for (const h of hours) expectRollup(h, h.ts, values(h.ts, h.ts + HOUR), '1h');
        const days = only(
          await store.query({ metric: 'temp', from: T0, to: T0 + 2 * DAY, resolution: '1d', tenant }),
          '1d',
        );
        expect(days.map((d) => d.ts)).toEqual([T0, T0 + DAY]);
        for (const d of days) expectRollup(d, d.ts, values(d.ts, d.ts + DAY), '1d');
        const fives = only(
          await store.query({ metric: 'temp', from: T0, to: T0 + 2 * DAY, resolution: '5m', tenant }),
          '5m',
        );
        expect(fives).toHaveLength(576);
        expectRollup(fives[100], T0 + 100 * M5, values(T0 + 100 * M5, T0 + 101 * M5), '5m');
      });

      it('query(5m) - a rollup slot is included when its start lies in [from, to)', async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + HOUR);
        await store.write([0, 6, 11, 16].map((m) => ({ metric: 'b', ts: T0 + m * MIN, value: m, tenant })));
        await store.flush();
        const got = only(
          await store.query({ metric: 'b', from: T0 + 3 * MIN, to: T0 + 15 * MIN, resolution: '5m', tenant }),
          '5m',
        );
        expect(got.map((p) => p.ts)).toEqual([T0 + M5, T0 + 2 * M5]);
      });

      it('flush() - a late point marks its closed slot dirty and every level is rolled again', async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 10 * MIN);
        await store.write([
          { metric: 'late', ts: T0 + MIN, value: 10, tenant },
          { metric: 'late', ts: T0 + 3 * MIN, value: 20, tenant },
        ]);
        clock.set(T0 + DAY + HOUR);
        await store.flush();
        const q = { metric: 'late', from: T0, to: T0 + DAY, tenant };
        expectRollup(only(await store.query({ ...q, resolution: '5m' }), '5m')[0], T0, [10, 20], '5m before');
        expectRollup(only(await store.query({ ...q, resolution: '1d' }), '1d')[0], T0, [10, 20], '1d before');
        // a late point in the middle of the closed 5m slot, and one in another hour of the same day
        await store.write([
          { metric: 'late', ts: T0 + 2 * MIN, value: 40, tenant },
          { metric: 'late', ts: T0 + 5 * HOUR, value: -6, tenant },
        ]);
        await store.flush();
        expectRollup(
          only(await store.query({ ...q, resolution: '5m' }), '5m')[0],
          T0,
          [10, 40, 20],
          '5m after',
        );
        const h = only(await store.query({ ...q, resolution: '1h' }), '1h');
        expect(h.map((p) => p.ts)).toEqual([T0, T0 + 5 * HOUR]);
        expectRollup(h[0], T0, [10, 40, 20], '1h after');
        expectRollup(
          only(await store.query({ ...q, resolution: '1d' }), '1d')[0],
          T0,
          [10, 40, 20, -6],
          '1d after',
        );
      });

      it('flush() - rolls only closed slots: an open slot has no rollup yet', async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 2 * MIN);
        await store.write([{ metric: 'open', ts: T0 + MIN, value: 1, tenant }]);
        await store.flush();
        expect(
          await store.query({ metric: 'open', from: T0, to: T0 + HOUR, resolution: '5m', tenant }),
        ).toEqual([]);
        clock.set(T0 + M5);
        await store.flush();
        expectRollup(
          only(
            await store.query({ metric: 'open', from: T0, to: T0 + HOUR, resolution: '5m', tenant }),
            '5m',
          )[0],
          T0,
          [1],
        );
      });
    });

    describe("resolution 'auto'", () => {
      it("query(auto) - picks Blueflood's geometric choice among retained resolutions", async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 2 * DAY);
        const points: Point[] = [];
        for (let t = T0; t < T0 + 2 * DAY; t += 2 * MIN)
          points.push({ metric: 'auto', ts: t, value: t / MIN, tenant });
        for (let i = 0; i < points.length; i += 500) await store.write(points.slice(i, i + 500));
        const now = T0 + 2 * DAY + 30 * MIN;
        clock.set(now);
        await store.flush();
        const cases: Array<[number, number, number | undefined, string]> = [
          [T0 + DAY, T0 + DAY + 2 * HOUR, undefined, 'raw'], // 240 raw vs 24 5m points
          [T0, T0 + DAY, undefined, '5m'], // 288 5m points
          [T0 + 2 * DAY - 30 * DAY, T0 + 2 * DAY, undefined, '1h'], // 720 hourly points
          [T0 + 2 * DAY - 730 * DAY, T0 + 2 * DAY, undefined, '1d'], // only 1d still covers from
          [T0, T0 + 2 * DAY, 48, '1h'],
        ];
        for (const [from, to, points, want] of cases) {
          const q = { metric: 'auto', from, to, tenant, ...(points ? { points } : {}) };
          expect(
            chooseResolution({ from, to, now, retention: DEFAULT_RETENTION, ...(points ? { points } : {}) }),
          ).toBe(want);
          const series = await store.query({ ...q, resolution: 'auto' });
          expect(
            series.map((s) => s.resolution),
            `auto for ${(to - from) / HOUR} h`,
          ).toEqual([want]);
          expect(await store.query(q)).toEqual(series); // auto is the default
        }
      });

      it('query(auto) - skips raw once it no longer covers from', async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 2 * HOUR);
        await store.write([{ metric: 'old', ts: T0 + MIN, value: 3, tenant }]);
        clock.set(T0 + 8 * DAY);
        await store.flush();
        const series = await store.query({ metric: 'old', from: T0, to: T0 + 2 * HOUR, tenant });
        expect(series.map((s) => s.resolution)).toEqual(['5m']);
      });
    });

    describe('retention', () => {
      it('query() - raw points expire after the raw retention while their rollups remain', async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 10 * MIN);
        await store.write([{ metric: 'ret', ts: T0 + MIN, value: 5, tenant }]);
        const q = { metric: 'ret', from: T0, to: T0 + DAY, tenant };
        clock.set(T0 + 7 * DAY - MIN);
        await store.flush();
        expect(only(await store.query({ ...q, resolution: 'raw' }), 'raw')).toEqual([
          { ts: T0 + MIN, value: 5 },
        ]);
        clock.set(T0 + 7 * DAY + M5);
        await store.flush();
        expect(await store.query({ ...q, resolution: 'raw' })).toEqual([]);
        expectRollup(only(await store.query({ ...q, resolution: '5m' }), '5m')[0], T0, [5]);
        expectRollup(only(await store.query({ ...q, resolution: '1d' }), '1d')[0], T0, [5]);
      });

      it('query() - each resolution honours a configured retention', async () => {
        const retention = { raw: 2 * HOUR, '5m': 1 * DAY, '1h': 3 * DAY, '1d': 10 * DAY };
        const { store, clock, tenant } = await open({ retention });
        clock.set(T0 + 10 * MIN);
        await store.write([{ metric: 'ret2', ts: T0 + MIN, value: 7, tenant }]);
        const q = { metric: 'ret2', from: T0, to: T0 + DAY, tenant };
        const present = async () => {
          const out: string[] = [];
          for (const res of ['raw', '5m', '1h', '1d'] as const) {
            if ((await store.query({ ...q, resolution: res })).length > 0) out.push(res);
          }
          return out;
        };
        clock.set(T0 + DAY + 10 * MIN);
        await store.flush();
        // raw is gone (2 h), 5m too (its slot ended at T0+5m, +1 d), 1h and 1d remain
        expect(await present()).toEqual(['1h', '1d']);
        clock.set(T0 + 3 * DAY + HOUR);
        await store.flush();
        expect(await present()).toEqual(['1d']);
        clock.set(T0 + 11 * DAY);
        await store.flush();
        expect(await present()).toEqual([]);
      });

      it('write() - rejects points older than the raw retention or more than 10 minutes ahead', async () => {
        const { store, clock, tenant } = await open({ retention: { raw: DAY } });
        const now = T0 + 2 * DAY;
        clock.set(now);
        await expectError(
          store.write([{ metric: 'w', ts: now - DAY - 1, value: 1, tenant }]),
          'E_VALIDATION',
          'points[0].ts',
        );
        await expectError(
          store.write([
            { metric: 'w', ts: now, value: 1, tenant },
            { metric: 'w', ts: now + 10 * MIN + 1, value: 1, tenant },
          ]),
          'E_VALIDATION',
          'points[1].ts',
        );
        expect(
          await store.write([
            { metric: 'w', ts: now - DAY, value: 1, tenant },
            { metric: 'w', ts: now + 10 * MIN, value: 2, tenant },
          ]),
        ).toEqual({ accepted: 2 });
      });
    });

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
        expect(
          only(await store.query({ metric, from: T0, to: T0 + HOUR, resolution: 'raw' }), 'raw'),
        ).toEqual([{ ts: T0 + MIN, value: 9 }]);
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
          only(
            await store.query({ metric: 'dup', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }),
            'raw',
          ),
        ).toEqual([{ ts: T0, value: 2 }]);
      });

      it("write() - the combine policy is recorded at a series' first write", async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 10 * MIN);
        await store.write([{ metric: 'pol', ts: T0, value: 1, tenant }], { source: 'a', combine: 'sum' });
        await store.write([{ metric: 'pol', ts: T0, value: 2, tenant }], { source: 'b', combine: 'max' });
        expect(
          only(
            await store.query({ metric: 'pol', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }),
            'raw',
          ),
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
          store.writeSketches([
            at(sketchOf([1], { scale: 4 })),
            at(sketchOf([1], { relativeAccuracy: 0.05 })),
          ]),
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

    describe('fleet queries', () => {
      fleetQueryCases(open, T0);
    });

    describe('lifecycle', () => {
      it('close() - later calls fail with E_CLOSED; close() again is fine', async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 10 * MIN);
        await store.write([{ metric: 'c', ts: T0, value: 1, tenant }]);
        await store.close();
        await store.close();
        await expectError(store.write([{ metric: 'c', ts: T0, value: 1, tenant }]), 'E_CLOSED');
        await expectError(store.query({ metric: 'c', from: T0, to: T0 + HOUR, tenant }), 'E_CLOSED');
        await expectError(store.listMetrics(tenant), 'E_CLOSED');
        await expectError(store.listSeries('c', undefined, tenant), 'E_CLOSED');
        await expectError(store.flush(), 'E_CLOSED');
        await expectError(store.writeSketches([]), 'E_CLOSED');
        await expectError(
          store.queryPercentiles({ metric: 'c', from: T0, to: T0 + HOUR, quantiles: [0.5], tenant }),
          'E_CLOSED',
        );
      });

      it('write() and query() - an aborted signal rejects with E_ABORTED', async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 10 * MIN);
        const ac = new AbortController();
        ac.abort();
        await expectError(
          store.write([{ metric: 'ab', ts: T0, value: 1, tenant }], { signal: ac.signal }),
          'E_ABORTED',
        );
        await expectError(
          store.query({ metric: 'ab', from: T0, to: T0 + HOUR, tenant, signal: ac.signal }),
          'E_ABORTED',
        );
        await expectError(store.flush({ signal: ac.signal }), 'E_ABORTED');
        expect(
          await store.query({ metric: 'ab', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }),
        ).toEqual([]);
      });

      it('flush() - resolves with nothing buffered', async () => {
        const { store } = await open();
        await expect(store.flush()).resolves.toBeUndefined();
      });
    });
  });
}
