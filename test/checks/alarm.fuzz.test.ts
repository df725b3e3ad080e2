import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALARM_STATES, compileAlarm, compileSafeRegex } from '../../src/checks/alarm.js';
import { FleetwatchError } from '../../src/errors.js';
import { fuzzParams, repeatedPiece, withinTimeBound } from '../helpers/fuzz.js';
import { ALARM_TOKENS } from './alarm-tokens.js';

const TOKENS = [
  ...ALARM_TOKENS,
  '+',
  '%',
  "'(a+)+$'",
  "'(a)\\\\1'",
  '1.5',
  'len',
  'abs',
  'percentage',
  'constructor',
  '__proto__',
  'toString',
  "'",
  '"',
];

/** Short soups, arbitrary strings, and runs of a repeated piece up to 64 KiB, past the 16 KiB limit (1 MiB: alarm-limits.test.ts). */
const alarmText = fc.oneof(
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 50 }).map((a) => a.join(' ')),
  fc.string({ maxLength: 200 }),
  repeatedPiece(TOKENS, { maxWords: 5, maxRepeat: 1 << 14, maxLength: 1 << 16 }),
);

const metricValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 20 }),
  fc.integer({ min: 1, max: 1 << 16 }).map((n) => `${'a'.repeat(n)}!`),
);
const metrics = fc.dictionary(fc.constantFrom('code', 'duration', 'x', 'constructor'), metricValue);

describe('alarm language - fuzz', () => {
  it('compileAlarm throws nothing but E_VALIDATION; evaluate never throws; each input within the time bound', () => {
    fc.assert(
      fc.property(alarmText, metrics, (src, m) => {
        withinTimeBound(() => {
          let alarm: ReturnType<typeof compileAlarm>;
          try {
            alarm = compileAlarm(src);
          } catch (err) {
            expect(err).toBeInstanceOf(FleetwatchError);
            expect((err as FleetwatchError).code).toBe('E_VALIDATION');
            expect(typeof (err as FleetwatchError).position).toBe('number');
            return;
          }
          const r = alarm.evaluate({ metrics: m, previous: m, elapsedMs: 1000 });
          expect(ALARM_STATES).toContain(r.state);
        });
      }),
      fuzzParams(400),
    );
  });

  it('round trip: a generated condition means what it says (arithmetic chains and comparisons)', () => {
    const op = fc.constantFrom('<', '<=', '>', '>=', '==', '!=');
    const jsCompare = (o: string, a: number, b: number) =>
      o === '<'
        ? a < b
        : o === '<='
          ? a <= b
          : o === '>'
            ? a > b
            : o === '>='
              ? a >= b
              : o === '=='
                ? a === b
                : a !== b;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 200 }),
        op,
        fc.integer({ min: -5000, max: 5000 }),
        (terms, o, x) => {
          // `x OP t1 + t2 - t3 …` with alternating signs, as a Gatus one-liner and as a Rackspace rule
          const expr = terms
            .map((t, i) => (i === 0 ? `${t}` : `${i % 2 ? '+' : '-'} ${Math.abs(t)}`))
            .join(' ');
          const sum = terms.reduce((s, t, i) => (i === 0 ? t : i % 2 ? s + Math.abs(t) : s - Math.abs(t)), 0);
          const holds = jsCompare(o, x, sum);
          const oneLiner = withinTimeBound(() => compileAlarm(`x ${o} ${expr}`));
          expect(oneLiner.evaluate({ metrics: { x } }).state).toBe(holds ? 'OK' : 'CRITICAL');
          const rule = compileAlarm(
            `if (metric['x'] ${o} ${expr}) { return new AlarmStatus(WARNING, 'x=#{x}'); } return OK`,
          );
          expect(rule.evaluate({ metrics: { x } })).toEqual(
            holds ? { state: 'WARNING', message: `x=${x}` } : { state: 'OK', message: '' },
          );
        },
      ),
      fuzzParams(300),
    );
  });

  it('user regexes compile or fail with E_VALIDATION, and match hostile text within the time bound', () => {
    const piece = fc.constantFrom(
      'a',
      'b',
      '(',
      ')',
      '+',
      '*',
      '?',
      '|',
      '.',
      '^',
      '$',
      '\\',
      '[',
      ']',
      '{2}',
      '{2,}',
      '(?:',
      '\\1',
      '(?=',
      '\\d',
      '\\b',
    );
    const subject = fc
      .tuple(
        fc.constantFrom('a', 'ab', 'aab', 'ba'),
        fc.integer({ min: 1, max: 1 << 17 }),
        fc.constantFrom('', '!', 'b'),
      )
      .map(([s, n, end]) => `${s.repeat(n).slice(0, 1 << 20)}${end}`);
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), subject, (p, s) => {
        const pattern = p.join('');
        let re: ReturnType<typeof compileSafeRegex>;
        try {
          re = withinTimeBound(() => compileSafeRegex(pattern, 'http.bodyRegex'));
        } catch (err) {
          expect(err).toBeInstanceOf(FleetwatchError);
          expect(err).toMatchObject({ code: 'E_VALIDATION', path: 'http.bodyRegex' });
          return;
        }
        withinTimeBound(() => re.test(s));
      }),
      fuzzParams(300),
    );
  });
});
