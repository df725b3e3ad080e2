import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DDSketch } from '../../src/metrics/sketch.js';
import {
  combineRaw,
  combineValues,
  decodeSketchAt,
  latestSketchRows,
  mergeSketches,
  percentileResult,
  rollup5mFromRaw,
  rollupFromChildren,
} from '../../src/metrics-store/rollup.js';
import {
  DirtySlots,
  expiresAt,
  isRetained,
  isSlotClosed,
  oldestRetained,
  parentResolution,
  slotEnd,
  slotStart,
  sourceResolution,
} from '../../src/metrics-store/rollup-slots.js';
import {
  addValue,
  emptyStats,
  mergeStats,
  statsFromRaw,
  statsFromRollupPoint,
  toRollupPoint,
} from '../../src/metrics-store/rollup-stats.js';
import { DEFAULT_RETENTION } from '../../src/metrics-store/types.js';
import { exactStats } from '../../src/testing/metrics-store-conformance.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function closeTo(a: number, b: number, rel = 1e-9): boolean {
  return Math.abs(a - b) <= Math.max(Math.abs(b) * rel, 1e-9);
}

describe('Welford statistics', () => {
  it('addValue() - matches two-pass statistics', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (xs) => {
          const s = emptyStats();
          for (const x of xs) addValue(s, x);
          const e = exactStats(xs);
          const p = toRollupPoint(0, s);
          expect(p.count).toBe(e.count);
          expect(p.min).toBe(e.min);
          expect(p.max).toBe(e.max);
          expect(p.last).toBe(e.last);
          expect(closeTo(p.mean, e.mean, 1e-9)).toBe(true);
          expect(Math.abs(p.variance - e.variance) <= 1e-6 * Math.max(1, e.variance)).toBe(true);
        },
      ),
    );
  });

  it('mergeStats() - merging any split equals accumulating the whole, last from the later part', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 0, maxLength: 100 }),
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 0, maxLength: 100 }),
        (a, b) => {
          const sa = emptyStats();
          for (const x of a) addValue(sa, x);
          const sb = emptyStats();
          for (const x of b) addValue(sb, x);
          mergeStats(sa, sb);
          const all = emptyStats();
          for (const x of [...a, ...b]) addValue(all, x);
          expect(sa.count).toBe(all.count);
          if (all.count === 0) return;
          expect(sa.min).toBe(all.min);
          expect(sa.max).toBe(all.max);
          expect(Object.is(sa.last, all.last)).toBe(true);
          expect(closeTo(sa.mean, all.mean, 1e-9)).toBe(true);
          expect(Math.abs(sa.m2 - all.m2) <= 1e-6 * Math.max(1, all.m2)).toBe(true);
        },
      ),
    );
  });

  it('variance stays accurate around a large offset (no catastrophic cancellation)', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => 1e9 + (i % 7));
    const parts = [xs.slice(0, 300), xs.slice(300, 650), xs.slice(650)];
    const s = emptyStats();
    for (const part of parts) {
      const p = emptyStats();
      for (const x of part) addValue(p, x);
      mergeStats(s, statsFromRollupPoint(toRollupPoint(0, p)));
    }
    expect(closeTo(s.m2 / s.count, exactStats(xs).variance, 1e-6)).toBe(true);
  });

  it('toRollupPoint() of empty stats has variance 0; statsFromRollupPoint() round-trips M2', () => {
    expect(toRollupPoint(5, emptyStats())).toMatchObject({ ts: 5, count: 0, variance: 0 });
    const s = statsFromRaw([
      { ts: 1, value: 2 },
      { ts: 2, value: 4 },
    ]);
    expect(statsFromRollupPoint(toRollupPoint(0, s))).toEqual(s);
  });
});

describe('slot math', () => {
  const t = Date.UTC(2025, 0, 15, 13, 47, 12, 345);
  it('slotStart()/slotEnd() - epoch-aligned UTC slots', () => {
    expect(new Date(slotStart(t, '5m')).toISOString()).toBe('2025-01-15T13:45:00.000Z');
    expect(new Date(slotEnd(t, '5m')).toISOString()).toBe('2025-01-15T13:50:00.000Z');
    expect(new Date(slotStart(t, '1h')).toISOString()).toBe('2025-01-15T13:00:00.000Z');
    expect(new Date(slotStart(t, '1d')).toISOString()).toBe('2025-01-15T00:00:00.000Z');
    expect(slotStart(-1, '5m')).toBe(-300_000);
  });

  it('sourceResolution()/parentResolution() - 5m ← raw, 1h ← 5m, 1d ← 1h', () => {
    expect([sourceResolution('5m'), sourceResolution('1h'), sourceResolution('1d')]).toEqual([
      'raw',
      '5m',
      '1h',
    ]);
    expect(['raw', '5m', '1h', '1d'].map((r) => parentResolution(r as 'raw'))).toEqual([
      '5m',
      '1h',
      '1d',
      undefined,
    ]);
  });

  it('isSlotClosed() - closed from the slot end on', () => {
    const s = slotStart(t, '1h');
    expect(isSlotClosed(s, '1h', s + HOUR - 1)).toBe(false);
    expect(isSlotClosed(s, '1h', s + HOUR)).toBe(true);
  });

  it('expiresAt()/isRetained()/oldestRetained() - whole slots expire together', () => {
    const r = DEFAULT_RETENTION;
    expect(expiresAt(t, 'raw', r)).toBe(slotEnd(t, '5m') + 7 * DAY);
    expect(expiresAt(t, '1h', r)).toBe(slotEnd(t, '1h') + 400 * DAY);
    const now = slotEnd(t, '5m') + 7 * DAY;
    expect(isRetained(t, 'raw', r, now - 1)).toBe(true);
    expect(isRetained(t, 'raw', r, now)).toBe(false);
    for (const res of ['raw', '5m', '1h', '1d'] as const) {
      const now2 = t + 1234;
      const oldest = oldestRetained(res, r, now2);
      expect(isRetained(oldest, res, r, now2)).toBe(true);
      expect(isRetained(oldest - 1, res, r, now2)).toBe(false);
    }
  });
});

describe('combining sources', () => {
  const v = (source: string, value: number, writtenAt: number, ts = 0) => ({ ts, value, source, writtenAt });
  it('combineValues() - each policy', () => {
    const vs = [v('a', 1, 3), v('b', 5, 1), v('c', 3, 2)];
    expect(combineValues('sum', vs)).toBe(9);
    expect(combineValues('min', vs)).toBe(1);
    expect(combineValues('max', vs)).toBe(5);
    expect(combineValues('avg', vs)).toBe(3);
    expect(combineValues('last', vs)).toBe(1);
    expect(combineValues('last', [v('a', 1, 3), v('b', 2, 3)])).toBe(2); // tie: greatest source
    expect(combineValues('sum', [])).toBeNaN();
  });

  it("combineRaw() - one point per ts, a source's latest write replacing its earlier ones", () => {
    const rows = [v('a', 1, 1, 20), v('b', 10, 2, 20), v('a', 2, 3, 20), v('a', 7, 4, 10)];
    expect(combineRaw(rows, 'sum')).toEqual([
      { ts: 10, value: 7 },
      { ts: 20, value: 12 },
    ]);
    expect(combineRaw(rows, 'last')).toEqual([
      { ts: 10, value: 7 },
      { ts: 20, value: 2 },
    ]);
  });
});

describe('rolling', () => {
  it('rollup5mFromRaw() - only the points inside the slot, in ts order', () => {
    const p = rollup5mFromRaw(0, [
      { ts: 200_000, value: 3 },
      { ts: 1000, value: 1 },
      { ts: 300_000, value: 100 },
    ]);
    expect(p).toMatchObject({ ts: 0, count: 2, sum: 4, last: 3 });
    expect(rollup5mFromRaw(0, [{ ts: 300_000, value: 1 }])).toBeUndefined();
  });

  it('rollupFromChildren() - merges children inside the slot in ts order', () => {
    const child = (ts: number, xs: number[]) =>
      toRollupPoint(ts, statsFromRaw(xs.map((value, i) => ({ ts: ts + i, value }))));
    const h = rollupFromChildren('1h', 0, [child(10 * MIN, [5, 6]), child(0, [1, 2]), child(HOUR, [99])]);
    expect(h).toMatchObject({ ts: 0, count: 4, sum: 14, min: 1, max: 6, last: 6 });
    expect(closeTo(h!.variance, exactStats([1, 2, 5, 6]).variance)).toBe(true);
    expect(rollupFromChildren('1d', 0, [])).toBeUndefined();
  });

  it('DirtySlots - hands out closed slots finest first and keeps open ones', () => {
    const d = new DirtySlots<string>();
    d.markRaw('s', 1000);
    d.markRaw('s', 2000);
    d.markRaw('s', 10 * MIN);
    d.markRaw('t', 1000);
    expect(d.size).toBe(3);
    expect(d.takeClosed('5m', 6 * MIN, new Set(['s']))).toEqual([{ series: 's', res: '5m', start: 0 }]);
    expect(d.takeClosed('5m', 6 * MIN)).toEqual([{ series: 't', res: '5m', start: 0 }]);
    expect(d.size).toBe(1);
    d.mark('s', '1h', 0);
    expect(d.takeClosed('1h', HOUR - 1)).toEqual([]);
    expect(d.takeClosed('1h', HOUR)).toEqual([{ series: 's', res: '1h', start: 0 }]);
    d.forget('s');
    expect(d.size).toBe(0);
  });
});

describe('sketch helpers', () => {
  const sk = (xs: number[], alpha?: number) => {
    const s = new DDSketch(alpha ? { relativeAccuracy: alpha } : {});
    for (const x of xs) s.add(x);
    return s;
  };

  it('mergeSketches() - merges bytes and sketches without mutating inputs', () => {
    const a = sk([1, 2, 3]);
    const m = mergeSketches([a, sk([10]).encode()]);
    expect(m).toMatchObject({ count: 4, sum: 16, min: 1, max: 10 });
    expect(a.count).toBe(3);
    expect(mergeSketches([])).toBeUndefined();
    expect(() => mergeSketches([sk([1]), sk([1], 0.05)])).toThrow(/relativeAccuracy/);
  });

  it('decodeSketchAt() - malformed bytes are E_VALIDATION at the path', () => {
    expect(decodeSketchAt(sk([4]).encode(), 'p').count).toBe(1);
    expect(() => decodeSketchAt(new Uint8Array([9, 9]), 'points[2].sketch')).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'points[2].sketch' }),
    );
  });

  it("latestSketchRows() - keeps each (ts, source)'s latest write", () => {
    const rows = [
      { ts: 1, source: 'a', writtenAt: 1, id: 1 },
      { ts: 1, source: 'a', writtenAt: 2, id: 2 },
      { ts: 1, source: 'b', writtenAt: 1, id: 3 },
    ];
    expect(
      latestSketchRows(rows)
        .map((r) => r.id)
        .sort(),
    ).toEqual([2, 3]);
  });

  it('percentileResult() - keys quantiles as written', () => {
    const r = percentileResult('m', { a: 'b' }, sk([1, 2, 3, 4]), [0.5, 0.99, 1]);
    expect(Object.keys(r.quantiles).sort()).toEqual(['0.5', '0.99', '1']);
    expect(r).toMatchObject({ metric: 'm', tags: { a: 'b' }, count: 4, sum: 10, min: 1, max: 4 });
  });
});
