/**
 * Small shared pieces every area uses: the injectable clock and logger, and option helpers.
 */
import { validationError } from './errors.js';

/** A clock: `now()` in epoch milliseconds. Tests inject a fake one. */
export interface Clock {
  /** The current time, epoch ms. */
  now(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A pino-compatible logger: `(obj, msg)` at four levels. */
export interface Logger {
  /** Detail for debugging. */
  debug(obj: Record<string, unknown>, msg?: string): void;
  /** A normal event worth recording. */
  info(obj: Record<string, unknown>, msg?: string): void;
  /** Something went wrong and was handled (a drop, a retry, a stale provider). */
  warn(obj: Record<string, unknown>, msg?: string): void;
  /** Something failed that the caller should look at. */
  error(obj: Record<string, unknown>, msg?: string): void;
}

const noop = (): void => {};

/** The default logger: silent. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/**
 * The `logger` and `clock` options, defaulting to {@link silentLogger} and {@link systemClock}.
 *
 * @example
 * ```ts
 * const { logger, clock } = loggerAndClock(options);
 * ```
 */
export function loggerAndClock(options: { logger?: Logger; clock?: Clock }): {
  logger: Logger;
  clock: Clock;
} {
  return { logger: options.logger ?? silentLogger, clock: options.clock ?? systemClock };
}

/** Options every long-running async call accepts. */
export interface AbortOptions {
  /** Abort the operation; it rejects with `E_ABORTED`. */
  signal?: AbortSignal;
}

/**
 * Check the `{ signal? }` options of an async call: undefined or an object whose `signal` is
 * undefined or an `AbortSignal`; `E_VALIDATION` otherwise. Returns the options (`{}` for undefined).
 */
export function checkAbortOptions<T extends AbortOptions>(options: T | undefined, path = 'opts'): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null)
    throw validationError(path, 'an options object', options);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw validationError(`${path}.signal`, 'an AbortSignal', signal);
  return options;
}

/** Reject unknown keys of an options object with `E_VALIDATION` (and anything that is not an object). */
export function rejectUnknownKeys(options: object, allowed: readonly string[], path = 'options'): void {
  if (typeof options !== 'object' || options === null)
    throw validationError(path, 'an options object', options);
  if (!Array.isArray(allowed)) throw validationError('allowed', 'an array of option names', allowed);
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

/**
 * `fields` without its `undefined` entries, to spread into an object whose optional fields must
 * be absent rather than `undefined` (a node, a store query).
 *
 * @example
 * ```ts
 * const node = { id, ...definedFields({ zone, size }) }; // no `zone: undefined`
 * ```
 */
export function definedFields<T extends object>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: { [K in keyof T]?: Exclude<T[K], undefined> } = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) out[k as keyof T] = v as Exclude<T[keyof T], undefined>;
  }
  return out;
}
