import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import {
  fromExponentialHistogram,
  fromNativeHistogram,
  rebucketToScale,
  toExponentialHistogram,
  toNativeHistogram,
} from '../../src/metrics/exponential.js';
import { DDSketch, decodeSketch } from '../../src/metrics/sketch.js';
import { fuzzParams } from '../helpers/fuzz.js';

const value = fc.oneof(
  fc.double({ min: 1e-6, max: 1e9, noNaN: true }),
  fc.double({ min: -1e9, max: -1e-6, noNaN: true }),
  fc.constant(0),
  fc.integer({ min: -64, max: 64 }).map((e) => 2 ** (e / 2)),
);
const values = fc.array(value, { maxLength: 60 });
const scale = fc.integer({ min: 0, max: 8 });

function sketchOf(vs: readonly number[], s: number): DDSketch {
  const sk = new DDSketch({ scale: s, maxBuckets: 1 << 16 });
  for (const v of vs) sk.add(v);
  return sk;
}

/** The buckets only (sum/min/max are exact doubles whose addition order may differ). */
function bucketsOf(sk: DDSketch) {
  const { sum: _s, min: _mi, max: _ma, ...rest } = toExponentialHistogram(sk);
  return rest;
}

describe('DDSketch with a scale (exponential mapping)', () => {
  it('puts powers of two on a bucket upper bound, as OpenTelemetry does (worked example, scale 2)', () => {
    const sk = sketchOf([1, 1.5, 2, 3, 100], 2);
    const p = toExponentialHistogram(sk);
    expect(p.scale).toBe(2);
    expect(p.positive.offset).toBe(-1);
    // OTel indexes (from the OTel JS SDK's mapToIndex, recorded in notes/interop.md §4): -1, 2, 3, 6, 26
    const expected = new Array(28).fill(0);
    for (const i of [-1, 2, 3, 6, 26]) expected[i + 1] = 1;
    expect(p.positive.bucketCounts).toEqual(expected);
    expect(p.count).toBe(5);
    expect(p.sum).toBe(107.5);
  });

  it('has relative accuracy (γ−1)/(γ+1) with γ = 2^(2^-scale)', () => {
    expect(new DDSketch({ scale: 5 }).relativeAccuracy).toBeCloseTo(0.01083, 5);
    expect(new DDSketch({ scale: 6 }).relativeAccuracy).toBeCloseTo(0.005415, 5);
    expect(new DDSketch({ scale: 6 }).base).toBe(2 ** (1 / 64));
  });

  it('rejects a bad scale and scale together with relativeAccuracy', () => {
    for (const bad of [-1, 21, 2.5, Number.NaN]) {
      expect(() => new DDSketch({ scale: bad })).toThrow(FleetwatchError);
    }
    expect(() => new DDSketch({ scale: 4, relativeAccuracy: 0.01 })).toThrow(/relativeAccuracy/);
  });

  it('keeps its scale through encode/decode', () => {
    const sk = sketchOf([1, 2, 3], 7);
    expect(decodeSketch(sk.encode()).scale).toBe(7);
  });

  it('sketch → ExponentialHistogram → sketch is lossless', () => {
    fc.assert(
      fc.property(values, scale, (vs, s) => {
        const sk = sketchOf(vs, s);
        const back = fromExponentialHistogram(toExponentialHistogram(sk), { maxBuckets: 1 << 16 });
        expect(back.encode()).toEqual(sk.encode());
      }),
      fuzzParams(200),
    );
  });

  it('DDSketch methods do the public conversions: to OTLP and back, and to native buckets', () => {
    const sk = sketchOf([0.5, 1, 1.5, 2, 1000, -3, 0], 5);
    const point = sk.toExponentialHistogram();
    expect(point.scale).toBe(5);
    expect(point.count).toBe(7);
    expect(point.zeroCount).toBe(1);
    expect(DDSketch.fromExponentialHistogram(point, { maxBuckets: 1 << 16 }).encode()).toEqual(sk.encode());
    const native = sk.toNativeHistogram();
    expect(native.schema).toBe(5);
    expect(fromNativeHistogram(native).quantile(0.5)).toBe(sk.quantile(0.5));
    expect(() => new DDSketch().toExponentialHistogram()).toThrow(FleetwatchError);
    expect(() => DDSketch.fromExponentialHistogram({ ...point, scale: 99 })).toThrow(/point\.scale/);
  });

  it('sketch → native histogram → sketch is lossless (schema ≤ 8)', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 0, max: 8 }), (vs, s) => {
        const sk = sketchOf(vs, s);
        const nh = toNativeHistogram(sk);
        expect(nh.schema).toBe(s);
        const back = fromNativeHistogram(nh, { maxBuckets: 1 << 16 });
        expect(bucketsOf(back)).toEqual(bucketsOf(sk));
        expect(back.count).toBe(sk.count);
      }),
      fuzzParams(200),
    );
  });

  it('merging across scales equals recording everything at the coarser scale (perfect subsetting)', () => {
    fc.assert(
      fc.property(values, values, scale, scale, (a, b, sa, sb) => {
        const merged = sketchOf(a, sa);
        merged.merge(sketchOf(b, sb));
        const direct = sketchOf([...a, ...b], Math.min(sa, sb));
        expect(merged.scale).toBe(Math.min(sa, sb));
        expect(bucketsOf(merged)).toEqual(bucketsOf(direct));
      }),
      fuzzParams(200),
    );
  });

  it('convert → merge → convert equals merge, in the OTLP and in the native form', () => {
    fc.assert(
      fc.property(values, values, scale, scale, (a, b, sa, sb) => {
        const ska = sketchOf(a, sa);
        const skb = sketchOf(b, sb);
        const merged = ska.clone();
        merged.merge(skb);
        const viaOtlp = fromExponentialHistogram(toExponentialHistogram(ska), { maxBuckets: 1 << 16 });
        viaOtlp.merge(fromExponentialHistogram(toExponentialHistogram(skb), { maxBuckets: 1 << 16 }));
        expect(toExponentialHistogram(viaOtlp)).toEqual(toExponentialHistogram(merged));
        const ca = Math.min(sa, 8);
        const cb = Math.min(sb, 8);
        const viaNative = fromNativeHistogram(toNativeHistogram(sketchOf(a, ca)), { maxBuckets: 1 << 16 });
        viaNative.merge(fromNativeHistogram(toNativeHistogram(sketchOf(b, cb)), { maxBuckets: 1 << 16 }));
        expect(bucketsOf(viaNative)).toEqual(bucketsOf(sketchOf([...a, ...b], Math.min(ca, cb))));
      }),
      fuzzParams(200),
    );
  });

  it('downscales a histogram wider than maxBuckets instead of collapsing it', () => {
    const sk = sketchOf([1e-3, 1e6], 8);
    const back = fromExponentialHistogram(toExponentialHistogram(sk), { maxBuckets: 160 });
    expect(back.scale).toBeLessThan(8);
    expect(bucketsOf(back)).toEqual(bucketsOf(sketchOf([1e-3, 1e6], back.scale!)));
  });

  it('rejects inconsistent points with the field at fault', () => {
    const ok = {
      scale: 3,
      count: 2,
      zeroCount: 0,
      positive: { offset: 0, bucketCounts: [1, 1] },
      negative: { offset: 0, bucketCounts: [] },
    };
    expect(fromExponentialHistogram(ok).count).toBe(2);
    const cases: Array<[unknown, string]> = [
      [{ ...ok, count: 3 }, 'point.count'],
      [{ ...ok, scale: -2 }, 'point.scale'],
      [{ ...ok, positive: { offset: 0, bucketCounts: [1, -1] } }, 'point.positive.bucketCounts[1]'],
      [{ ...ok, positive: { offset: 0.5, bucketCounts: [2] } }, 'point.positive.offset'],
      [{ ...ok, min: 5, max: 1 }, 'point.min'],
    ];
    for (const [p, path] of cases) {
      try {
        fromExponentialHistogram(p as never);
        expect.unreachable();
      } catch (err) {
        expect((err as FleetwatchError).code).toBe('E_VALIDATION');
        expect((err as FleetwatchError).path).toBe(path);
      }
    }
  });

  it('re-buckets an accuracy-based sketch within both accuracies', () => {
    const plain = new DDSketch();
    const vs = Array.from({ length: 2000 }, (_, i) => Math.exp(i / 200));
    for (const v of vs) plain.add(v);
    const scaled = rebucketToScale(plain, 6);
    expect(scaled.count).toBe(2000);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = vs[Math.floor(q * 1999)]!;
      expect(Math.abs(scaled.quantile(q) - exact) / exact).toBeLessThan(0.01 + 0.0055 + 1e-9);
    }
  });
});
