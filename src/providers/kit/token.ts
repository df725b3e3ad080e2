/**
 * One small helper every token-based provider shares (OAuth client credentials, JWT bearer,
 * Keystone): a cached access token, refreshed shortly before it expires, and refreshed once more
 * when the API answers 401. The token value lives in a private field, so inspecting or
 * `JSON.stringify`-ing the cache never shows it.
 */
import { type Clock, systemClock } from '../../core.js';
import { FleetwatchError, throwIfAborted } from '../../errors.js';
import { type ProviderErrorInfo, parseErrorJson } from './provider-errors.js';

/** A token as a token endpoint returned it. */
export interface AccessToken {
  /** The secret token value. */
  value: string;
  /** Epoch milliseconds when it expires; `undefined` means "until the API rejects it". */
  expiresAtMs?: number;
}

/** Options for {@link TokenCache}. */
export interface TokenCacheOptions {
  /** Fetch a fresh token. Called at most once at a time. */
  fetch: (opts: { signal?: AbortSignal }) => Promise<AccessToken>;
  /** Refresh this long before `expiresAtMs`. @default 60_000 */
  refreshBeforeMs?: number;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * A cached access token with refresh before expiry and a one-shot refresh on 401.
 *
 * @example
 * ```ts
 * const tokens = new TokenCache({ fetch: async () => ({ value: 't', expiresAtMs: Date.now() + 3600_000 }) });
 * const bearer = await tokens.get();
 * ```
 */
export class TokenCache {
  readonly #fetch: TokenCacheOptions['fetch'];
  readonly #refreshBeforeMs: number;
  readonly #clock: Clock;
  #token: AccessToken | undefined;
  #inflight: Promise<AccessToken> | undefined;
  #fetches = 0;

  constructor(options: TokenCacheOptions) {
    this.#fetch = options.fetch;
    this.#refreshBeforeMs = options.refreshBeforeMs ?? 60_000;
    this.#clock = options.clock ?? systemClock;
  }

  /** How many times a token was fetched (for tests and benchmarks). */
  get fetches(): number {
    return this.#fetches;
  }

  /** The current token value, fetching a new one when absent or about to expire. */
  async get(opts: { signal?: AbortSignal } = {}): Promise<string> {
    throwIfAborted(opts.signal);
    const token = this.#token;
    if (
      token &&
      (token.expiresAtMs === undefined || token.expiresAtMs - this.#refreshBeforeMs > this.#clock.now())
    )
      return token.value;
    return (await this.#refresh(opts)).value;
  }

  /** Forget the cached token (after a 401), so the next {@link get} fetches a new one. */
  invalidate(): void {
    this.#token = undefined;
  }

  /** The secret values currently held, for scrubbing messages. */
  secrets(): string[] {
    return this.#token ? [this.#token.value] : [];
  }

  #refresh(opts: { signal?: AbortSignal }): Promise<AccessToken> {
    if (!this.#inflight) {
      this.#fetches++;
      this.#inflight = this.#fetch(opts).then(
        (token) => {
          this.#token = token;
          this.#inflight = undefined;
          return token;
        },
        (err: unknown) => {
          this.#inflight = undefined;
          throw err;
        },
      );
    }
    return this.#inflight;
  }

  /** Never shows the token. */
  toJSON(): Record<string, unknown> {
    return { cached: this.#token !== undefined };
  }
}

/** OAuth 2 error codes that mean "your credentials are wrong" (RFC 6749 §5.2). */
const OAUTH_AUTH_ERRORS = new Set([
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'access_denied',
]);

/**
 * An error-body parser for OAuth token endpoints (`{error, error_description}`): credential errors
 * become `E_AUTH`, whatever the HTTP status.
 */
export function parseOAuthError(res: { status: number; body: string }): ProviderErrorInfo | undefined {
  const b = parseErrorJson(res.body);
  if (!b) return undefined;
  if (typeof b.error !== 'string') return undefined;
  const description =
    typeof b.error_description === 'string' ? b.error_description.split(/\r?\n/)[0] : undefined;
  return {
    providerCode: b.error,
    message: description,
    code: OAUTH_AUTH_ERRORS.has(b.error) ? 'E_AUTH' : undefined,
  };
}

/** Read `{ access_token, expires_in | expires_on }` from a token response into an {@link AccessToken}. */
export function accessTokenFromResponse(body: unknown, nowMs: number, provider: string): AccessToken {
  const b = (body ?? {}) as { access_token?: unknown; expires_in?: unknown; expires_on?: unknown };
  if (typeof b.access_token !== 'string' || b.access_token.length === 0)
    throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: token response has no access_token`, {
      provider,
    });
  const expiresOn = Number(b.expires_on);
  const expiresIn = Number(b.expires_in);
  const expiresAtMs =
    Number.isFinite(expiresOn) && expiresOn > 0
      ? expiresOn * 1000
      : Number.isFinite(expiresIn) && expiresIn > 0
        ? nowMs + expiresIn * 1000
        : undefined;
  return { value: b.access_token, expiresAtMs };
}
