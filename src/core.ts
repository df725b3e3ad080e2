/**
 * Small shared pieces every area uses: the injectable clock and logger, and option helpers.
 */
import { validationError } from './errors.js';

/** A clock: `now()` in epoch milliseconds. Tests inject a fake one. */
export interface Clock {
  now(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A pino-compatible logger: `(obj, msg)` at four levels. */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

const noop = (): void => {};

/** The default logger: silent. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Options every long-running async call accepts. */
export interface AbortOptions {
  /** Abort the operation; it rejects with `E_ABORTED`. */
  signal?: AbortSignal;
}

/** Reject unknown keys of an options object with `E_VALIDATION`. */
export function rejectUnknownKeys(options: object, allowed: readonly string[], path = 'options'): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw validationError(`${path}.${key}`, `one of ${allowed.join(', ')}`, key);
  }
}

/** Check a positive finite number (or integer) option, returning it. */
export function positiveNumber(value: unknown, path: string, opts: { integer?: boolean; min?: number } = {}) {
  const min = opts.min ?? Number.MIN_VALUE;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (opts.integer === true && !Number.isInteger(value))
  ) {
    throw validationError(path, `${opts.integer ? 'an integer' : 'a number'} >= ${min}`, value);
  }
  return value;
}

/** Check a non-empty string option, returning it. */
export function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw validationError(path, 'a non-empty string', value);
  return value;
}
