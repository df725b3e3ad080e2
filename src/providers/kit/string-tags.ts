import { validationError } from '../../errors.js';

/**
 * Decode string tags (DigitalOcean, Linode): `key:value` → key/value (split at the first `:`),
 * a bare `tag` → `tag: ''`.
 */
export function parseStringTags(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(tags)) return out;
  for (const t of tags) {
    if (typeof t !== 'string') continue;
    const i = t.indexOf(':');
    if (i < 0) out[t] = '';
    else out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

/** Encode tags as strings (the inverse of {@link parseStringTags}); keys may not contain `:`. */
export function formatStringTags(tags: Record<string, string>, path = 'tags'): string[] {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags))
    throw validationError(path, 'an object', tags);
  return Object.entries(tags).map(([k, v]) => {
    if (k.length === 0 || k.includes(':')) throw validationError(`${path}.${k}`, 'a key without ":"', k);
    if (typeof v !== 'string') throw validationError(`${path}.${k}`, 'a string', v);
    return v === '' ? k : `${k}:${v}`;
  });
}
