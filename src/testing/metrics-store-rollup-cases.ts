import { describe, expect, it } from 'vitest';
import { chooseResolution } from '../metrics-store/resolution.js';
import type { Point } from '../metrics-store/types.js';
import { DEFAULT_RETENTION } from '../metrics-store/types.js';
import { DAY, expectError, expectRollup, HOUR, M5, MIN, type OpenStore, only } from './conformance-kit.js';
import { seededRandom } from './random.js';

/** Register the rollup, `resolution: 'auto'` and retention cases of the MetricsStore conformance suite. */
export function rollupCases(open: OpenStore, T0: number): void {
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
}
