import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogIndex } from '../../src/metrics/log-index.js';

/** The key must satisfy γ^(k−1) < v ≤ γ^k, up to rounding at a bound. */
function expectConsistent(index: LogIndex, gamma: number, v: number): void {
  const k = index.key(v);
  const upper = gamma ** k;
  const lower = gamma ** (k - 1);
  expect(v).toBeLessThanOrEqual(upper * (1 + 1e-12));
  expect(v).toBeGreaterThan(lower * (1 - 1e-12));
}

describe('LogIndex', () => {
  it('property: the table path and the Math.log path agree with the bucket bounds', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ min: 1e-300, max: 1e300, noNaN: true }),
          fc.double({ min: 1e-9, max: 1e12, noNaN: true }),
        ),
        fc.constantFrom(0.005, 0.01, 0.02, 0.05, 0.001),
        (v, alpha) => {
          const gamma = (1 + alpha) / (1 - alpha);
          expectConsistent(new LogIndex(gamma), gamma, v);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('matches ⌈log_γ v⌉ away from bounds and handles exact powers of γ', () => {
    const gamma = 1.01 / 0.99;
    const index = new LogIndex(gamma);
    for (const v of [1, 2, 1000, 0.5, 123.456, 2 ** 39, 2 ** -30]) {
      const k = index.key(v);
      expect(Math.abs(k - Math.log(v) / Math.log(gamma))).toBeLessThan(1);
      expectConsistent(index, gamma, v);
    }
    for (let k = -50; k <= 50; k += 7) expectConsistent(index, gamma, Math.exp(k * Math.log(gamma)));
  });
});
