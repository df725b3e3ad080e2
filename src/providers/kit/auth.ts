/**
 * The authorised HTTP clients of the JSON cloud adapters: a client that sends a bearer token (a
 * fixed one, or short-lived ones from a {@link TokenCache}), the OAuth 2 token cache behind the
 * latter (Azure, GCE), and the whole factory set-up of a static-token API (DigitalOcean, Linode).
 */

import type { ProviderKind } from '../types.js';
import { createProviderHttpClient, type ProviderHttpClient, type ProviderHttpConfig } from './http-client.js';
import type { ProviderHttpOptions } from './http-options.js';
import {
  type AdapterBase,
  baseUrlOption,
  type CloudProviderOptions,
  checkCommonOptions,
  credential,
  intOption,
} from './options.js';
import { accessTokenFromResponse, parseOAuthError, TokenCache } from './token.js';

/** What {@link bearerHttpClient} needs besides the adapter base. */
export interface BearerHttpClientOptions extends Pick<ProviderHttpConfig, 'isThrottle' | 'secrets'> {
  baseUrl: string;
  http: ProviderHttpOptions | undefined;
  /**
   * A fixed token (also scrubbed as a secret), or a cache of short-lived ones: refreshed once on a
   * 401; pass `secrets` to scrub them (and whatever else must never be shown).
   */
  token: string | TokenCache;
}

/** The HTTP client of a bearer-token API: `authorization: Bearer <token>` on every request. */
export function bearerHttpClient(base: AdapterBase, options: BearerHttpClientOptions): ProviderHttpClient {
  const { token } = options;
  const common = {
    provider: base.id,
    baseUrl: options.baseUrl,
    http: options.http,
    logger: base.logger,
    clock: base.clock,
    isThrottle: options.isThrottle,
  };
  if (typeof token === 'string')
    return createProviderHttpClient({
      ...common,
      authorize: ({ headers }) => {
        headers.authorization = `Bearer ${token}`;
      },
      secrets: options.secrets ?? (() => [token]),
    });
  return createProviderHttpClient({
    ...common,
    authorize: async ({ headers, signal }) => {
      headers.authorization = `Bearer ${await token.get({ signal })}`;
    },
    onUnauthorized: () => {
      token.invalidate();
      return true;
    },
    secrets: options.secrets ?? (() => token.secrets()),
  });
}

/** Options of a cloud API authorised with one static bearer token (DigitalOcean, Linode). */
export interface TokenApiOptions extends CloudProviderOptions {
  token?: string;
  baseUrl?: string;
}

/** How {@link tokenApiSetup} checks a factory's options. */
export interface TokenApiSpec<K extends string> {
  kind: ProviderKind;
  /** The environment variable the token defaults to. */
  tokenEnv: string;
  defaultBaseUrl: string;
  /** The page-size option: its key, range and default. */
  pageSize: { key: K; min: number; max: number; fallback: number };
}

/**
 * The factory part of a static-bearer-token API: check the options (`token`, `baseUrl` and the
 * page-size option besides the common ones), take the token from the option or the environment
 * and build the HTTP client.
 */
export function tokenApiSetup<K extends string>(
  options: TokenApiOptions & Partial<Record<K, number>>,
  spec: TokenApiSpec<K>,
): { base: AdapterBase; http: ProviderHttpClient; pageSize: number } {
  const { key, min, max, fallback } = spec.pageSize;
  const base = checkCommonOptions(options, spec.kind, ['token', 'baseUrl', key]);
  const token = credential(options.token, 'options.token', spec.tokenEnv);
  const pageSize = intOption(options[key], `options.${key}`, min, max, fallback);
  const http = bearerHttpClient(base, {
    baseUrl: baseUrlOption(options.baseUrl, 'options.baseUrl', spec.defaultBaseUrl),
    http: options.http,
    token,
  });
  return { base, http, pageSize };
}

/** What {@link oauthTokenCache} needs besides the adapter base. */
export interface OAuthTokenCacheOptions extends Pick<ProviderHttpConfig, 'secrets'> {
  /** Base URL of the token client (the authority host, or the token endpoint itself). */
  baseUrl: string;
  /** The token endpoint, relative to `baseUrl` or absolute. */
  url: string;
  http: ProviderHttpOptions | undefined;
  /** The form fields of one token request, sent at `nowMs` (the token's lifetime counts from then). */
  form: (nowMs: number) => Record<string, string>;
}

/**
 * A {@link TokenCache} of OAuth 2 access tokens, each fetched with one form POST (no bearer auth on
 * it); OAuth error bodies map as {@link parseOAuthError} says.
 */
export function oauthTokenCache(base: AdapterBase, options: OAuthTokenCacheOptions): TokenCache {
  const tokenHttp = createProviderHttpClient({
    provider: base.id,
    baseUrl: options.baseUrl,
    http: options.http,
    logger: base.logger,
    clock: base.clock,
    parseError: parseOAuthError,
    secrets: options.secrets,
  });
  return new TokenCache({
    clock: base.clock,
    fetch: async ({ signal }) => {
      const now = base.clock.now();
      const body = await tokenHttp.json({
        method: 'POST',
        url: options.url,
        auth: false,
        form: options.form(now),
        signal,
      });
      return accessTokenFromResponse(body, now, base.id);
    },
  });
}
