import { describe, expect, it } from 'vitest';
import {
  definedFields,
  nonEmptyString,
  positiveNumber,
  rejectUnknownKeys,
  silentLogger,
  systemClock,
} from '../src/core.js';
import { FleetwatchError } from '../src/errors.js';

describe('core option helpers', () => {
  it('rejectUnknownKeys names the unexpected key', () => {
    expect(() => rejectUnknownKeys({ a: 1 }, ['a'])).not.toThrow();
    try {
      rejectUnknownKeys({ a: 1, typo: 2 }, ['a'], 'opts');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FleetwatchError);
      expect((err as FleetwatchError).path).toBe('opts.typo');
    }
  });

  it('positiveNumber enforces finiteness, minimum and integrality', () => {
    expect(positiveNumber(5, 'x', { integer: true })).toBe(5);
    expect(() => positiveNumber(0, 'x')).toThrow(/x: expected/);
    expect(() => positiveNumber(1.5, 'x', { integer: true })).toThrow(/an integer/);
    expect(() => positiveNumber(Number.POSITIVE_INFINITY, 'x')).toThrow(FleetwatchError);
    expect(() => positiveNumber('5', 'x')).toThrow(FleetwatchError);
    expect(positiveNumber(0, 'x', { min: 0 })).toBe(0);
  });

  it('definedFields drops undefined entries and keeps falsy ones', () => {
    const out = definedFields({ a: undefined, b: 0, c: '', d: null, e: false, f: 'x' });
    expect(out).toEqual({ b: 0, c: '', d: null, e: false, f: 'x' });
    expect(Object.hasOwn(out, 'a')).toBe(false);
  });

  it('nonEmptyString rejects empty and non-strings', () => {
    expect(nonEmptyString('a', 'p')).toBe('a');
    expect(() => nonEmptyString('', 'p')).toThrow(FleetwatchError);
    expect(() => nonEmptyString(3, 'p')).toThrow(FleetwatchError);
  });

  it('the default clock and logger are usable', () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    expect(silentLogger.info({ a: 1 }, 'x')).toBeUndefined();
  });
});
