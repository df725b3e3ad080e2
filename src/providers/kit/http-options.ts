import type { OptionsInit } from 'got';
import { positiveNumber, rejectUnknownKeys } from '../../core.js';
import { abortError, FleetwatchError } from '../../errors.js';

/** The SDK version sent in the user agent (a test keeps it equal to package.json). */
export const PROVIDER_SDK_VERSION = '0.1.0';

/** The default user agent, `fleetwatch/<version>`. */
export const PROVIDER_USER_AGENT = `fleetwatch/${PROVIDER_SDK_VERSION}`;

/** got options a user may pass through (no hooks, retry, body or response handling). */
export type ProviderGotOptions = Pick<
  OptionsInit,
  'https' | 'agent' | 'http2' | 'dnsLookup' | 'dnsCache' | 'localAddress' | 'decompress' | 'maxRedirects'
>;

/** The `http` option every provider factory takes. */
export interface ProviderHttpOptions {
  /** Timeout for one request (whole exchange), in ms. @default 30_000 */
  timeoutMs?: number;
  /** Retries after the first attempt (throttling, 5xx and network errors). Minimum 0. @default 4 */
  retryLimit?: number;
  /** Total time one call may spend waiting between retries, in ms. @default 60_000 */
  retryBudgetMs?: number;
  /** First backoff step, in ms; doubles per retry. @default 500 */
  baseDelayMs?: number;
  /** Longest single wait, in ms. A `Retry-After` beyond it is not waited for: the call fails with `E_RATE_LIMIT`. @default 30_000 */
  maxDelayMs?: number;
  /** The `User-Agent` header. @default `fleetwatch/<version>` */
  userAgent?: string;
  /** Wait function (tests inject one). Must reject when `signal` fires. @default an unref'd timer */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random source in [0, 1) for jitter. @default Math.random */
  random?: () => number;
  /** Extra got options (TLS, agent, DNS); hooks are not accepted. */
  got?: ProviderGotOptions;
}

/** {@link ProviderHttpOptions} with defaults applied. */
export interface NormalizedProviderHttpOptions {
  readonly timeoutMs: number;
  readonly retryLimit: number;
  readonly retryBudgetMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly userAgent: string;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random: () => number;
  readonly got: ProviderGotOptions;
}

const HTTP_OPTION_KEYS = [
  'timeoutMs',
  'retryLimit',
  'retryBudgetMs',
  'baseDelayMs',
  'maxDelayMs',
  'userAgent',
  'sleep',
  'random',
  'got',
] as const;

/** Apply defaults to and validate the `http` option (`E_VALIDATION` naming the field). */
export function normalizeProviderHttpOptions(
  options: ProviderHttpOptions = {},
  path = 'options.http',
): NormalizedProviderHttpOptions {
  if (typeof options !== 'object' || options === null)
    throw new FleetwatchError('E_VALIDATION', `${path}: expected an object`, { path });
  rejectUnknownKeys(options, HTTP_OPTION_KEYS, path);
  const o = {
    timeoutMs: 30_000,
    retryLimit: 4,
    retryBudgetMs: 60_000,
    baseDelayMs: 500,
    maxDelayMs: 30_000,
    ...options,
  };
  if (o.got && 'hooks' in o.got)
    throw new FleetwatchError('E_VALIDATION', `${path}.got.hooks: not accepted`, {
      path: `${path}.got.hooks`,
    });
  if (o.userAgent !== undefined && (typeof o.userAgent !== 'string' || o.userAgent.length === 0))
    throw new FleetwatchError('E_VALIDATION', `${path}.userAgent: expected a non-empty string`, {
      path: `${path}.userAgent`,
    });
  return Object.freeze({
    timeoutMs: positiveNumber(o.timeoutMs, `${path}.timeoutMs`, { min: 1 }),
    retryLimit: positiveNumber(o.retryLimit, `${path}.retryLimit`, { integer: true, min: 0 }),
    retryBudgetMs: positiveNumber(o.retryBudgetMs, `${path}.retryBudgetMs`, { min: 0 }),
    baseDelayMs: positiveNumber(o.baseDelayMs, `${path}.baseDelayMs`, { min: 0 }),
    maxDelayMs: positiveNumber(o.maxDelayMs, `${path}.maxDelayMs`, { min: 0 }),
    userAgent: o.userAgent ?? PROVIDER_USER_AGENT,
    sleep: o.sleep ?? defaultSleep,
    random: o.random ?? Math.random,
    got: { ...(o.got ?? {}) },
  });
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** True when `o` came from {@link normalizeProviderHttpOptions} (frozen, defaults applied). */
export function isNormalizedHttpOptions(
  o: ProviderHttpOptions | NormalizedProviderHttpOptions | undefined,
): o is NormalizedProviderHttpOptions {
  return (
    !!o &&
    Object.isFrozen(o) &&
    typeof (o as NormalizedProviderHttpOptions).sleep === 'function' &&
    'retryBudgetMs' in o &&
    typeof o.userAgent === 'string'
  );
}
