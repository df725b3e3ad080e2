/**
 * Checks of the registry's constructor and factory options (`E_VALIDATION` naming the option).
 */
import { validationError } from '../errors.js';
import type { HistogramOptions } from './registry-types.js';

/** `options` when it is an object; `E_VALIDATION` for anything else but undefined. */
export function optionsObject<T extends object>(options: T | undefined): T | undefined {
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw validationError('options', 'an options object', options);
  return options;
}

export function checkAccuracy(options: HistogramOptions): number | undefined {
  const alpha = options.relativeAccuracy;
  if (alpha !== undefined && (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 0.5))) {
    throw validationError('options.relativeAccuracy', 'a number in (0, 0.5]', alpha);
  }
  return alpha;
}

/** `value` when it is undefined or an object with a `method` function; `E_VALIDATION` otherwise. */
export function checkFunctionOf<T>(value: T | undefined, path: string, method: string): T | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Record<string, unknown>)[method] !== 'function'
  ) {
    throw validationError(path, `an object with ${method}()`, value);
  }
  return value;
}
