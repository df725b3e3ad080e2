import { describe, expect, it } from 'vitest';
import {
  abortError,
  describeValue,
  ERROR_CODES,
  FleetwatchError,
  isFleetwatchError,
  throwIfAborted,
  validationError,
} from '../src/errors.js';

describe('FleetwatchError', () => {
  it('carries a stable code, message, cause and only the context fields given', () => {
    const cause = new Error('socket hang up');
    const err = new FleetwatchError('E_RATE_LIMIT', 'ec2 throttled', {
      cause,
      provider: 'aws-prod',
      status: 503,
      providerCode: 'RequestLimitExceeded',
      retryAfterMs: 2000,
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('FleetwatchError');
    expect(err.code).toBe('E_RATE_LIMIT');
    expect(err.message).toBe('ec2 throttled');
    expect(err.cause).toBe(cause);
    expect(err.retryAfterMs).toBe(2000);
    expect(Object.keys(err).sort()).toEqual([
      'code',
      'name',
      'provider',
      'providerCode',
      'retryAfterMs',
      'status',
    ]);
    expect(err.toJSON()).toEqual({
      name: 'FleetwatchError',
      code: 'E_RATE_LIMIT',
      message: 'ec2 throttled',
      provider: 'aws-prod',
      status: 503,
      providerCode: 'RequestLimitExceeded',
      retryAfterMs: 2000,
    });
    expect(JSON.stringify(err)).not.toContain('socket hang up');
  });

  it('has a closed, duplicate-free list of codes', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) expect(code).toMatch(/^E_[A-Z_]+$/);
  });

  it('isFleetwatchError checks class and code', () => {
    const err = new FleetwatchError('E_AUTH', 'bad key');
    expect(isFleetwatchError(err)).toBe(true);
    expect(isFleetwatchError(err, 'E_AUTH')).toBe(true);
    expect(isFleetwatchError(err, 'E_PROVIDER')).toBe(false);
    expect(isFleetwatchError(new Error('x'))).toBe(false);
    expect(isFleetwatchError({ code: 'E_AUTH' })).toBe(false);
  });

  it('validationError names the path, the expectation and a short description of the value', () => {
    const err = validationError('points[3].value', 'a finite number', Number.NaN);
    expect(err.code).toBe('E_VALIDATION');
    expect(err.path).toBe('points[3].value');
    expect(err.expected).toBe('a finite number');
    expect(err.received).toBe('NaN');
    expect(err.message).toBe('points[3].value: expected a finite number, received NaN');
  });

  it('describeValue never echoes long strings (which may be secrets)', () => {
    const secret = 'x'.repeat(64);
    expect(describeValue(secret)).toBe('string(64)');
    expect(describeValue('short')).toBe('"short"');
    expect(describeValue([1, 2])).toBe('array(2)');
    expect(describeValue(null)).toBe('null');
    expect(describeValue({ a: 1 })).toBe('object');
  });

  it('abort helpers raise E_ABORTED with the reason as cause', () => {
    const ac = new AbortController();
    expect(() => throwIfAborted(ac.signal)).not.toThrow();
    ac.abort(new Error('stop'));
    expect(() => throwIfAborted(ac.signal)).toThrowError(FleetwatchError);
    const err = abortError(ac.signal);
    expect(err.code).toBe('E_ABORTED');
    expect((err.cause as Error).message).toBe('stop');
  });
});

describe('error helpers with unexpected arguments', () => {
  it('validationError() names a non-string path without throwing a TypeError', () => {
    const err = validationError(Object.create(null) as string, 'a thing', 5);
    expect(err).toMatchObject({ code: 'E_VALIDATION', path: 'object', received: '5' });
  });

  it('abortError() without a signal is still E_ABORTED', () => {
    const err = abortError(undefined as unknown as AbortSignal);
    expect(err.code).toBe('E_ABORTED');
    expect(err.cause).toBeUndefined();
  });
});
