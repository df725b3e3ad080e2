// Covers src/interop/otlp-points.ts (reading OTLP points) and src/interop/otlp-exponential.ts (point arithmetic).

import { describe, expect, it } from 'vitest';
import { downscalePoint, subtractExponential } from '../../src/interop/otlp-exponential.js';
import {
  attributesOf,
  explicitPoint,
  expPoint,
  stableKey,
  temporalityOf,
} from '../../src/interop/otlp-points.js';
import type { ExponentialHistogramPoint } from '../../src/metrics/exponential.js';

// Expected values below follow the OTLP data model: at scale s, bucket index i holds
// (2^(i·2^-s), 2^((i+1)·2^-s)], and lowering the scale by one maps index i to i >> 1.

const point = (p: Partial<ExponentialHistogramPoint>): ExponentialHistogramPoint => ({
  scale: 0,
  count: 0,
  zeroCount: 0,
  zeroThreshold: 0,
  positive: { offset: 0, bucketCounts: [] },
  negative: { offset: 0, bucketCounts: [] },
  ...p,
});

describe('downscalePoint()', () => {
  it('merges each pair of scale-1 buckets into the scale-0 bucket holding it (index >> 1)', () => {
    const fine = point({
      scale: 1,
      count: 12,
      sum: 25,
      positive: { offset: -1, bucketCounts: [1, 2, 3, 4] },
      negative: { offset: 3, bucketCounts: [1, 1] },
    });
    expect(downscalePoint(fine, 0)).toEqual({
      ...fine,
      scale: 0,
      positive: { offset: -1, bucketCounts: [1, 5, 4] },
      negative: { offset: 1, bucketCounts: [1, 1] },
    });
  });
});

describe('subtractExponential()', () => {
  it('subtracts at the coarser scale of the two points', () => {
    const prev = point({ scale: 1, count: 4, sum: 10, positive: { offset: 0, bucketCounts: [1, 1, 2] } });
    const cur = point({ count: 10, zeroCount: 1, sum: 30, positive: { offset: 0, bucketCounts: [4, 5] } });
    expect(subtractExponential(cur, prev)).toEqual(
      point({ count: 6, zeroCount: 1, sum: 20, positive: { offset: 0, bucketCounts: [2, 3] } }),
    );
  });

  it('returns the current point itself when a count went down (a reset)', () => {
    const prev = point({ count: 3, positive: { offset: 0, bucketCounts: [3] } });
    const cur = point({ count: 4, positive: { offset: 0, bucketCounts: [1, 3] } });
    expect(subtractExponential(cur, prev)).toBe(cur);
  });

  it('bounds an unmoved min/max by the delta buckets (values in (2, 4] give min 2, max 4)', () => {
    const prev = point({ count: 2, min: 1.5, max: 5, positive: { offset: 0, bucketCounts: [1, 0, 1] } });
    const cur = point({ count: 3, min: 1.5, max: 5, positive: { offset: 0, bucketCounts: [1, 1, 1] } });
    const delta = subtractExponential(cur, prev);
    expect(delta.positive).toEqual({ offset: 0, bucketCounts: [0, 1, 0] });
    expect([delta.min, delta.max]).toEqual([2, 4]);
  });

  it('keeps the current min/max where they moved in the interval', () => {
    const prev = point({ count: 1, min: 1.5, max: 1.5, positive: { offset: 0, bucketCounts: [1] } });
    const cur = point({ count: 3, min: 0.75, max: 7, positive: { offset: -1, bucketCounts: [1, 1, 0, 1] } });
    const delta = subtractExponential(cur, prev);
    expect([delta.min, delta.max]).toEqual([0.75, 7]);
  });
});

describe('reading OTLP points', () => {
  it('explicitPoint() - rejects counts that do not match the bounds, naming the field', () => {
    expect(() => explicitPoint({ explicitBounds: [1, 2], bucketCounts: [1, 1], count: 2 }, 'p')).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'p.bucketCounts' }),
    );
    expect(() => explicitPoint({ explicitBounds: [2, 1], bucketCounts: [0, 0, 0] }, 'p')).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'p.explicitBounds[1]' }),
    );
  });

  it('expPoint() - reads 64-bit counts given as strings and rejects a negative count', () => {
    const p = expPoint(
      { scale: 2, count: '3', zeroCount: 1, positive: { offset: 5, bucketCounts: ['2'] } },
      'p',
    );
    expect(p).toEqual(
      point({ scale: 2, count: 3, zeroCount: 1, positive: { offset: 5, bucketCounts: [2] } }),
    );
    expect(() => expPoint({ count: -1 }, 'p')).toThrow(expect.objectContaining({ path: 'p.count' }));
  });

  it('temporalityOf() - accepts 1 and 2 only', () => {
    expect([temporalityOf(1, 't'), temporalityOf(2, 't')]).toEqual([1, 2]);
    expect(() => temporalityOf(0, 't')).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path: 't' }));
  });

  it('attributesOf() and stableKey() - text values, and one key whatever the attribute order', () => {
    const a = attributesOf(
      [
        { key: 'host.name', value: { stringValue: 'web-1' } },
        { key: 'cpu', value: { intValue: '3' } },
        { key: 'up', value: { boolValue: true } },
      ],
      'attributes',
    );
    expect(a).toEqual({ 'host.name': 'web-1', cpu: '3', up: 'true' });
    expect(stableKey({ b: '2', a: '1' })).toBe(stableKey({ a: '1', b: '2' }));
    expect(stableKey({ a: '1', b: '2' })).not.toBe(stableKey({ a: '12' }));
  });
});
