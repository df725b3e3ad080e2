/**
 * GCE service-account credentials: the key file named by GOOGLE_APPLICATION_CREDENTIALS, its checks
 * (never echoing the key), the RS256 JWT assertion of the OAuth 2 JWT-bearer flow, and the
 * authenticated HTTP client of a `gce()` provider.
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FleetwatchError } from '../errors.js';
import type { GceOptions } from './gce.js';
import {
  type AdapterBase,
  asObject,
  baseUrlOption,
  bearerHttpClient,
  credential,
  nodeIdArg,
  oauthTokenCache,
  type ProviderHttpClient,
} from './kit/index.js';

const SCOPE = 'https://www.googleapis.com/auth/compute';
const THROTTLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

/** A checked service account: its email and private key. */
export interface LoadedAccount {
  client_email: string;
  key: KeyObject;
}

/** Read the key file named by GOOGLE_APPLICATION_CREDENTIALS (`E_CONFIG` when it cannot). */
export function readKeyFile(): Record<string, unknown> {
  const path = credential(undefined, 'options.serviceAccount', 'GOOGLE_APPLICATION_CREDENTIALS');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new FleetwatchError(
      'E_CONFIG',
      `GOOGLE_APPLICATION_CREDENTIALS: cannot read the key file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        path: 'GOOGLE_APPLICATION_CREDENTIALS',
      },
    );
  }
  try {
    return asObject(JSON.parse(text), 'gce', 'key file');
  } catch {
    throw new FleetwatchError(
      'E_CONFIG',
      'GOOGLE_APPLICATION_CREDENTIALS: the key file is not a JSON object',
      {
        path: 'GOOGLE_APPLICATION_CREDENTIALS',
      },
    );
  }
}

/** Check a service account's `client_email` and `private_key`. */
export function checkServiceAccount(value: unknown, path: string): LoadedAccount {
  const v = (value ?? {}) as Record<string, unknown>;
  if (typeof v.client_email !== 'string' || v.client_email === '')
    throw new FleetwatchError(
      path.startsWith('options') ? 'E_VALIDATION' : 'E_CONFIG',
      `${path}.client_email: expected a non-empty string`,
      {
        path: `${path}.client_email`,
      },
    );
  try {
    if (typeof v.private_key !== 'string') throw new Error('not a string');
    return { client_email: v.client_email, key: createPrivateKey(v.private_key) };
  } catch {
    // Never echo the key.
    throw new FleetwatchError(
      path.startsWith('options') ? 'E_VALIDATION' : 'E_CONFIG',
      `${path}.private_key: expected a PEM private key`,
      {
        path: `${path}.private_key`,
      },
    );
  }
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** Build the RS256 JWT assertion of the OAuth 2 JWT-bearer flow. */
export function signJwt(account: LoadedAccount, audience: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(
    JSON.stringify({ iss: account.client_email, scope: SCOPE, aud: audience, iat, exp: iat + 3600 }),
  )}`;
  const signature = createSign('RSA-SHA256').update(input).sign(account.key);
  return `${input}.${b64url(signature)}`;
}

/**
 * The project and the signed-in HTTP client of a `gce()` provider: the service account (from
 * `options.serviceAccount` or the key file), the project (`options.project` or the key file's
 * `project_id`, else `E_CONFIG`), and a client whose bearer token comes from a signed JWT. The last
 * assertion and the issued token are scrubbed from everything reported; 429 and GCE's rate-limit
 * 403s count as throttling.
 *
 * @example
 * ```ts
 * const { project, http } = gceConnection(checkCommonOptions(options, 'gce', GCE_KEYS), options);
 * ```
 */
export function gceConnection(
  base: AdapterBase,
  options: GceOptions,
): { project: string; http: ProviderHttpClient } {
  const keyFile = options.serviceAccount === undefined ? readKeyFile() : undefined;
  const account = checkServiceAccount(
    options.serviceAccount ?? keyFile,
    options.serviceAccount ? 'options.serviceAccount' : 'GOOGLE_APPLICATION_CREDENTIALS',
  );
  const project =
    options.project ?? (typeof keyFile?.project_id === 'string' ? keyFile.project_id : undefined);
  if (project === undefined)
    throw new FleetwatchError(
      'E_CONFIG',
      'options.project was not given and the key file has no project_id',
      {
        path: 'options.project',
      },
    );
  nodeIdArg(project, 'options.project');
  const tokenUrl = baseUrlOption(options.tokenUrl, 'options.tokenUrl', 'https://oauth2.googleapis.com/token');
  // The last signed assertion and the issued token are scrubbed from everything reported.
  let assertion = '';
  const secrets = () => [assertion, ...tokens.secrets()];
  const tokens = oauthTokenCache(base, {
    baseUrl: tokenUrl,
    url: tokenUrl,
    http: options.http,
    secrets,
    form: (now) => {
      assertion = signJwt(account, tokenUrl, now);
      return { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion };
    },
  });
  const http = bearerHttpClient(base, {
    baseUrl: baseUrlOption(options.baseUrl, 'options.baseUrl', 'https://compute.googleapis.com/compute/v1/'),
    http: options.http,
    token: tokens,
    secrets,
    isThrottle: (res, info) =>
      res.status === 429 || (res.status === 403 && THROTTLE_REASONS.has(info?.providerCode ?? '')),
  });
  return { project, http };
}
