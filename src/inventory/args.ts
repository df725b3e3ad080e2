/**
 * Argument checks shared by the inventory stores (memory and Cassandra). Internal: not exported
 * from the package.
 */
import { validationError } from '../errors.js';

/** Check an array argument and each of its items (`item` says what one is); `E_VALIDATION` at `path[i]`. */
export function checkArray<T>(
  value: readonly T[],
  path: string,
  ok: (item: T) => boolean,
  item: string,
): void {
  if (!Array.isArray(value)) throw validationError(path, `an array, each ${item}`, value);
  for (let i = 0; i < value.length; i++) {
    if (!ok(value[i] as T)) throw validationError(`${path}[${i}]`, item, value[i]);
  }
}

/** Check a node uid argument. */
export function checkUid(uid: unknown, path = 'uid'): asserts uid is string {
  if (typeof uid !== 'string' || uid === '') throw validationError(path, 'a node uid', uid);
}
