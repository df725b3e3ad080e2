import { type AbortOptions, nonEmptyString } from '../../core.js';
import { FleetwatchError, validationError } from '../../errors.js';

/**
 * Only the `signal` of `opts` (`{}` without one), to pass on to a request without copying other options.
 *
 * @example
 * ```ts
 * await http.json({ url: 'os-keypairs', ...signalOf(opts) });
 * ```
 */
export function signalOf(opts: AbortOptions): { signal?: AbortSignal } {
  return opts.signal === undefined ? {} : { signal: opts.signal };
}

/** Check a node id argument. */
export function nodeIdArg(id: unknown, path = 'id'): string {
  return nonEmptyString(id, path);
}

/**
 * `createNode`'s `input.extra`: only the cloud's own create fields (`allowed`) may be in it, as
 * they are passed through to the API. None → `{}`.
 */
export function createExtraArg(
  extra: Record<string, unknown> | undefined,
  allowed: readonly string[],
  cloud: string,
): Record<string, unknown> {
  const out = extra ?? {};
  for (const k of Object.keys(out))
    if (!allowed.includes(k))
      throw new FleetwatchError('E_VALIDATION', `input.extra.${k}: not a ${cloud} create field`, {
        path: `input.extra.${k}`,
        expected: allowed.join(', '),
      });
  return out;
}

/** Check a tags record argument: an object of strings. */
export function tagsArg(tags: unknown, path = 'tags'): Record<string, string> {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags))
    throw validationError(path, 'an object', tags);
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== 'string') throw validationError(`${path}.${k}`, 'a string', v);
  }
  return tags as Record<string, string>;
}

/** `tags` without the keys in `drop`. */
export function withoutKeys(tags: Record<string, string>, drop: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k]) => !drop.has(k)));
}

/** Check a tag-key list argument. */
export function keysArg(keys: unknown, path = 'keys'): string[] {
  if (!Array.isArray(keys)) throw validationError(path, 'an array of strings', keys);
  keys.forEach((k, i) => {
    if (typeof k !== 'string') throw validationError(`${path}[${i}]`, 'a string', k);
  });
  return keys as string[];
}
