/**
 * Validation of metric names and tags, and the canonical series key (sorted `k=v` pairs). Runs once
 * per handle lookup, never on the recording hot path.
 */
import { validationError } from '../errors.js';

/** Metric names: a letter or `_`, then letters, digits, `_`, `.` or `:`; at most 200 characters. */
export const METRIC_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:]{0,199}$/;
/** Tag keys: a letter or `_`, then letters, digits or `_`; at most 100 characters. */
export const TAG_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
/** Longest tag value accepted. */
export const MAX_TAG_VALUE_LENGTH = 1024;
/** Most tags on one series (registry tags included). */
export const MAX_TAGS = 32;

/** Check a metric name, returning it; `E_VALIDATION` at `path` otherwise. */
export function checkMetricName(name: unknown, path = 'name'): string {
  if (typeof name !== 'string' || !METRIC_NAME_PATTERN.test(name)) {
    throw validationError(path, `a metric name matching ${METRIC_NAME_PATTERN}`, name);
  }
  return name;
}

/**
 * Check a tag object (plain object of string values) and return a frozen copy with keys sorted.
 * `E_VALIDATION` names the bad tag (`tags.route`).
 */
export function checkTags(tags: unknown, path = 'tags'): Readonly<Record<string, string>> {
  if (tags === undefined) return EMPTY_TAGS;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw validationError(path, 'an object of string tags', tags);
  }
  const keys = Object.keys(tags).sort();
  if (keys.length > MAX_TAGS) throw validationError(path, `at most ${MAX_TAGS} tags`, `${keys.length} tags`);
  const out: Record<string, string> = {};
  for (const key of keys) {
    if (!TAG_KEY_PATTERN.test(key))
      throw validationError(`${path}.${key}`, `a tag key matching ${TAG_KEY_PATTERN}`, key);
    const value = (tags as Record<string, unknown>)[key];
    if (typeof value !== 'string' || value.length > MAX_TAG_VALUE_LENGTH) {
      throw validationError(
        `${path}.${key}`,
        `a string of at most ${MAX_TAG_VALUE_LENGTH} characters`,
        value,
      );
    }
    out[key] = value;
  }
  return Object.freeze(out);
}

/** Merge `base` with `over` (over wins), sorted by key and frozen. */
export function mergeTags(
  base: Readonly<Record<string, string>>,
  over: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  const all: Record<string, string> = { ...base, ...over };
  const out: Record<string, string> = {};
  for (const key of Object.keys(all).sort()) out[key] = all[key]!;
  if (Object.keys(out).length > MAX_TAGS) {
    throw validationError(
      'tags',
      `at most ${MAX_TAGS} tags with the registry's`,
      `${Object.keys(out).length} tags`,
    );
  }
  return Object.freeze(out);
}

/** The canonical key of a sorted tag set: unambiguous (JSON of the pairs). */
export function tagsKey(sorted: Readonly<Record<string, string>>): string {
  return JSON.stringify(sorted);
}

const EMPTY_TAGS: Readonly<Record<string, string>> = Object.freeze({});
