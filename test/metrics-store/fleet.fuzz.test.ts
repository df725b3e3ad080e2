/**
 * Fleet queries, property-tested on random data (memory store): aggregating in the store equals
 * querying every series' rollups and aggregating them by hand; `where` text never blocks and fails
 * only with E_VALIDATION at a position inside the text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import type { FleetAggregate, RollupPoint, Series } from '../../src/metrics-store/types.js';
import { compileWhere } from '../../src/metrics-store/where.js';
import { FakeClock } from '../../src/testing/metrics-store-conformance.js';
import { fuzzParams, withinTimeBound } from '../helpers/fuzz.js';

const HOUR = 3_600_000;
const M5 = 300_000;
const T = Math.floor(Date.now() / 86_400_000) * 86_400_000;

const seriesArb = fc.array(
  fc.record({
    grp: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
    points: fc.uniqueArray(
      fc.record({ ts: fc.integer({ min: 0, max: HOUR - 1 }), value: fc.integer({ min: -1000, max: 1000 }) }),
      { selector: (p) => p.ts, minLength: 1, maxLength: 40 },
    ),
  }),
  { minLength: 1, maxLength: 6 },
);

/** Combine per-series rollup points of one group and slot by hand. */
function byHand(
  a: FleetAggregate,
  slot: RollupPoint[],
  prev: (RollupPoint | undefined)[],
): number | undefined {
  switch (a) {
    case 'sum':
      return slot.reduce((s, p) => s + p.sum, 0);
    case 'count':
      return slot.reduce((s, p) => s + p.count, 0);
    case 'avg':
      return slot.reduce((s, p) => s + p.sum, 0) / slot.reduce((s, p) => s + p.count, 0);
    case 'min':
      return Math.min(...slot.map((p) => p.min));
    case 'max':
      return Math.max(...slot.map((p) => p.max));
    default: {
      let n = 0;
      let v = 0;
      slot.forEach((p, i) => {
        const q = prev[i];
        if (q === undefined) return;
        n++;
        // a counter reset shows as last or min below the previous last: count from zero
        const increase = p.last < q.last || p.min < q.last ? p.last : p.last - q.last;
        v += a === 'rate' ? increase / 300 : p.last - q.last;
      });
      return n > 0 ? v : undefined;
    }
  }
}

describe('fleet queries (property)', () => {
  it('query({ aggregate, groupBy }) - equals querying every series and aggregating by hand', async () => {
    await fc.assert(
      fc.asyncProperty(
        seriesArb,
        fc.constantFrom<FleetAggregate>('sum', 'count', 'avg', 'min', 'max', 'rate', 'delta'),
        async (series, aggregate) => {
          const store = new MemoryMetricsStore({
            maintenanceIntervalMs: 0,
            clock: new FakeClock(T + HOUR + M5),
          });
          await store.write(
            series.flatMap((s, i) =>
              s.points.map((p) => ({
                metric: 'm',
                tags: { host: `h${i}`, ...(s.grp ? { grp: s.grp } : {}) },
                ts: T + p.ts,
                value: p.value,
              })),
            ),
          );
          await store.flush();
          const q = { metric: 'm', from: T, to: T + HOUR, resolution: '5m' as const };
          const got = await store.query({ ...q, aggregate, groupBy: ['grp'] });
          const all = (await store.query(q)) as Array<Series & { points: RollupPoint[] }>;
          const want = new Map<string, { ts: number; value: number }[]>();
          const groups = new Map<string, typeof all>();
          for (const s of all) {
            const k = JSON.stringify(s.tags.grp === undefined ? {} : { grp: s.tags.grp });
            groups.set(k, [...(groups.get(k) ?? []), s]);
          }
          for (const [k, members] of groups) {
            const pts: { ts: number; value: number }[] = [];
            for (let t = T; t < T + HOUR; t += M5) {
              const slot: RollupPoint[] = [];
              const prev: (RollupPoint | undefined)[] = [];
              for (const s of members) {
                const p = s.points.find((x) => x.ts === t);
                if (p === undefined) continue;
                slot.push(p);
                prev.push(s.points.find((x) => x.ts === t - M5));
              }
              if (slot.length === 0) continue;
              const v = byHand(aggregate, slot, prev);
              if (v !== undefined) pts.push({ ts: t, value: v });
            }
            if (pts.length > 0) want.set(k, pts);
          }
          expect(got.map((g) => JSON.stringify(g.tags)).sort()).toEqual([...want.keys()].sort());
          for (const g of got) {
            const w = want.get(JSON.stringify(g.tags)) ?? [];
            expect(g.points.map((p) => p.ts)).toEqual(w.map((p) => p.ts));
            g.points.forEach((p, i) => {
              expect(p.value).toBeCloseTo((w[i] as { value: number }).value, 9);
            });
          }
          await store.close();
        },
      ),
      fuzzParams(60),
    );
  });

  it('compileWhere() - any text compiles or fails with E_VALIDATION at a position inside it, quickly', () => {
    const alphabet = fc.constantFrom(...'tag:=*() andornot"\\region-us.x1 state:name:localtag'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 200 }), (text) => {
        withinTimeBound(() => {
          try {
            const sel = compileWhere(text, 'query.where');
            sel.matches({ region: 'us-east', x1: 'a' });
          } catch (err) {
            expect(err).toBeInstanceOf(FleetwatchError);
            const e = err as FleetwatchError;
            expect(e.code).toBe('E_VALIDATION');
            expect(e.path).toBe('query.where');
            expect(e.position).toBeGreaterThanOrEqual(0);
            expect(e.position).toBeLessThanOrEqual(text.length);
          }
        });
      }),
      fuzzParams(300),
    );
  });

  it('compileWhere() - a 1 MiB-class wildcard pattern against long tag values stays linear', () => {
    const sel = compileWhere(`tag:k=${'a*'.repeat(2000)}b`, 'query.where');
    const value = 'a'.repeat(200);
    withinTimeBound(() => expect(sel.matches({ k: value })).toBe(false));
  });
});
