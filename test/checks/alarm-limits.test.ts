import { describe, expect, it } from 'vitest';
import { compileAlarm, MAX_ALARM_EXPR_HEIGHT, testAlarm } from '../../src/checks/alarm.js';
import { CheckScheduler, type CheckStateEvent, testCheck } from '../../src/checks/scheduler.js';

import type { CheckType } from '../../src/checks/types.js';
import { thrown } from '../helpers/errors.js';
import { PER_INPUT_BOUND_MS, withinTimeBound } from '../helpers/fuzz.js';
import { leastMs } from './timing.js';

/** A check type that returns the given metrics at once. */
function instantType(metrics: () => Record<string, unknown>): CheckType<unknown> {
  return {
    type: 'instant',
    normalize: (c) => c ?? {},
    run: async () => ({ metrics: metrics() as Record<string, number> }),
  };
}

describe('compileAlarm() - size and depth bounds', () => {
  it('rejects `1+1+…` with 4,000 terms at parse time with E_VALIDATION and the position', () => {
    const src = `${Array(4000).fill('1').join('+')} > 0`;
    const err = thrown(() => withinTimeBound(() => compileAlarm(src)));
    expect(err.code).toBe('E_VALIDATION');
    expect(err.message).toMatch(/deeper than 256 operators/);
    // the operator that made the tree one level too high: term k sits at 2k, its `+` at 2k - 1
    expect(err.position).toBe(2 * MAX_ALARM_EXPR_HEIGHT - 1);
    expect(src[err.position!]).toBe('+');
  });

  it('rejects the same alarm at scheduler.add() with E_VALIDATION', () => {
    const s = new CheckScheduler({ types: [instantType(() => ({}))] });
    const alarm = Array(4000).fill('x').join('&&'); // 12 KiB, within the length limit
    const err = thrown(() => s.add({ id: 'c', type: 'instant', targets: 'h', periodMs: 1000, alarm }));
    expect(err.code).toBe('E_VALIDATION');
    expect(err.path).toBe('alarm');
    expect(s.list()).toEqual([]);
  });

  it('accepts and evaluates a chain just within the bound', () => {
    // n terms make a sum of height n; `==` adds one more level
    const n = MAX_ALARM_EXPR_HEIGHT - 1;
    expect(testAlarm(`${Array(n).fill('1').join('+')} == ${n}`, {}).state).toBe('OK');
    expect(testAlarm(`${Array(n).fill('1').join('+')} == ${n + 1}`, {}).state).toBe('CRITICAL');
    expect(() =>
      compileAlarm(
        `${Array(n + 1)
          .fill('1')
          .join('+')} == 1`,
      ),
    ).toThrow(/deeper than/);
  });

  it('rejects a 1 MiB alarm at once', () => {
    const err = thrown(() => withinTimeBound(() => compileAlarm(`code == ${'1'.repeat(1 << 20)}`)));
    expect(err.code).toBe('E_VALIDATION');
    expect(err.position).toBe(16_384);
  });
});

describe('compileAlarm() - regex and nregex run in linear time (RE2)', () => {
  const alarm = "if (metric['body'] regex '(a+)+$') return CRITICAL; return OK";

  it('`(a+)+$` on a 30-byte string a target controls stays within the time bound', () => {
    const compiled = compileAlarm(alarm);
    const out = withinTimeBound(() => compiled.evaluate({ metrics: { body: `${'a'.repeat(29)}!` } }));
    expect(out.state).toBe('OK');
    expect(compiled.evaluate({ metrics: { body: 'aaaa' } }).state).toBe('CRITICAL');
  });

  it('`(a+)+$` on a 1 MiB string stays within the time bound', async () => {
    const compiled = compileAlarm(alarm);
    const body = `${'a'.repeat(1 << 20)}!`;
    // a regex reads a bounded prefix (docs/checks.md, Regular expressions): `$` is its end, before the `!`
    expect(compiled.evaluate({ metrics: { body } }).state).toBe('CRITICAL');
    expect(compiled.evaluate({ metrics: { body: `${'a'.repeat(1000)}!` } }).state).toBe('OK');
    expect(await leastMs(() => compiled.evaluate({ metrics: { body } }))).toBeLessThan(PER_INPUT_BOUND_MS);
  });

  it('rejects a backreference with E_VALIDATION at its position in the alarm', () => {
    const src = "metric['x'] regex '(a)\\\\1'";
    const err = thrown(() => compileAlarm(src));
    expect(err.code).toBe('E_VALIDATION');
    expect(err.path).toBe('alarm');
    expect(err.message).toMatch(/RE2/);
    expect(src.slice(err.position!)).toMatch(/^\\\\1/);
  });

  it('rejects a lookahead and a pattern that expands past the instruction bound', () => {
    expect(thrown(() => compileAlarm("metric['x'] regex 'a(?=b)'")).code).toBe('E_VALIDATION');
    const big = thrown(() =>
      withinTimeBound(() => compileAlarm(`metric['x'] regex '${'a{1000}'.repeat(20)}'`)),
    );
    expect(big.message).toMatch(/instructions/);
  });
});

describe('alarm evaluation errors', () => {
  it('an evaluation that throws makes the verdict UNKNOWN with the message', () => {
    const metrics = Object.defineProperty({}, 'code', {
      enumerable: true,
      get() {
        throw new Error('metric exploded');
      },
    });
    expect(compileAlarm('code == 200').evaluate({ metrics })).toEqual({
      state: 'UNKNOWN',
      message: 'alarm evaluation failed: metric exploded',
    });
  });

  it("makes the check's state UNKNOWN with the message, not only an 'error' event", async () => {
    // the first run is OK; from the second on, reading `code` for the alarm throws (once per run)
    let runs = 0;
    const type = instantType(() => {
      if (runs++ === 0) return { code: 200 };
      let reads = 0;
      return Object.defineProperty({}, 'code', {
        enumerable: true,
        get() {
          if (reads++ === 0) throw new Error('metric exploded');
          return 200;
        },
      });
    });
    const s = new CheckScheduler({ types: [type] });
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e));
    const state = new Promise<CheckStateEvent>((resolve) =>
      s.on('state', (e) => {
        if (e.previous === 'OK') resolve(e);
      }),
    );
    s.add({ id: 'c', type: 'instant', targets: 'h', periodMs: 200, alarm: 'code == 200' });
    s.start();
    try {
      const e = await state;
      expect(e).toMatchObject({
        checkId: 'c',
        state: 'UNKNOWN',
        message: 'alarm evaluation failed: metric exploded',
      });
    } finally {
      await s.stop();
    }
    expect(errors).toEqual([]);
  });

  it('testCheck() reports the UNKNOWN verdict too', async () => {
    const type = instantType(() =>
      Object.defineProperty({}, 'x', {
        enumerable: true,
        get() {
          throw new RangeError('boom');
        },
      }),
    );
    const [r] = await testCheck(
      { id: 'c', type: 'instant', targets: 'h', alarm: 'x > 1' },
      { types: [type] },
    );
    expect(r!.alarm).toEqual({ state: 'UNKNOWN', message: 'alarm evaluation failed: boom' });
  });
});
