import got, { type BeforeRequestHook, type RequestError, type RetryObject } from 'got';
import { type Clock, type Logger, silentLogger, systemClock } from '../../core.js';
import { abortError, FleetwatchError, throwIfAborted } from '../../errors.js';
import {
  isNormalizedHttpOptions,
  type NormalizedProviderHttpOptions,
  normalizeProviderHttpOptions,
  type ProviderHttpOptions,
} from './http-options.js';
import {
  classifyFailure,
  type FailedAttempt,
  type Failure,
  type ProviderErrorInfo,
  type ProviderResponse,
  parseCommonErrorBody,
  parseJsonBody,
} from './provider-errors.js';
import { redactUrl, requestSecrets, safeCause } from './redact.js';
import { providerRetryPolicy } from './retry.js';

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
  const options = isNormalizedHttpOptions(config.http)
    ? config.http
    : normalizeProviderHttpOptions(config.http);
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
      cause: safeCause(cause, (t) => t),
    });
  }
  const stats: ProviderHttpStats = { requests: 0, retries: 0 };
  const secrets = () => config.secrets?.() ?? [];

  /** The verdict on a failed attempt of `call`, kept so the final rejection reuses it. */
  const judge = (call: CallState, attempt: FailedAttempt): Failure => {
    const failure = classifyFailure(attempt, {
      provider,
      method: call.method,
      url: call.url,
      attempts: call.attempts,
      idempotent: call.idempotent,
      timeoutMs: options.timeoutMs,
      secrets: [...secrets(), ...call.sent],
      parseError,
      isThrottle,
      nowMs: clock.now(),
    });
    call.last = failure;
    return failure;
  };

  /** got's `calculateDelay`: the retry decision of {@link providerRetryPolicy}, plus one token refresh on 401. */
  const calculateDelay = async ({ error }: RetryObject): Promise<number> => {
    const call = (error.options.context as { call?: CallState }).call;
    // Not ours to retry: an abort, or a failure of our own hook (a token that could not be fetched).
    if (!call || call.signal?.aborted || ownError(error)) return 0;
    const failure = judge(call, attemptOf(error));
    if (failure.unauthorized && !call.refreshed && config.onUnauthorized) {
      call.refreshed = true;
      if (await config.onUnauthorized()) return 1;
    }
    const verdict = providerRetryPolicy({
      attempt: call.attempts - (call.refreshed ? 1 : 0),
      retryable: failure.retryable,
      retryAfterMs: failure.retryAfterMs,
      waitedMs: call.waitedMs,
      retryLimit: options.retryLimit,
      retryBudgetMs: options.retryBudgetMs,
      baseDelayMs: options.baseDelayMs,
      maxDelayMs: options.maxDelayMs,
      random: options.random(),
    });
    if (!verdict.retry) {
      call.suggestMs = verdict.suggestMs;
      return 0;
    }
    logger.warn(
      {
        provider,
        method: call.method,
        url: redactUrl(call.url),
        code: failure.error.code,
        status: failure.error.status,
        attempt: call.attempts,
        delayMs: verdict.delayMs,
      },
      'provider request retry',
    );
    stats.retries++;
    call.waitedMs += verdict.delayMs;
    // The wait itself is the injectable, abortable, unref'd `sleep`; got then re-sends at once.
    await options.sleep(verdict.delayMs, call.signal);
    return 1;
  };

  /** got's `beforeRequest` hook: count the attempt, authorise it and note the secrets it carries. */
  const beforeRequest: BeforeRequestHook = async (gotOptions) => {
    const call = (gotOptions.context as { call?: CallState }).call;
    if (!call) return;
    call.attempts++;
    stats.requests++;
    call.startedMs = clock.now();
    const headers: Record<string, string> = { ...call.headers };
    if (call.auth && config.authorize)
      await config.authorize({
        method: call.method,
        url: call.url,
        headers,
        body: call.body,
        signal: call.signal,
      });
    throwIfAborted(call.signal);
    call.sent.push(...requestSecrets(headers));
    for (const [name, value] of Object.entries(headers)) gotOptions.headers[name] = value;
  };

  const instance = got.extend({
    ...options.got,
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    timeout: { request: options.timeoutMs },
    retry: {
      limit: options.retryLimit + 1,
      methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH'],
      calculateDelay,
    },
    hooks: { beforeRequest: [beforeRequest] },
  });

  const resolve = (url: string, params: ProviderRequest['searchParams']): URL => {
    const u = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? new URL(url) : new URL(url.replace(/^\//, ''), base);
    if (params)
      for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  };

  async function request(req: ProviderRequest): Promise<ProviderResponse> {
    const method = req.method ?? 'GET';
    const signal = req.signal;
    throwIfAborted(signal);
    const url = resolve(req.url, req.searchParams);
    let body: string | undefined = req.body;
    const headers: Record<string, string> = {
      'user-agent': options.userAgent,
      accept: 'application/json',
      ...config.headers,
      ...req.headers,
    };
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    } else if (req.form) {
      body = new URLSearchParams(req.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    const call: CallState = {
      method,
      url,
      headers,
      body,
      signal,
      auth: req.auth !== false,
      idempotent: req.idempotent ?? ['GET', 'HEAD', 'PUT', 'DELETE'].includes(method),
      sent: requestSecrets(headers, req.form, req.json),
      attempts: 0,
      waitedMs: 0,
      startedMs: 0,
      refreshed: false,
    };
    let res: ProviderResponse;
    try {
      const r = await instance(url, {
        method,
        headers,
        body,
        signal,
        context: { call },
        resolveBodyOnly: false,
      });
      res = { status: r.statusCode, headers: r.headers, body: r.body, url: url.toString() };
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      const own = ownError(err);
      if (own) throw own;
      throw finalError(call, call.last ?? judge(call, attemptOf(err)));
    }
    logger.debug(
      {
        provider,
        method,
        url: redactUrl(url),
        status: res.status,
        attempt: call.attempts,
        durationMs: clock.now() - call.startedMs,
      },
      'provider request',
    );
    if (res.status >= 200 && res.status < 300) return res;
    throw finalError(call, judge(call, { response: res }));
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

/** One call through the client: what got's hooks need, and what its attempts spent. */
interface CallState {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal | undefined;
  auth: boolean;
  idempotent: boolean;
  /** Secret values this call's attempts carried. */
  sent: string[];
  attempts: number;
  waitedMs: number;
  startedMs: number;
  refreshed: boolean;
  /** The verdict on the last failed attempt. */
  last?: Failure;
  /** The wait to suggest when the policy stopped retrying. */
  suggestMs?: number;
}

/** A failed attempt as got reports it: the response it got (a non-2xx status), or the error. */
function attemptOf(err: unknown): FailedAttempt {
  const e = err as RequestError;
  const response = e.response;
  if (response && e.name === 'HTTPError')
    return {
      response: {
        status: response.statusCode,
        headers: response.headers,
        body: typeof response.body === 'string' ? response.body : '',
        url: String(response.url),
      },
    };
  return {
    error: {
      code: e.code,
      name: e.name,
      message: e.message ?? String(err),
      statusCode: response?.statusCode,
    },
  };
}

/** A {@link FleetwatchError} our own hooks threw (an abort during a wait, a token failure), unwrapped from got's error. */
function ownError(err: unknown): FleetwatchError | undefined {
  if (err instanceof FleetwatchError) return err;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause instanceof FleetwatchError ? cause : undefined;
}

/** The error a call rejects with: the last verdict's, with a suggested wait on a throttle. */
function finalError(call: CallState, failure: Failure): FleetwatchError {
  const err = failure.error;
  if (err.code === 'E_RATE_LIMIT' && err.retryAfterMs === undefined && call.suggestMs !== undefined)
    Object.defineProperty(err, 'retryAfterMs', { value: call.suggestMs, enumerable: true });
  return err;
}
