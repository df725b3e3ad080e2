/**
 * A series' full tag set as the registry keeps it: the registry's tags merged with an instrument's,
 * checked against the naming rules (`src/naming.ts`), sorted by key and frozen; and its canonical
 * key. Runs once per handle lookup, never on the recording hot path.
 */
import { type FleetwatchError, validationError } from '../errors.js';
import { MAX_TAGS, tagsError } from '../naming.js';

/** A checked, sorted, frozen tag set. */
export type TagSet = Readonly<Record<string, string>>;

/** The empty tag set. */
export const EMPTY_TAGS: TagSet = Object.freeze({});

/**
 * `base` merged with `tags` (tags win), sorted and frozen; or the `E_VALIDATION` error when `tags`
 * breaks the series tag rules or the merged set has more than {@link MAX_TAGS} tags: exactly what
 * a store would refuse for a point with the merged tags.
 */
export function seriesTags(base: TagSet, tags: unknown, path = 'tags'): TagSet | FleetwatchError {
  const err = tagsError(tags, path);
  if (err !== undefined) return err;
  const all: Record<string, string> =
    tags === undefined ? base : { ...base, ...(tags as Record<string, string>) };
  const keys = Object.keys(all).sort();
  if (keys.length > MAX_TAGS) {
    return validationError(path, `at most ${MAX_TAGS} tags with the registry's`, `${keys.length} tags`);
  }
  const out: Record<string, string> = {};
  for (const key of keys) out[key] = all[key]!;
  return Object.freeze(out);
}

/** The canonical key of a sorted tag set: unambiguous (JSON of the pairs). */
export function tagsKey(sorted: TagSet): string {
  return JSON.stringify(sorted);
}
