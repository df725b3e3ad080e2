/**
 * One small helper every token-based provider shares (OAuth client credentials, JWT bearer,
 * Keystone): a cached access token, refreshed shortly before it expires, and refreshed once more
 * when the API answers 401. The token value lives in a private field, so inspecting or
 * `JSON.stringify`-ing the cache never shows it.
 */
import { type Clock, systemClock } from '../core.js';
import { throwIfAborted } from '../errors.js';

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
