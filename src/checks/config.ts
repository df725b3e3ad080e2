/**
 * Small validators for check-type config blocks: each takes the value and its path and throws
 * `E_VALIDATION` naming the field.
 */
import { abortError, FleetwatchError, validationError } from '../errors.js';
import { compileSafeRegex, DEFAULT_MAX_MATCH_CHARS, MAX_MATCH_CHARS, type SafeRegex } from './safe-regex.js';
import type { CheckMetrics, CheckOutcome } from './types.js';

/** The config block as a plain object (an absent block is `{}`), rejecting unknown keys. */
export function configObject(
  value: unknown,
  path: string,
  allowed: readonly string[],
): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw validationError(path, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw validationError(`${path}.${key}`, `one of ${allowed.join(', ')}`, key);
  }
  return value as Record<string, unknown>;
}

/** An optional string field. */
export function optString(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw validationError(path, 'a non-empty string', value);
  return value;
}

/** An optional boolean field with a default. */
export function optBool(value: unknown, path: string, def: boolean): boolean {
  if (value === undefined) return def;
  if (typeof value !== 'boolean') throw validationError(path, 'a boolean', value);
  return value;
}

/** An optional integer field in [min, max] with a default. */
export function optInt(value: unknown, path: string, def: number, min: number, max: number): number;
export function optInt(
  value: unknown,
  path: string,
  def: undefined,
  min: number,
  max: number,
): number | undefined;
export function optInt(value: unknown, path: string, def: number | undefined, min: number, max: number) {
  if (value === undefined) return def;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw validationError(path, `an integer ${min}..${max}`, value);
  return value;
}

/** An optional regular expression given as a string, compiled for linear-time matching (RE2 syntax). */
export function optRegex(value: unknown, path: string): SafeRegex | undefined {
  const s = optString(value, path);
  return s === undefined ? undefined : compileSafeRegex(s, path);
}

/** An optional `Record<string, string>`. */
export function optStringRecord(value: unknown, path: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw validationError(path, 'an object of strings', value);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw validationError(`${path}.${k}`, 'a string', v);
  }
  return { ...(value as Record<string, string>) };
}

/**
 * What a run rejects with when its signal fired: the reason itself when it is a `FleetwatchError`
 * (the scheduler aborts with `E_TIMEOUT` or `E_ABORTED`), else `E_ABORTED` with the reason as `cause`,
 * never a raw `DOMException`.
 */
export function abortedError(signal: AbortSignal): FleetwatchError {
  return signal.reason instanceof FleetwatchError ? signal.reason : abortError(signal);
}

/** A short, secret-free message for a network error (`ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1`). */
export function errorText(err: unknown): string {
  if (err instanceof FleetwatchError) return err.message;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Milliseconds since `t0` (a `performance.now()` value), rounded to µs. */
export function since(t0: number, now: number): number {
  return Math.round((now - t0) * 1000) / 1000;
}

/**
 * The outcome of a run that failed with `err`: rejects with {@link abortedError} when `signal` fired,
 * else the metrics so far, with `duration` when the run had started (`t0`), and the error's text.
 */
export function failedRun(
  err: unknown,
  signal: AbortSignal | undefined,
  metrics: CheckMetrics,
  t0?: number,
): CheckOutcome {
  if (signal?.aborted) throw abortedError(signal);
  if (t0 !== undefined) metrics.duration = since(t0, performance.now());
  return { metrics, error: errorText(err) };
}

/** The `maxMatchChars` option of a check that matches a regex: 1 to 1 Mi characters, 64 Ki by default. */
export function optMaxMatchChars(value: unknown, path: string): number {
  return optInt(value, `${path}.maxMatchChars`, DEFAULT_MAX_MATCH_CHARS, 1, MAX_MATCH_CHARS);
}
