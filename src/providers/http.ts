/**
 * The provider HTTP layer — the only file that imports got. One client factory for every provider:
 * timeouts, retries with backoff and jitter that honour `Retry-After` and each provider's throttle
 * signal (a hook), a retry budget, `AbortSignal`, a `fleetwatch/<version>` user agent, redaction
 * (no key, secret or token reaches a log, an error or `extra`), error mapping to
 * {@link FleetwatchError} codes, and a pagination helper with a loop guard.
 */
import got, { type OptionsInit, RequestError } from 'got';
import {
  type Clock,
  type Logger,
  positiveNumber,
  rejectUnknownKeys,
  silentLogger,
  systemClock,
} from '../core.js';
import { abortError, FleetwatchError, type FleetwatchErrorCode, throwIfAborted } from '../errors.js';
import { redactUrl, requestSecrets, safeCause, scrubSecrets } from './kit/redact.js';

export {
  isSecretFieldName,
  redactFields,
  redactHeaders,
  redactUrl,
  requestSecrets,
  safeCause,
  scrubSecrets,
} from './kit/redact.js';

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

// ---------------------------------------------------------------------------------------------
// Pure helpers: Retry-After, retry delay.

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

// ---------------------------------------------------------------------------------------------
// The client.

/** A response as the hooks see it. `body` is text; parse with {@link parseJsonBody}. */
export interface ProviderResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The request URL (unredacted; never log it without {@link redactUrl}). */
  url: string;
}

/** What a provider's error-body parser found. */
export interface ProviderErrorInfo {
  /** The provider's own code (`rateLimitExceeded`, `InvalidInstanceID.NotFound`, `not_found`). */
  providerCode?: string;
  /** The provider's message (scrubbed before use). */
  message?: string;
  /** Force a FleetwatchError code (e.g. EC2 `AuthFailure` on a 400 → `E_AUTH`). */
  code?: FleetwatchErrorCode;
}

/** Per-provider configuration of a {@link ProviderHttpClient}. */
export interface ProviderHttpConfig {
  /** The provider instance id (for errors and logs). */
  provider: string;
  /** Base URL; request paths are resolved against it. */
  baseUrl: string;
  /** User `http` options (already normalised or raw). */
  http?: ProviderHttpOptions | NormalizedProviderHttpOptions;
  logger?: Logger;
  clock?: Clock;
  /** Add auth headers to a request (bearer token, signature). Not called for `auth: false` requests. */
  authorize?: (req: AuthorizeContext) => Promise<void> | void;
  /** Called once on a 401; return true to retry the request once (after refreshing a token). */
  onUnauthorized?: () => boolean | Promise<boolean>;
  /** Is this response a throttle signal? @default status 429 */
  isThrottle?: (res: ProviderResponse, info: ProviderErrorInfo | undefined) => boolean;
  /** Parse the provider's error body. @default {@link parseCommonErrorBody} */
  parseError?: (res: ProviderResponse) => ProviderErrorInfo | undefined;
  /** Secret values to scrub from any message (called lazily). */
  secrets?: () => readonly string[];
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/** Passed to {@link ProviderHttpConfig.authorize}: mutate `headers` (and read the rest). */
export interface AuthorizeContext {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
  signal?: AbortSignal;
}

/** One request. */
export interface ProviderRequest {
  /** @default 'GET' */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** A path relative to `baseUrl` (leading `/` allowed) or an absolute URL. */
  url: string;
  searchParams?: Record<string, string | number | boolean | undefined>;
  /** JSON body. */
  json?: unknown;
  /** Form body (`application/x-www-form-urlencoded`). */
  form?: Record<string, string>;
  /** Raw body. */
  body?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Skip `authorize` (token endpoints). @default true */
  auth?: boolean;
  /** May 5xx/network errors be retried? @default true for GET/HEAD/PUT/DELETE */
  idempotent?: boolean;
}

/** Counters a client keeps (benchmarks assert one request per page). */
export interface ProviderHttpStats {
  /** HTTP exchanges attempted (including retries). */
  requests: number;
  /** Retries made. */
  retries: number;
}

/** The client a provider adapter uses. */
export interface ProviderHttpClient {
  readonly provider: string;
  readonly baseUrl: string;
  readonly options: NormalizedProviderHttpOptions;
  readonly stats: ProviderHttpStats;
  /** Send a request; a non-2xx status rejects with a mapped {@link FleetwatchError}. */
  request(req: ProviderRequest): Promise<ProviderResponse>;
  /** Send a request and parse the JSON body (`E_MALFORMED_RESPONSE` when it is not JSON). */
  json<T = unknown>(req: ProviderRequest): Promise<T>;
  /** Resolve a server-given link (next page) against `baseUrl`; `E_PROVIDER` if on another origin. */
  resolveLink(link: string): string;
}

/** An error body parsed as JSON, when it is a JSON object (or array); otherwise `undefined`. */
export function parseErrorJson(text: string): Record<string, unknown> | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
}

/** Parse the common error-body shapes (`{error:{code,message}}`, `{id,message}`, `{errors:[{reason}]}`, Nova `{fault:{message}}`). */
export function parseCommonErrorBody(res: ProviderResponse): ProviderErrorInfo | undefined {
  const b = parseErrorJson(res.body);
  if (!b) return undefined;
  const str = (v: unknown) =>
    typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
  if (b.error && typeof b.error === 'object') {
    const e = b.error as Record<string, unknown>;
    const first = Array.isArray(e.errors) ? (e.errors[0] as Record<string, unknown> | undefined) : undefined;
    return { providerCode: str(first?.reason) ?? str(e.code) ?? str(e.status), message: str(e.message) };
  }
  if (typeof b.error === 'string')
    return { providerCode: b.error, message: str(b.error_description) ?? str(b.message) };
  if (Array.isArray(b.errors)) {
    const first = b.errors[0] as Record<string, unknown> | undefined;
    return { providerCode: str(first?.code), message: str(first?.reason) ?? str(first?.message) };
  }
  if (typeof b.id === 'string' || typeof b.message === 'string')
    return { providerCode: str(b.id), message: str(b.message) };
  const keys = Object.keys(b);
  if (keys.length === 1 && b[keys[0]!] && typeof b[keys[0]!] === 'object') {
    const f = b[keys[0]!] as Record<string, unknown>;
    if (typeof f.message === 'string') return { providerCode: keys[0], message: f.message };
  }
  return undefined;
}

/** Parse a JSON body or throw `E_MALFORMED_RESPONSE` (bad or truncated JSON). */
export function parseJsonBody<T = unknown>(body: string, provider: string, url?: string): T {
  try {
    return JSON.parse(body) as T;
  } catch (cause) {
    throw new FleetwatchError(
      'E_MALFORMED_RESPONSE',
      `${provider}: response is not valid JSON${url ? ` (${redactUrl(url)})` : ''}`,
      { provider, cause: safeCause(cause, (t) => t), details: { bytes: body.length } },
    );
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

function isNormalized(
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

/**
 * Build the HTTP client for one provider instance.
 *
 * @example
 * ```ts
 * const client = createProviderHttpClient({
 *   provider: 'do-prod', baseUrl: 'https://api.digitalocean.com/v2/',
 *   authorize: ({ headers }) => { headers.authorization = `Bearer ${token}`; },
 *   secrets: () => [token],
 * });
 * const body = await client.json<{ droplets: unknown[] }>({ url: 'droplets', searchParams: { per_page: 200 } });
 * ```
 */
export function createProviderHttpClient(config: ProviderHttpConfig): ProviderHttpClient {
  const provider = config.provider;
  const options = isNormalized(config.http) ? config.http : normalizeProviderHttpOptions(config.http);
  const logger = config.logger ?? silentLogger;
  const clock = config.clock ?? systemClock;
  const parseError = config.parseError ?? parseCommonErrorBody;
  const isThrottle = config.isThrottle ?? ((res: ProviderResponse) => res.status === 429);
  let base: URL;
  try {
    base = new URL(config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`);
  } catch (cause) {
    throw new FleetwatchError('E_VALIDATION', 'options.baseUrl: expected an absolute URL', {
      path: 'options.baseUrl',
      provider,
      cause,
    });
  }
  const instance = got.extend({
    ...options.got,
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    timeout: { request: options.timeoutMs },
  });
  const stats: ProviderHttpStats = { requests: 0, retries: 0 };
  const secrets = () => config.secrets?.() ?? [];

  const resolve = (url: string, params: ProviderRequest['searchParams']): URL => {
    const u = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? new URL(url) : new URL(url.replace(/^\//, ''), base);
    if (params)
      for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  };

  const fail = (
    code: FleetwatchErrorCode,
    what: string,
    ctx: {
      status?: number;
      providerCode?: string;
      retryAfterMs?: number;
      cause?: unknown;
      method: string;
      url: URL;
      attempts: number;
      /** What this request sent that is secret (credential headers, secret form and JSON fields). */
      sent: readonly string[];
    },
  ) => {
    const scrub = (s: string) => scrubSecrets(s, [...secrets(), ...ctx.sent]);
    return new FleetwatchError(code, scrub(`${provider}: ${ctx.method} ${redactUrl(ctx.url)} ${what}`), {
      provider,
      status: ctx.status,
      providerCode: ctx.providerCode === undefined ? undefined : scrub(ctx.providerCode),
      retryAfterMs: ctx.retryAfterMs,
      cause: safeCause(ctx.cause, scrub),
      details: { method: ctx.method, url: scrub(redactUrl(ctx.url)), attempts: ctx.attempts },
    });
  };

  async function request(req: ProviderRequest): Promise<ProviderResponse> {
    const method = req.method ?? 'GET';
    const signal = req.signal;
    throwIfAborted(signal);
    const url = resolve(req.url, req.searchParams);
    const idempotent = req.idempotent ?? ['GET', 'HEAD', 'PUT', 'DELETE'].includes(method);
    let body: string | undefined = req.body;
    const baseHeaders: Record<string, string> = {
      'user-agent': options.userAgent,
      accept: 'application/json',
      ...config.headers,
      ...req.headers,
    };
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      baseHeaders['content-type'] ??= 'application/json';
    } else if (req.form) {
      body = new URLSearchParams(req.form).toString();
      baseHeaders['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    const sent: string[] = requestSecrets(baseHeaders, req.form, req.json);
    let attempt = 0;
    let waitedMs = 0;
    let refreshed = false;
    for (;;) {
      attempt++;
      const headers = { ...baseHeaders };
      if (req.auth !== false && config.authorize)
        await config.authorize({ method, url, headers, body, signal });
      sent.push(...requestSecrets(headers));
      throwIfAborted(signal);
      stats.requests++;
      const started = clock.now();
      let res: ProviderResponse | undefined;
      let failure: FleetwatchError | undefined;
      let retryable = false;
      let retryAfterMs: number | undefined;
      try {
        const r = await instance(url, { method, headers, body, signal });
        res = { status: r.statusCode, headers: r.headers, body: r.body, url: url.toString() };
      } catch (err) {
        if (signal?.aborted) throw abortError(signal);
        const code = err instanceof RequestError ? err.code : undefined;
        if (code === 'ETIMEDOUT' || (err instanceof Error && err.name === 'TimeoutError')) {
          failure = fail('E_TIMEOUT', `timed out after ${options.timeoutMs} ms`, {
            cause: err,
            method,
            url,
            attempts: attempt,
            sent,
          });
          retryable = idempotent;
        } else if (err instanceof RequestError && err.response) {
          // The response started but its body did not arrive whole.
          failure = fail('E_MALFORMED_RESPONSE', `truncated response body (${err.code})`, {
            status: err.response.statusCode,
            cause: err,
            method,
            url,
            attempts: attempt,
            sent,
          });
          retryable = idempotent;
        } else {
          failure = fail('E_NETWORK', `failed: ${code ?? 'network error'}`, {
            cause: err,
            method,
            url,
            attempts: attempt,
            sent,
          });
          retryable =
            idempotent && (code === undefined || NETWORK_CODES.has(code) || code === 'ERR_GOT_REQUEST_ERROR');
        }
      }
      if (res) {
        logger.debug(
          {
            provider,
            method,
            url: redactUrl(url),
            status: res.status,
            attempt,
            durationMs: clock.now() - started,
          },
          'provider request',
        );
        if (res.status >= 200 && res.status < 300) return res;
        const info = res.status >= 400 ? parseError(res) : undefined;
        const providerCode = info?.providerCode;
        const detail = info?.message ? `: ${info.message}` : '';
        retryAfterMs = parseRetryAfterMs(res.headers['retry-after'], clock.now());
        if (isThrottle(res, info)) {
          failure = fail('E_RATE_LIMIT', `throttled (HTTP ${res.status})${detail}`, {
            status: res.status,
            providerCode,
            retryAfterMs,
            method,
            url,
            attempts: attempt,
            sent,
          });
          retryable = true;
        } else if (
          res.status === 401 &&
          !refreshed &&
          config.onUnauthorized &&
          (await config.onUnauthorized())
        ) {
          refreshed = true;
          attempt--;
          continue;
        } else {
          const code: FleetwatchErrorCode =
            info?.code ??
            (res.status === 401 || res.status === 403
              ? 'E_AUTH'
              : res.status === 404 || res.status === 410
                ? 'E_NOT_FOUND'
                : res.status === 408 || res.status === 504
                  ? 'E_TIMEOUT'
                  : 'E_PROVIDER');
          failure = fail(
            code,
            `failed with HTTP ${res.status}${providerCode ? ` ${providerCode}` : ''}${detail}`,
            { status: res.status, providerCode, retryAfterMs, method, url, attempts: attempt, sent },
          );
          retryable =
            code !== 'E_AUTH' &&
            code !== 'E_NOT_FOUND' &&
            (res.status >= 500 || res.status === 408) &&
            (idempotent || res.status === 503);
        }
      }
      const err = failure as FleetwatchError;
      if (!retryable || attempt > options.retryLimit)
        throw withRetryAfter(err, options, retryAfterMs, attempt);
      if (retryAfterMs !== undefined && retryAfterMs > options.maxDelayMs) throw err;
      const delay = providerRetryDelayMs({
        attempt,
        retryAfterMs,
        baseDelayMs: options.baseDelayMs,
        maxDelayMs: options.maxDelayMs,
        random: options.random(),
      });
      if (waitedMs + delay > options.retryBudgetMs)
        throw withRetryAfter(err, options, retryAfterMs ?? delay, attempt);
      logger.warn(
        {
          provider,
          method,
          url: redactUrl(url),
          code: err.code,
          status: err.status,
          attempt,
          delayMs: delay,
        },
        'provider request retry',
      );
      stats.retries++;
      waitedMs += delay;
      await options.sleep(delay, signal);
    }
  }

  return {
    provider,
    baseUrl: base.toString(),
    options,
    stats,
    request,
    async json<T = unknown>(req: ProviderRequest): Promise<T> {
      const res = await request(req);
      return parseJsonBody<T>(res.body, provider, res.url);
    },
    resolveLink(link: string): string {
      const u = resolve(link, undefined);
      if (u.origin !== base.origin)
        throw new FleetwatchError(
          'E_PROVIDER',
          `${provider}: next-page link points to another origin (${u.origin})`,
          { provider, providerCode: 'FOREIGN_LINK' },
        );
      return u.toString();
    },
  };
}

function withRetryAfter(
  err: FleetwatchError,
  options: NormalizedProviderHttpOptions,
  retryAfterMs: number | undefined,
  attempts: number,
): FleetwatchError {
  if (err.code !== 'E_RATE_LIMIT' || err.retryAfterMs !== undefined) return err;
  const ms = retryAfterMs ?? Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempts);
  Object.defineProperty(err, 'retryAfterMs', { value: ms, enumerable: true });
  return err;
}

/** Resolve to `undefined` when `promise` rejects with `E_NOT_FOUND` (for `getNode`). */
export async function undefinedIfNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof FleetwatchError && err.code === 'E_NOT_FOUND') return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Pagination.

/** One page as an adapter fetched it: items, and the cursor of the next page (absent at the end). */
export interface ProviderPage<T> {
  items: T[];
  /** A token, a link or a page number as a string; `undefined`/empty at the end. */
  next?: string | undefined;
}

/** Options for {@link paginateProvider}. */
export interface PaginateOptions {
  /** Provider id, for errors. */
  provider: string;
  /** More pages than this raise `E_PROVIDER` (never a silent truncation). @default 10_000 */
  maxPages?: number;
  signal?: AbortSignal;
  /** Called after each page. */
  onPage?: (info: { page: number; nodes: number }) => void;
}

/**
 * Yield pages (arrays of items) from `fetchPage`, following `next` cursors to the end. A cursor seen
 * twice or more pages than `maxPages` raise `E_PROVIDER` — the loop never spins and never truncates.
 */
export async function* paginateProvider<T>(
  fetchPage: (
    cursor: string | undefined,
    ctx: { page: number; signal?: AbortSignal },
  ) => Promise<ProviderPage<T>>,
  opts: PaginateOptions,
): AsyncGenerator<T[], void, undefined> {
  const maxPages = opts.maxPages ?? 10_000;
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    throwIfAborted(opts.signal);
    if (page > maxPages)
      throw new FleetwatchError(
        'E_PROVIDER',
        `${opts.provider}: more than ${maxPages} pages; refusing to continue`,
        {
          provider: opts.provider,
          providerCode: 'PAGE_LIMIT',
          details: { maxPages },
        },
      );
    const result = await fetchPage(cursor, { page, signal: opts.signal });
    opts.onPage?.({ page, nodes: result.items.length });
    yield result.items;
    const next = result.next;
    if (next === undefined || next === '') return;
    if (seen.has(next) || next === cursor)
      throw new FleetwatchError(
        'E_PROVIDER',
        `${opts.provider}: pagination repeated a cursor on page ${page}; stopping`,
        {
          provider: opts.provider,
          providerCode: 'PAGINATION_LOOP',
          details: { page, cursor: redactUrl(next) },
        },
      );
    if (cursor !== undefined) seen.add(cursor);
    seen.add(next);
    cursor = next;
  }
}
