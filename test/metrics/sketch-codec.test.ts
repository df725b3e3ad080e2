import { describe, expect, it } from 'vitest';
import { asDDSketch, DDSketch, decodeSketch } from '../../src/metrics/sketch.js';
import type { QuantileSketch } from '../../src/metrics/types.js';

/** Layout of a version-1 encoding of a non-empty sketch with integral counts and maxBuckets 2048. */
const COUNT_AT = 12; // u8 version, u8 flags, f64 γ, varint 2048 (2 bytes)
const MIN_AT = COUNT_AT + 2 + 8; // after count, zeroCount (1 byte each here) and f64 sum
const MAX_AT = MIN_AT + 8;

function sketchOf(values: readonly number[], options?: ConstructorParameters<typeof DDSketch>[0]): DDSketch {
  const s = new DDSketch(options);
  for (const v of values) s.add(v);
  return s;
}

/** A QuantileSketch of another class: only its public surface, encode() included. */
class WrappedSketch implements QuantileSketch {
  readonly #inner: DDSketch;
  constructor(inner: DDSketch) {
    this.#inner = inner;
  }
  get count(): number {
    return this.#inner.count;
  }
  get sum(): number {
    return this.#inner.sum;
  }
  get min(): number {
    return this.#inner.min;
  }
  get max(): number {
    return this.#inner.max;
  }
  add(value: number): void {
    this.#inner.add(value);
  }
  merge(other: QuantileSketch): void {
    this.#inner.merge(other);
  }
  quantile(q: number): number {
    return this.#inner.quantile(q);
  }
  encode(): Uint8Array {
    return this.#inner.encode();
  }
}

describe('decodeSketch()', () => {
  it('decodeSketch() - keeps the exact γ, the scale, the cap and the exact count, sum, min and max', () => {
    const scaled = sketchOf([0.5, 3, 3, 1e6], { scale: 6, maxBuckets: 300 });
    const back = decodeSketch(scaled.encode());
    expect(back.scale).toBe(6);
    expect(back.base).toBe(2 ** (2 ** -6));
    expect(back.maxBuckets).toBe(300);
    expect([back.count, back.sum, back.min, back.max]).toEqual([4, 1000006.5, 0.5, 1e6]);
    const accuracy = decodeSketch(sketchOf([-2, 0, 7], { relativeAccuracy: 0.02 }).encode());
    expect(accuracy.scale).toBeUndefined();
    expect(accuracy.base).toBe(1.02 / 0.98);
    expect(accuracy.relativeAccuracy).toBeCloseTo(0.02, 12);
  });

  it('decodeSketch() - malformed bytes are E_MALFORMED_RESPONSE whatever the defect', () => {
    const good = sketchOf([1, 2]).encode();
    expect(good[COUNT_AT]).toBe(2); // the layout above holds
    const withByte = (at: number, b: number) => Uint8Array.from(good, (v, i) => (i === at ? b : v));
    const minAboveMax = Uint8Array.from(good);
    minAboveMax.set(good.subarray(MAX_AT, MAX_AT + 8), MIN_AT);
    minAboveMax.set(good.subarray(MIN_AT, MIN_AT + 8), MAX_AT);
    const cases: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      'unknown version': withByte(0, 2),
      'unknown flags': withByte(1, 2),
      truncated: good.slice(0, good.length - 1),
      'trailing bytes': Uint8Array.of(...good, 0),
      'count not matching the buckets': withByte(COUNT_AT, 3),
      'min above max': minAboveMax,
    };
    for (const [name, bytes] of Object.entries(cases)) {
      expect(() => decodeSketch(bytes), name).toThrow(
        expect.objectContaining({ code: 'E_MALFORMED_RESPONSE' }),
      );
    }
  });
});

describe('asDDSketch()', () => {
  it('asDDSketch() - a DDSketch is returned as is, not copied', () => {
    const s = sketchOf([1, 2, 3]);
    expect(asDDSketch(s)).toBe(s);
  });

  it('asDDSketch() - bytes and a sketch of another class are decoded into a new DDSketch', () => {
    const s = sketchOf([1, 10, 100, 1000], { scale: 4 });
    const fromBytes = asDDSketch(s.encode());
    const fromOther = asDDSketch(new WrappedSketch(s));
    for (const d of [fromBytes, fromOther]) {
      expect(d).toBeInstanceOf(DDSketch);
      expect(d).not.toBe(s);
      expect(d.scale).toBe(4);
      expect(d.count).toBe(4);
      expect(d.quantile(0.5)).toBe(s.quantile(0.5));
    }
    expect(() => asDDSketch(Uint8Array.of(9))).toThrow(
      expect.objectContaining({ code: 'E_MALFORMED_RESPONSE' }),
    );
  });
});
