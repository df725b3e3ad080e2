import {
  type Clock,
  type Logger,
  loggerAndClock,
  nonEmptyString,
  positiveNumber,
  rejectUnknownKeys,
} from '../../core.js';
import { FleetwatchError, validationError } from '../../errors.js';
import type { CommonProviderOptions, ProviderKind } from '../types.js';
import type { ProviderHttpOptions } from './http-options.js';

/** Options every cloud factory takes besides its own: the common ones plus `http`. */
export interface CloudProviderOptions extends CommonProviderOptions {
  /** HTTP client options (timeouts, retries, user agent, got TLS/agent options). */
  http?: ProviderHttpOptions;
}

/** The key-pair operations. */
export type KeyPairOperation = 'listKeyPairs' | 'importKeyPair' | 'deleteKeyPair';

/** The keys {@link CloudProviderOptions} adds; factories list their own beside these. */
export const COMMON_OPTION_KEYS = ['id', 'logger', 'clock', 'http'] as const;

/** The checked common part of a factory's options. */
export interface AdapterBase {
  id: string;
  kind: ProviderKind;
  logger: Logger;
  clock: Clock;
}

/** Check the options object, its keys and `id`; return the common part. */
export function checkCommonOptions(
  options: unknown,
  kind: ProviderKind,
  ownKeys: readonly string[],
): AdapterBase {
  const id = checkOptionsShape(options, [...COMMON_OPTION_KEYS, ...ownKeys]);
  return { id, kind, ...loggerAndClock(options as CloudProviderOptions) };
}

/** Check that `options` is an object with only `allowed` keys and a non-empty `id`; return the id. */
export function checkOptionsShape(options: unknown, allowed: readonly string[]): string {
  if (typeof options !== 'object' || options === null) throw validationError('options', 'an object', options);
  rejectUnknownKeys(options, allowed);
  return nonEmptyString((options as { id?: unknown }).id, 'options.id');
}

/** The `logger` and `clock` options (one rule for every part: `src/core.ts`). */
export { loggerAndClock };

/** The `regionConcurrency` option of a multi-region adapter: an integer of at least 1. @default 4 */
export function regionConcurrencyOption(value: unknown): number {
  return value === undefined
    ? 4
    : positiveNumber(value, 'options.regionConcurrency', { integer: true, min: 1 });
}

/**
 * A credential from the option or, when absent, from the environment variable `envName`.
 * Missing in both → `E_CONFIG` naming the variable (never echoing a value).
 */
export function credential(
  value: unknown,
  path: string,
  envName: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (value !== undefined) {
    if (typeof value !== 'string' || value.length === 0)
      throw new FleetwatchError('E_VALIDATION', `${path}: expected a non-empty string`, {
        path,
        expected: 'a non-empty string',
      });
    return value;
  }
  const fromEnv = env[envName];
  if (fromEnv === undefined || fromEnv === '')
    throw new FleetwatchError('E_CONFIG', `${path} was not given and ${envName} is not set`, {
      path,
      details: { env: envName },
    });
  return fromEnv;
}

/** An optional base URL option, checked to be an absolute http(s) URL. */
export function baseUrlOption(value: unknown, path: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/i.test(value))
    throw validationError(path, 'an absolute http(s) URL', value);
  return value;
}

/** An optional integer option from `min` to `max`; `fallback` when absent. */
export function intOption(value: unknown, path: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw validationError(path, `an integer from ${min} to ${max}`, value);
  return value;
}

/**
 * The `regions` option of a multi-region adapter: `'all'`, or a non-empty array of names each
 * checked by `checkRegion` (duplicates dropped); `undefined` when absent.
 */
export function regionsOption(
  value: unknown,
  expected: string,
  checkRegion: (region: unknown, path: string) => string,
): readonly string[] | 'all' | undefined {
  if (value === 'all') return 'all';
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw validationError('options.regions', expected, value);
  return [...new Set(value.map((r, i) => checkRegion(r, `options.regions[${i}]`)))];
}
