import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import { DDSketch, decodeSketch } from '../../src/metrics/sketch.js';

/** The rank the sketch promises: the value at index ⌊q·(n−1)⌋ of the sorted values. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const QS = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

function expectWithin(actual: number, expected: number, alpha: number): void {
  const tolerance = alpha * Math.abs(expected) * (1 + 1e-9) + 1e-300;
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance);
}

function checkAgainstExact(sketch: DDSketch, values: readonly number[], alpha: number): void {
  const sorted = [...values].sort((a, b) => a - b);
  expect(sketch.count).toBe(values.length);
  expect(sketch.min).toBe(sorted[0]);
  expect(sketch.max).toBe(sorted[sorted.length - 1]);
  for (const q of QS) expectWithin(sketch.quantile(q), exactQuantile(sorted, q), alpha);
}

/** Finite doubles of mixed sign and wide but bounded magnitude (1e-6 .. 1e9), zeros included. */
const value = fc.oneof(
  fc.double({ min: 1e-6, max: 1e9, noNaN: true }),
  fc.double({ min: -1e9, max: -1e-6, noNaN: true }),
  fc.constant(0),
  fc.integer({ min: -1000, max: 1000 }),
);

/** Any finite double, extremes included (sums may overflow to Infinity). */
const anyFinite = fc.double({ noNaN: true, noDefaultInfinity: true });

describe('DDSketch', () => {
  it('answers within 1% of the exact quantiles for a known data set', () => {
    const s = new DDSketch();
    const values: number[] = [];
    for (let i = 1; i <= 1000; i++) {
      values.push(i);
      s.add(i);
    }
    expect(s.count).toBe(1000);
    expect(s.sum).toBe(500500);
    expect(s.min).toBe(1);
    expect(s.max).toBe(1000);
    // p50 of 1..1000 at rank ⌊0.5·999⌋ = 499 is 500.
    expect(Math.abs(s.quantile(0.5) - 500)).toBeLessThanOrEqual(5);
    expect(Math.abs(s.quantile(0.99) - 990)).toBeLessThanOrEqual(9.9);
    checkAgainstExact(s, values, 0.01);
  });

  it('is empty-safe: NaN quantiles, min and max', () => {
    const s = new DDSketch();
    expect(s.count).toBe(0);
    expect(s.quantile(0.5)).toBeNaN();
    expect(s.min).toBeNaN();
    expect(s.max).toBeNaN();
    expect(s.sum).toBe(0);
  });

  it('handles negatives, zeros and positives in one sketch', () => {
    const s = new DDSketch();
    const values = [-30, -20, -10, 0, 0, 1, 2, 3];
    for (const v of values) s.add(v);
    expect(s.quantile(0)).toBe(-30);
    expect(s.quantile(1)).toBe(3);
    expect(s.min).toBe(-30);
    expect(s.sum).toBe(-54);
    checkAgainstExact(s, values, 0.01);
  });

  it('merges negative stores (the sketches-js #22 defect)', () => {
    const a = new DDSketch();
    const b = new DDSketch();
    for (const v of [1, 2, 3]) a.add(v);
    for (const v of [-10, -20, -30]) b.add(v);
    a.merge(b);
    expect(a.count).toBe(6);
    expect(a.min).toBe(-30);
    expect(a.quantile(0)).toBe(-30);
    expectWithin(a.quantile(0.2), -20, 0.01);
  });

  it('rejects bad input with E_VALIDATION naming the field', () => {
    const s = new DDSketch();
    expect(() => s.add(Number.NaN)).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path: 'value' }));
    expect(() => s.add(Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ path: 'value' }));
    expect(() => s.add(1, 0)).toThrow(expect.objectContaining({ path: 'weight' }));
    expect(() => s.quantile(1.5)).toThrow(expect.objectContaining({ path: 'q' }));
    expect(() => new DDSketch({ relativeAccuracy: 0 })).toThrow(
      expect.objectContaining({ path: 'options.relativeAccuracy' }),
    );
    expect(() => new DDSketch({ maxBuckets: 0.5 })).toThrow(
      expect.objectContaining({ path: 'options.maxBuckets' }),
    );
    expect(() => new DDSketch({ accuracy: 0.01 } as never)).toThrow(
      expect.objectContaining({ path: 'options.accuracy' }),
    );
    expect(s.count).toBe(0);
  });

  it('merges itself (doubling) and sketches of another class through their encoding', () => {
    const s = new DDSketch();
    for (const v of [-5, 0, 2, 40]) s.add(v);
    s.merge(s);
    expect(s.count).toBe(8);
    expect(s.sum).toBe(74);
    expectWithin(s.quantile(0.5), 0, 0.01);
    const source = new DDSketch();
    source.add(1000);
    const foreign = {
      count: 1,
      sum: 1000,
      min: 1000,
      max: 1000,
      add: () => {},
      merge: () => {},
      quantile: () => 1000,
      encode: () => source.encode(),
    };
    s.merge(foreign);
    expect(s.count).toBe(9);
    expect(s.max).toBe(1000);
  });

  it('refuses to merge sketches of different accuracy', () => {
    const a = new DDSketch({ relativeAccuracy: 0.01 });
    const b = new DDSketch({ relativeAccuracy: 0.02 });
    b.add(1);
    expect(() => a.merge(b)).toThrow(expect.objectContaining({ code: 'E_VALIDATION' }));
    expect(a.count).toBe(0);
  });

  it('supports weights (e.g. StatsD sample rates)', () => {
    const s = new DDSketch();
    s.add(10, 9);
    s.add(1000, 1);
    expect(s.count).toBe(10);
    expect(s.sum).toBe(1090);
    expectWithin(s.quantile(0.5), 10, 0.01);
    const back = decodeSketch(s.encode());
    expect(back.count).toBe(10);
    s.add(5, 0.5);
    const fractional = decodeSketch(s.encode());
    expect(fractional.count).toBe(10.5);
    expectWithin(fractional.quantile(0), 5, 0);
  });

  it('bounds its buckets by collapsing the lowest, keeping high quantiles accurate', () => {
    const s = new DDSketch({ maxBuckets: 64 });
    const values: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const v = 1.05 ** (i % 400); // spans ~ 1 .. 3e8: far more than 64 buckets at 1%
      values.push(v);
      s.add(v);
    }
    const sorted = [...values].sort((a, b) => a - b);
    expectWithin(s.quantile(0.99), exactQuantile(sorted, 0.99), 0.01);
    expectWithin(s.quantile(0.95), exactQuantile(sorted, 0.95), 0.01);
    // Low quantiles collapse upward, but min and the count stay exact.
    expect(s.quantile(0.01)).toBeGreaterThanOrEqual(exactQuantile(sorted, 0.01));
    expect(s.min).toBe(1);
    expect(s.count).toBe(2000);
    const bytes = s.encode();
    expect(bytes.length).toBeLessThan(64 * 3 + 64);
    expect(decodeSketch(bytes).quantile(0.99)).toBe(s.quantile(0.99));
  });

  it('emptyLike is empty, compatible, and pre-sized', () => {
    const s = new DDSketch({ relativeAccuracy: 0.02, maxBuckets: 100 });
    for (const v of [-7, 1, 10, 100]) s.add(v);
    const e = s.emptyLike();
    expect(e.count).toBe(0);
    expect(e.base).toBe(s.base);
    expect(e.maxBuckets).toBe(100);
    e.add(50);
    s.merge(e);
    expect(s.count).toBe(5);
    expect(decodeSketch(e.encode()).count).toBe(1);
  });

  it('clone is deep and reset empties', () => {
    const s = new DDSketch();
    s.add(5);
    const c = s.clone();
    c.add(500);
    expect(s.count).toBe(1);
    expect(s.max).toBe(5);
    expect(c.count).toBe(2);
    s.reset();
    expect(s.count).toBe(0);
    expect(s.quantile(0.5)).toBeNaN();
    s.add(7);
    expectWithin(s.quantile(0.5), 7, 0.01);
    expect(c.max).toBe(500);
  });

  it('encodes compactly with a version byte and the gamma', () => {
    const s = new DDSketch();
    for (let i = 1; i <= 100; i++) s.add(i);
    const bytes = s.encode();
    expect(bytes[0]).toBe(1);
    expect(new DataView(bytes.buffer, bytes.byteOffset + 2, 8).getFloat64(0, true)).toBe(s.base);
    expect(bytes.length).toBeLessThan(600);
  });

  it('round-trips extreme values, including a sum that overflowed to Infinity', () => {
    const s = new DDSketch();
    for (const v of [Number.MAX_VALUE, 1e300, 5e-324, -Number.MAX_VALUE, 1e-300]) s.add(v);
    const back = decodeSketch(s.encode());
    expect(back.count).toBe(5);
    expect(back.max).toBe(Number.MAX_VALUE);
    expect(back.min).toBe(-Number.MAX_VALUE);
    expect(back.quantile(0.75)).toBe(s.quantile(0.75));
    const over = new DDSketch();
    over.add(Number.MAX_VALUE);
    over.add(Number.MAX_VALUE);
    expect(over.sum).toBe(Number.POSITIVE_INFINITY);
    expect(decodeSketch(over.encode()).sum).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects malformed bytes with a FleetwatchError, never a crash', () => {
    const s = new DDSketch();
    for (const v of [-3, 0, 1, 2, 3000]) s.add(v);
    const good = s.encode();
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(2),
      good.slice(0, good.length - 1),
      Uint8Array.of(...good, 0),
      Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f, 8), // gamma = +Infinity
    ];
    for (const bytes of cases) {
      expect(() => decodeSketch(bytes)).toThrow(FleetwatchError);
    }
    expect(() => decodeSketch('x' as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION' }),
    );
  });

  it('property: any byte mutation decodes to a sketch or throws FleetwatchError', () => {
    const s = new DDSketch();
    for (const v of [-3, 0, 1, 2, 3000, 0.001]) s.add(v);
    const good = s.encode();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(good.length),
        (edits, cut) => {
          const bytes = good.slice(0, cut === 0 ? good.length : cut);
          for (const [i, b] of edits) if (i < bytes.length) bytes[i] = b;
          try {
            const d = decodeSketch(bytes);
            expect(d.count).toBeGreaterThanOrEqual(0);
          } catch (err) {
            expect(err).toBeInstanceOf(FleetwatchError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: quantiles are within α of the exact ones', () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.01, 0.02, 0.05),
        (values, alpha) => {
          const s = new DDSketch({ relativeAccuracy: alpha });
          for (const v of values) s.add(v);
          checkAgainstExact(s, values, alpha);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('property: merging sketches from several sources is as accurate as one sketch of the union', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { maxLength: 120 }), { minLength: 1, maxLength: 8 }),
        (sources) => {
          const merged = new DDSketch();
          const whole = new DDSketch();
          for (const src of sources) {
            const part = new DDSketch();
            for (const v of src) {
              part.add(v);
              whole.add(v);
            }
            merged.merge(part);
          }
          const all = sources.flat();
          if (all.length === 0) {
            expect(merged.count).toBe(0);
            return;
          }
          checkAgainstExact(merged, all, 0.01);
          for (const q of QS) expect(merged.quantile(q)).toBe(whole.quantile(q));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: encode/decode round-trips exactly, also across processes and merges', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.oneof(value, anyFinite), { maxLength: 100 }), { minLength: 1, maxLength: 4 }),
        (sources) => {
          const merged = new DDSketch();
          for (const src of sources) {
            const part = new DDSketch();
            for (const v of src) part.add(v);
            merged.merge(decodeSketch(part.encode()));
          }
          const back = decodeSketch(merged.encode());
          expect(back.count).toBe(merged.count);
          expect(back.sum).toBe(merged.sum);
          expect(
            Object.is(back.min, merged.min) || (Number.isNaN(back.min) && Number.isNaN(merged.min)),
          ).toBe(true);
          expect(back.base).toBe(merged.base);
          for (const q of QS) {
            const a = back.quantile(q);
            const b = merged.quantile(q);
            expect(Number.isNaN(a) ? Number.isNaN(b) : a === b).toBe(true);
          }
          const all = sources.flat();
          // Accuracy (no collapse) holds when the values fit 2048 buckets; extremes only round-trip.
          if (all.length > 0 && all.every((v) => v === 0 || (Math.abs(v) >= 1e-6 && Math.abs(v) <= 1e9))) {
            checkAgainstExact(back, all, 0.01);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: with a small bucket cap, merging parts equals one sketch of the union (collapse is order-free)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.oneof(value, anyFinite), { maxLength: 60 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 80 }),
        (sources, cap) => {
          const whole = new DDSketch({ maxBuckets: cap });
          const merged = new DDSketch({ maxBuckets: cap });
          for (const src of sources) {
            const part = new DDSketch({ maxBuckets: cap });
            for (const v of src) {
              part.add(v);
              whole.add(v);
            }
            merged.merge(decodeSketch(part.encode()));
          }
          expect(merged.count).toBe(whole.count);
          for (const q of QS) expect(Object.is(merged.quantile(q), whole.quantile(q))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
