import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseResolution, planCover } from '../../src/metrics-store/resolution.js';
import { oldestRetained, slotStart } from '../../src/metrics-store/rollup-slots.js';
import { DEFAULT_RETENTION, RESOLUTION_MS, type Retention } from '../../src/metrics-store/types.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 15, 12, 34, 56);
const R = DEFAULT_RETENTION;

describe('chooseResolution()', () => {
  it('picks the resolution whose point count is geometrically closest to the wanted one', () => {
    const c = (span: number, points?: number) =>
      chooseResolution({ from: NOW - span, to: NOW, now: NOW, retention: R, ...(points ? { points } : {}) });
    expect(c(HOUR)).toBe('raw'); // 120 raw vs 12 5m
    expect(c(6 * HOUR)).toBe('raw'); // 720 raw (1.8) vs 72 5m (5.6)
    expect(c(DAY)).toBe('5m'); // 2880 raw (7.2) vs 288 5m (1.39)
    expect(c(7 * DAY - HOUR)).toBe('1h'); // 2004 5m (5.0) vs 167 1h (2.4)
    expect(c(20 * DAY)).toBe('1h'); // 5m not retained? it is (30 d): 5760 (14.4) vs 480 1h (1.2)
    expect(c(300 * DAY)).toBe('1d'); // 7200 1h (18) vs 300 1d (1.33)
    expect(c(2 * DAY, 48)).toBe('1h');
    expect(c(DAY, 100_000)).toBe('raw');
  });

  it('skips resolutions whose retention no longer covers from', () => {
    const from = NOW - 8 * DAY;
    expect(chooseResolution({ from, to: from + HOUR, now: NOW, retention: R })).toBe('5m');
    const from2 = NOW - 500 * DAY;
    expect(chooseResolution({ from: from2, to: from2 + HOUR, now: NOW, retention: R })).toBe('1d');
    expect(chooseResolution({ from: NOW - 10 * 365 * DAY, to: NOW, now: NOW, retention: R })).toBe('1d');
    const odd: Retention = { raw: DAY, '5m': DAY, '1h': 2 * DAY, '1d': 2 * DAY };
    expect(chooseResolution({ from: NOW - 10 * DAY, to: NOW, now: NOW, retention: odd })).toBe('1d');
  });

  it('honours rawIntervalMs', () => {
    expect(
      chooseResolution({ from: NOW - DAY, to: NOW, now: NOW, retention: R, rawIntervalMs: 300_000 }),
    ).toBe('5m');
    expect(
      chooseResolution({ from: NOW - 2 * DAY, to: NOW, now: NOW, retention: R, rawIntervalMs: 300_000 }),
    ).toBe('5m');
  });
});

describe('planCover()', () => {
  it('uses whole closed days in the middle, hours and 5m towards the edges, raw at the ends', () => {
    const from = Date.UTC(2025, 5, 10, 3, 17, 5);
    const plan = planCover({ from, to: NOW, now: NOW, retention: R });
    expect(plan.map((s) => s.res)).toEqual(['raw', '5m', '1h', '1d', '1h', '5m', 'raw']);
    expect(plan[0]).toEqual({ res: 'raw', from, to: Date.UTC(2025, 5, 10, 3, 20) });
    expect(plan[3]).toEqual({ res: '1d', from: Date.UTC(2025, 5, 11), to: Date.UTC(2025, 5, 15) });
    // 14 days back the raw edge has expired: the whole 5m slot is used instead
    const old = planCover({ from: Date.UTC(2025, 5, 1, 3, 17, 5), to: NOW, now: NOW, retention: R });
    expect(old[0]).toEqual({ res: '5m', from: Date.UTC(2025, 5, 1, 3, 15), to: Date.UTC(2025, 5, 1, 4) });
    expect(plan[6]).toEqual({ res: 'raw', from: Date.UTC(2025, 5, 15, 12, 30), to: NOW });
  });

  it('open slots near now are read from finer data', () => {
    const plan = planCover({ from: NOW - 2 * HOUR, to: NOW + HOUR, now: NOW, retention: R });
    // the current hour and 5m slot are open
    expect(plan.at(-1)).toEqual({ res: 'raw', from: slotStart(NOW, '5m'), to: NOW + HOUR });
    expect(plan.some((s) => s.res === '1h' && s.to > slotStart(NOW, '1h'))).toBe(false);
  });

  it('segments are contiguous, in order, and cover [from, to) exactly while finer data is retained', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 * DAY }),
        fc.integer({ min: 1, max: 6 * DAY }),
        (back, span) => {
          const from = NOW - back;
          const to = from + span;
          const plan = planCover({ from, to, now: NOW, retention: R });
          expect(plan[0]?.from).toBe(from);
          expect(plan.at(-1)?.to).toBe(to);
          for (let i = 1; i < plan.length; i++) expect(plan[i]?.from).toBe(plan[i - 1]?.to);
          for (const s of plan) {
            expect(s.to).toBeGreaterThan(s.from);
            if (s.res !== 'raw') {
              const w = RESOLUTION_MS[s.res];
              expect(s.from % w).toBe(0);
              expect(s.to % w).toBe(0);
              expect(s.to).toBeLessThanOrEqual(slotStart(NOW, s.res)); // closed slots only
            }
          }
        },
      ),
    );
  });

  it('an old unaligned edge whose finer data expired is served by the whole coarser slot', () => {
    const from = Date.UTC(2025, 3, 1, 5, 20); // ~75 days back: raw and 5m gone, 1h kept
    const plan = planCover({ from, to: NOW, now: NOW, retention: R });
    expect(plan[0]).toEqual({ res: '1h', from: Date.UTC(2025, 3, 1, 5), to: Date.UTC(2025, 3, 2) });
    expect(oldestRetained('5m', R, NOW)).toBeGreaterThan(from);
  });

  it('an empty range has an empty plan', () => {
    expect(planCover({ from: NOW, to: NOW, now: NOW, retention: R })).toEqual([]);
    expect(planCover({ from: NOW - MIN, to: NOW, now: NOW, retention: R })).toEqual([
      { res: 'raw', from: NOW - MIN, to: NOW },
    ]);
  });
});
