import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAlarm, testAlarm } from '../../src/checks/alarm.js';
import { FleetwatchError } from '../../src/errors.js';
import { ALARM_TOKENS } from './alarm-tokens.js';

const RS = `if (metric['code'] != '200') { return new AlarmStatus(CRITICAL, 'HTTP #{code}'); }
return new AlarmStatus(OK);`;

describe('compileAlarm() - Rackspace form', () => {
  it('returns CRITICAL with an interpolated message when the condition holds', () => {
    expect(testAlarm(RS, { code: '503' })).toEqual({ state: 'CRITICAL', message: 'HTTP 503' });
    expect(testAlarm(RS, { code: '200' })).toEqual({ state: 'OK', message: '' });
  });

  it('supports the bare `return CRITICAL;` form without braces (DESIGN.md)', () => {
    const a = "if (metric['code'] != '200') return CRITICAL; return OK";
    expect(testAlarm(a, { code: '500' }).state).toBe('CRITICAL');
    expect(testAlarm(a, { code: 200 }).state).toBe('OK');
  });

  it('evaluates statements in order, with else-if chains and comments', () => {
    const a = `# comment
      /* block */ if (metric['duration'] > 2000) { return new AlarmStatus(CRITICAL, 'slow #{duration}ms'); }
      else if (metric['duration'] > 500) { return new AlarmStatus(WARNING, 'meh'); }
      // line comment
      return new AlarmStatus(OK, 'fine');`;
    expect(testAlarm(a, { duration: 3000 })).toEqual({ state: 'CRITICAL', message: 'slow 3000ms' });
    expect(testAlarm(a, { duration: 800 }).state).toBe('WARNING');
    expect(testAlarm(a, { duration: 10 })).toEqual({ state: 'OK', message: 'fine' });
  });

  it('regex and nregex match string metrics', () => {
    const a = `if (metric['body'] nregex 'status.*UP') { return CRITICAL, 'down'; } if (metric['banner'] regex '^SSH-') return WARNING; return OK`;
    expect(testAlarm(a, { body: '{"status": "DOWN"}' }).state).toBe('CRITICAL');
    expect(testAlarm(a, { body: '{"status": "UP"}', banner: 'SSH-2.0' }).state).toBe('WARNING');
    expect(testAlarm(a, { body: '{"status": "UP"}', banner: 'x' }).state).toBe('OK');
  });

  it('previous() and rate() use the previous run', () => {
    const a = `if (rate(metric['bytes']) > 100) return CRITICAL; if (previous('code') != metric['code']) return WARNING; return OK`;
    expect(
      testAlarm(a, { bytes: 2000, code: '200' }, { previous: { bytes: 0, code: '200' }, elapsedMs: 10_000 })
        .state,
    ).toBe('CRITICAL');
    expect(
      testAlarm(a, { bytes: 500, code: '200' }, { previous: { bytes: 0, code: '500' }, elapsedMs: 10_000 })
        .state,
    ).toBe('WARNING');
    // no previous run: rate() and previous() are missing values, so the comparisons are false
    expect(testAlarm(a, { bytes: 2000, code: '200' }).state).toBe('OK');
  });

  it('percentage() and arithmetic', () => {
    expect(
      testAlarm('if (percentage(metric.used, metric.total) >= 90) return CRITICAL; return OK', {
        used: 95,
        total: 100,
      }).state,
    ).toBe('CRITICAL');
    expect(testAlarm('if (metric.a * 2 + 1 == 7) return WARNING; return OK', { a: 3 }).state).toBe('WARNING');
  });

  it('reads :set declarations', () => {
    const a = compileAlarm(
      ':set consecutiveCount=3\n:set recoveryCount=2\n:set consistencyLevel=ALL\nreturn OK',
    );
    expect(a.consecutiveCount).toBe(3);
    expect(a.recoveryCount).toBe(2);
    expect(a.consistencyLevel).toBe('ALL');
  });

  it('a rule with no matching return is OK', () => {
    expect(testAlarm("if (metric['code'] == '500') return CRITICAL;", { code: '200' }).state).toBe('OK');
  });
});

describe('compileAlarm() - Gatus one-liners', () => {
  it('code == 200 compares numbers with the string code', () => {
    expect(testAlarm('code == 200', { code: '200' }).state).toBe('OK');
    expect(testAlarm('code == 200', { code: '404' })).toEqual({
      state: 'CRITICAL',
      message: 'condition failed: code == 200',
    });
  });

  it('all conditions separated by ; must hold', () => {
    expect(testAlarm('code == 200; duration < 300', { code: '200', duration: 500 })).toEqual({
      state: 'CRITICAL',
      message: 'condition failed: duration < 300',
    });
  });

  it('durations compare in ms, and in seconds for cert_end_in', () => {
    expect(testAlarm('cert_end_in > 48h', { cert_end_in: 3 * 86400 }).state).toBe('OK');
    expect(testAlarm('cert_end_in > 48h', { cert_end_in: 86400 }).state).toBe('CRITICAL');
    expect(testAlarm('duration < 1s', { duration: 999 }).state).toBe('OK');
    expect(testAlarm('duration < 1s', { duration: 1001 }).state).toBe('CRITICAL');
  });

  it('upper-case words are symbols (rcode == NOERROR)', () => {
    expect(testAlarm('rcode == NOERROR', { rcode: 'NOERROR' }).state).toBe('OK');
    expect(testAlarm('rcode == NOERROR', { rcode: 'NXDOMAIN' }).state).toBe('CRITICAL');
  });

  it('Gatus placeholders [STATUS], [RESPONSE_TIME], [CERTIFICATE_EXPIRATION], [DNS_RCODE]', () => {
    const m = { code: '200', duration: 120, cert_end_in: 3 * 86400, rcode: 'NOERROR' };
    expect(
      testAlarm(
        '[STATUS] == 200; [RESPONSE_TIME] < 300; [CERTIFICATE_EXPIRATION] > 48h; [DNS_RCODE] == NOERROR',
        m,
      ).state,
    ).toBe('OK');
    expect(testAlarm('[RESPONSE_TIME] < 100', m).state).toBe('CRITICAL');
    expect(() => compileAlarm('[BODY] == 1')).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', position: 1 }),
    );
  });

  it('a missing metric makes every comparison false', () => {
    expect(testAlarm('nope != 1', {}).state).toBe('CRITICAL');
    expect(testAlarm('!(nope == 1)', {}).state).toBe('OK');
  });
});

describe('compileAlarm() - errors', () => {
  const cases: [string, number][] = [
    ["if (metric['code'] != '200' { return CRITICAL; }", 28],
    ['return BROKEN', 7],
    ["metric['x'] regex '('", 19], // inside the pattern: the unclosed group
    ['code == ', 8],
    ["'unterminated", 0],
    ['foo(1)', 0],
    [':set consecutiveCount=99\nreturn OK', 22],
    ['a @ b', 2],
  ];
  for (const [src, pos] of cases) {
    it(`rejects ${JSON.stringify(src)} with E_VALIDATION at ${pos}`, () => {
      try {
        compileAlarm(src);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(FleetwatchError);
        expect((err as FleetwatchError).code).toBe('E_VALIDATION');
        expect((err as FleetwatchError).path).toBe('alarm');
        expect((err as FleetwatchError).position).toBe(pos);
      }
    });
  }

  it('rejects deep nesting instead of overflowing the stack', () => {
    expect(() => compileAlarm(`${'('.repeat(5000)}1${')'.repeat(5000)}`)).toThrow(/nested too deeply/);
  });
});

describe('compileAlarm() - fuzz', () => {
  const pieces = [...ALARM_TOKENS, 'RESPONSE_TIME', 'WARNING', '"(x"'];
  const metrics = fc.dictionary(
    fc.constantFrom('code', 'duration', 'x'),
    fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.double()),
  );

  it('random token soup only ever throws E_VALIDATION and evaluates without throwing', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), metrics, (toks, m) => {
        const src = toks.join(' ');
        let alarm: ReturnType<typeof compileAlarm>;
        try {
          alarm = compileAlarm(src);
        } catch (err) {
          return err instanceof FleetwatchError && err.code === 'E_VALIDATION';
        }
        const r = alarm.evaluate({ metrics: m, previous: m, elapsedMs: 1000 });
        return ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'].includes(r.state);
      }),
      { numRuns: 3000 },
    );
  });

  it('arbitrary strings only ever throw E_VALIDATION', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (src) => {
        try {
          compileAlarm(src).evaluate({ metrics: {} });
          return true;
        } catch (err) {
          return err instanceof FleetwatchError && err.code === 'E_VALIDATION';
        }
      }),
      { numRuns: 3000 },
    );
  });
});
