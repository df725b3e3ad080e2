import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BucketStore } from '../../src/metrics/bucket-store.js';

/** Reference model: a Map, folding keys below `max - cap + 1` into that key after every add. */
function model(ops: readonly (readonly [number, number])[], cap: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const [key, n] of ops) {
    m.set(key, (m.get(key) ?? 0) + n);
    const floor = Math.max(...m.keys()) - cap + 1;
    for (const [k, c] of [...m]) {
      if (k < floor) {
        m.delete(k);
        m.set(floor, (m.get(floor) ?? 0) + c);
      }
    }
  }
  return m;
}

function contents(s: BucketStore): Map<number, number> {
  const m = new Map<number, number>();
  if (s.isEmpty) return m;
  for (let k = s.minKey; k <= s.maxKey; k++) if (s.get(k) !== 0) m.set(k, s.get(k));
  return m;
}

const op = fc.tuple(fc.integer({ min: -300, max: 300 }), fc.integer({ min: 1, max: 5 }));

describe('BucketStore', () => {
  it('property: matches a map with collapse-lowest semantics', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 80 }),
        fc.integer({ min: 1, max: 70 }),
        fc.option(fc.tuple(fc.integer({ min: -300, max: 300 }), fc.nat(200))),
        (ops, cap, reserve) => {
          const s = new BucketStore(cap);
          if (reserve) s.reserve(reserve[0], reserve[0] + reserve[1]);
          for (const [k, n] of ops) s.add(k, n);
          const expected = model(ops, cap);
          expect(contents(s)).toEqual(expected);
          expect(s.counts.length).toBeLessThanOrEqual(cap);
          if (expected.size > 0) {
            expect(s.minKey).toBe(Math.min(...expected.keys()));
            expect(s.maxKey).toBe(Math.max(...expected.keys()));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: mergeFrom equals adding the same keys', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(op, { maxLength: 40 }), (a, b) => {
        const cap = 1000;
        const x = new BucketStore(cap);
        const y = new BucketStore(cap);
        for (const [k, n] of a) x.add(k, n);
        for (const [k, n] of b) y.add(k, n);
        x.mergeFrom(y);
        expect(contents(x)).toEqual(model([...a, ...b], cap));
      }),
      { numRuns: 200 },
    );
  });
});
