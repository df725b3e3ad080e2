/**
 * Argument checks shared by the inventory and its stores (memory and Cassandra). Internal: not
 * exported from the package.
 */
import { validationError } from '../errors.js';
import type { QueryAst } from './query-types.js';

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

/** A query argument: a string or a parsed {@link QueryAst}; `E_VALIDATION` at `query` otherwise. */
export function checkQuery(query: unknown): string | QueryAst {
  if (typeof query === 'string') return query;
  if (typeof query === 'object' && query !== null && typeof (query as { type?: unknown }).type === 'string')
    return query as QueryAst;
  throw validationError('query', 'a query string or a parsed query', query);
}
