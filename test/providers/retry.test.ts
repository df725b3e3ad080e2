import { describe, expect, it } from 'vitest';
import { providerRetryPolicy } from '../../src/providers/kit/retry.js';

const base = {
  attempt: 1,
  retryable: true,
  waitedMs: 0,
  retryLimit: 4,
  retryBudgetMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  random: 0,
};

describe('providerRetryPolicy()', () => {
  it('waits what Retry-After asks, even 0 ms', () => {
    expect(providerRetryPolicy({ ...base, retryAfterMs: 2000 })).toEqual({ retry: true, delayMs: 2000 });
    expect(providerRetryPolicy({ ...base, retryAfterMs: 0 })).toEqual({ retry: true, delayMs: 0 });
  });

  it('backs off exponentially without Retry-After', () => {
    expect(providerRetryPolicy({ ...base, attempt: 3, random: 0.999 }).delayMs).toBe(1999);
    expect(providerRetryPolicy({ ...base, attempt: 3, random: 0 }).delayMs).toBe(1000);
  });

  it('does not retry what is not retryable', () => {
    expect(providerRetryPolicy({ ...base, retryable: false })).toEqual({ retry: false, delayMs: 0 });
  });

  it('stops past retryLimit and suggests the next wait', () => {
    expect(providerRetryPolicy({ ...base, attempt: 5 })).toEqual({
      retry: false,
      delayMs: 0,
      suggestMs: 16_000,
    });
    expect(providerRetryPolicy({ ...base, attempt: 5, retryAfterMs: 7000 })).toEqual({
      retry: false,
      delayMs: 0,
      suggestMs: 7000,
    });
  });

  it('does not wait for a Retry-After longer than maxDelayMs', () => {
    expect(providerRetryPolicy({ ...base, retryAfterMs: 31_000 })).toEqual({ retry: false, delayMs: 0 });
  });

  it('stops when the wait would exceed the retry budget', () => {
    expect(providerRetryPolicy({ ...base, waitedMs: 59_000, retryAfterMs: 2000 })).toEqual({
      retry: false,
      delayMs: 0,
      suggestMs: 2000,
    });
  });
});
