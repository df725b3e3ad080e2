/**
 * GCE service-account credentials: the key file named by GOOGLE_APPLICATION_CREDENTIALS, its checks
 * (never echoing the key) and the RS256 JWT assertion of the OAuth 2 JWT-bearer flow.
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FleetwatchError } from '../errors.js';
import { asObject, credential } from './kit/index.js';

const SCOPE = 'https://www.googleapis.com/auth/compute';

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
