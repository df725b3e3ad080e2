import { FleetwatchError, type FleetwatchErrorCode } from '../../errors.js';
import { redactUrl, safeCause, scrubSecrets } from './redact.js';
import { parseRetryAfterMs } from './retry.js';

/** A response as the hooks see it. `body` is text; parse with `parseJsonBody`. */
export interface ProviderResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The request URL (unredacted; never log it without `redactUrl`). */
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

/** Resolve to `undefined` when `promise` rejects with `E_NOT_FOUND` (for `getNode`). */
export async function undefinedIfNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof FleetwatchError && err.code === 'E_NOT_FOUND') return undefined;
    throw err;
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
  'ERR_GOT_REQUEST_ERROR',
]);

/** One failed attempt, as {@link classifyFailure} sees it: a response, or what got threw. */
export type FailedAttempt =
  | { response: ProviderResponse; error?: undefined }
  | { response?: undefined; error: { code?: string; name?: string; message: string; statusCode?: number } };

/** What a request was, for {@link classifyFailure}. */
export interface AttemptContext {
  provider: string;
  method: string;
  url: URL;
  /** Attempts made so far, this one included. */
  attempts: number;
  idempotent: boolean;
  timeoutMs: number;
  /** Every secret to scrub: the provider's and what this request carried. */
  secrets: readonly string[];
  parseError: (res: ProviderResponse) => ProviderErrorInfo | undefined;
  isThrottle: (res: ProviderResponse, info: ProviderErrorInfo | undefined) => boolean;
  nowMs: number;
}

/** The verdict on one failed attempt. */
export interface Failure {
  /** The error the call rejects with if it is not retried (scrubbed). */
  error: FleetwatchError;
  /** May the attempt be retried (the provider's throttle signal, or a transient failure of a safe request)? */
  retryable: boolean;
  /** A 401 that a token refresh may cure. */
  unauthorized: boolean;
  /** The server's `Retry-After`, in ms. */
  retryAfterMs?: number;
}

function statusCode(status: number, info: ProviderErrorInfo | undefined): FleetwatchErrorCode {
  if (info?.code) return info.code;
  if (status === 401 || status === 403) return 'E_AUTH';
  if (status === 404 || status === 410) return 'E_NOT_FOUND';
  if (status === 408 || status === 504) return 'E_TIMEOUT';
  return 'E_PROVIDER';
}

/**
 * Map one failed attempt to a scrubbed {@link FleetwatchError} and say whether it may be retried:
 * the provider's throttle signal always (any method: a throttled request was not processed); 5xx,
 * 408, timeouts, cut bodies and connection errors only for idempotent requests (503 for any).
 *
 * @example
 * ```ts
 * const { error, retryable } = classifyFailure({ response }, ctx);
 * ```
 */
export function classifyFailure(attempt: FailedAttempt, ctx: AttemptContext): Failure {
  const scrub = (s: string) => scrubSecrets(s, ctx.secrets);
  const make = (
    code: FleetwatchErrorCode,
    what: string,
    extra: { status?: number; providerCode?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) =>
    new FleetwatchError(code, scrub(`${ctx.provider}: ${ctx.method} ${redactUrl(ctx.url)} ${what}`), {
      provider: ctx.provider,
      status: extra.status,
      providerCode: extra.providerCode === undefined ? undefined : scrub(extra.providerCode),
      retryAfterMs: extra.retryAfterMs,
      cause: safeCause(extra.cause, scrub),
      details: { method: ctx.method, url: scrub(redactUrl(ctx.url)), attempts: ctx.attempts },
    });
  if (attempt.error) {
    const err = attempt.error;
    if (err.code === 'ETIMEDOUT' || err.name === 'TimeoutError')
      return {
        error: make('E_TIMEOUT', `timed out after ${ctx.timeoutMs} ms`, { cause: err }),
        retryable: ctx.idempotent,
        unauthorized: false,
      };
    if (err.statusCode !== undefined)
      return {
        error: make('E_MALFORMED_RESPONSE', `truncated response body (${err.code})`, {
          status: err.statusCode,
          cause: err,
        }),
        retryable: ctx.idempotent,
        unauthorized: false,
      };
    return {
      error: make('E_NETWORK', `failed: ${err.code ?? 'network error'}`, { cause: err }),
      retryable: ctx.idempotent && (err.code === undefined || NETWORK_CODES.has(err.code)),
      unauthorized: false,
    };
  }
  const res = attempt.response;
  const info = res.status >= 400 ? ctx.parseError(res) : undefined;
  const providerCode = info?.providerCode;
  const detail = info?.message ? `: ${info.message}` : '';
  const retryAfterMs = parseRetryAfterMs(res.headers['retry-after'], ctx.nowMs);
  const status = res.status;
  if (ctx.isThrottle(res, info))
    return {
      error: make('E_RATE_LIMIT', `throttled (HTTP ${status})${detail}`, {
        status,
        providerCode,
        retryAfterMs,
      }),
      retryable: true,
      unauthorized: false,
      retryAfterMs,
    };
  const code = statusCode(status, info);
  return {
    error: make(code, `failed with HTTP ${status}${providerCode ? ` ${providerCode}` : ''}${detail}`, {
      status,
      providerCode,
      retryAfterMs,
    }),
    retryable:
      code !== 'E_AUTH' &&
      code !== 'E_NOT_FOUND' &&
      (status >= 500 || status === 408) &&
      (ctx.idempotent || status === 503),
    unauthorized: status === 401,
    retryAfterMs,
  };
}
