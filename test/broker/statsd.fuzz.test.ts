import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStatsdLines, type StatsdLine } from '../../src/broker/statsd.js';
import { fuzzParams, withinTimeBound } from '../helpers/fuzz.js';

/** Characters that matter to the grammar, plus digits and letters, in long runs. */
const grammar = fc.constantFrom(...'ab9:|@#,.1-+eE\n\r gcmsdh'.split(''));
const run = fc
  .tuple(fc.string({ unit: grammar, minLength: 1, maxLength: 4 }), fc.nat({ max: 5000 }))
  .map(([s, n]) => s.repeat(n));
const text = fc.oneof(
  fc.string({ unit: grammar, maxLength: 200 }),
  fc.array(run, { maxLength: 8 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 300 }),
);

describe('StatsD lines (fuzz)', () => {
  it('never throws, stays within the time bound, accounts for every line, emits only whole valid lines', () => {
    fc.assert(
      fc.property(text, (input) => {
        const good: StatsdLine[] = [];
        const r = withinTimeBound(() => parseStatsdLines(input, (l) => good.push(l)));
        expect(r.bad).toBe(r.tooLong + r.syntax + r.number);
        expect(good.length + r.bad).toBe(r.lines);
        for (const l of good) {
          expect(l.name.length).toBeGreaterThan(0);
          expect(l.rate > 0 && l.rate <= 1).toBe(true);
          if (l.type === 's') expect(l.members).toHaveLength(1);
          else {
            expect(l.values.length).toBeGreaterThan(0);
            for (const v of l.values) expect(Number.isFinite(v)).toBe(true);
          }
        }
      }),
      fuzzParams(300),
    );
  });

  it('a line with one bad value yields nothing of it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 5 }),
        fc.nat({ max: 5 }),
        fc.constantFrom('1e309', 'x', '', '--1', '1e', '.', 'NaN', 'Infinity'),
        (values, at, bad) => {
          const parts = values.map(String);
          parts.splice(Math.min(at, parts.length), 0, bad);
          let emitted = 0;
          const r = withinTimeBound(() => parseStatsdLines(`m:${parts.join(':')}|c`, () => emitted++));
          expect(emitted).toBe(0);
          expect(r.bad).toBe(1);
        },
      ),
      fuzzParams(300),
    );
  });
});
