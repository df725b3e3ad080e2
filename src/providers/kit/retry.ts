/**
 * Parse a `Retry-After` header (delta-seconds or an HTTP date) into milliseconds from `nowMs`.
 * Returns `undefined` when absent or unparseable; a date in the past gives 0.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Input of {@link providerRetryDelayMs}. */
export interface RetryDelayInput {
  /** 1 for the first retry, 2 for the second, … */
  attempt: number;
  /** The server's `Retry-After`, in ms, if it sent one. */
  retryAfterMs?: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A random number in [0, 1). */
  random: number;
}

/**
 * The wait before a retry (pure). With `Retry-After`: that value plus up to `min(baseDelayMs, 1000)`
 * of jitter, capped at `maxDelayMs`. Without: exponential `baseDelayMs * 2^(attempt-1)` capped at
 * `maxDelayMs`, with "equal jitter" (between half and all of it).
 */
export function providerRetryDelayMs(input: RetryDelayInput): number {
  const { attempt, retryAfterMs, baseDelayMs, maxDelayMs, random } = input;
  if (retryAfterMs !== undefined) {
    return Math.min(maxDelayMs, Math.max(0, retryAfterMs) + Math.floor(random * Math.min(baseDelayMs, 1000)));
  }
  const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(exp / 2 + (random * exp) / 2);
}

/** Input of {@link providerRetryPolicy}: one failed attempt and what the call has spent so far. */
export interface RetryPolicyInput {
  /** The attempt that failed: 1 for the first. */
  attempt: number;
  /** Whether the failure may be retried at all (see `classifyFailure`). */
  retryable: boolean;
  /** The server's `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** Time already spent waiting between this call's attempts, in ms. */
  waitedMs: number;
  retryLimit: number;
  retryBudgetMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A random number in [0, 1). */
  random: number;
}

/** The verdict of {@link providerRetryPolicy}. */
export interface RetryVerdict {
  /** Whether to make another attempt. */
  retry: boolean;
  /** How long to wait before it (0 when not retrying). */
  delayMs: number;
  /** When not retrying: the wait to suggest to the caller (`retryAfterMs` of an `E_RATE_LIMIT`). */
  suggestMs?: number;
}

/**
 * The provider retry policy, as one pure function (got's `calculateDelay` calls it): no retry
 * past `retryLimit`, nor when the failure is not retryable, nor when the server asks for a longer
 * wait than `maxDelayMs`, nor when the wait would take the call past `retryBudgetMs`; otherwise
 * the delay of {@link providerRetryDelayMs}.
 *
 * @example
 * ```ts
 * providerRetryPolicy({ attempt: 1, retryable: true, retryAfterMs: 2000, waitedMs: 0, retryLimit: 4,
 *   retryBudgetMs: 60_000, baseDelayMs: 500, maxDelayMs: 30_000, random: 0 }); // { retry: true, delayMs: 2000 }
 * ```
 */
export function providerRetryPolicy(input: RetryPolicyInput): RetryVerdict {
  const { attempt, retryAfterMs, baseDelayMs, maxDelayMs } = input;
  if (!input.retryable) return { retry: false, delayMs: 0 };
  if (attempt > input.retryLimit)
    return {
      retry: false,
      delayMs: 0,
      suggestMs: retryAfterMs ?? Math.min(maxDelayMs, baseDelayMs * 2 ** attempt),
    };
  if (retryAfterMs !== undefined && retryAfterMs > maxDelayMs) return { retry: false, delayMs: 0 };
  const delay = providerRetryDelayMs({
    attempt,
    retryAfterMs,
    baseDelayMs,
    maxDelayMs,
    random: input.random,
  });
  if (input.waitedMs + delay > input.retryBudgetMs)
    return { retry: false, delayMs: 0, suggestMs: retryAfterMs ?? delay };
  return { retry: true, delayMs: delay };
}
