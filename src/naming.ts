/**
 * The naming rules, in one place: metric names, series tag keys and values, tenants (used by the
 * registry, the broker, both metrics stores and Prometheus output), and node tags (the inventory's
 * local tags). docs/naming.md states the same rules in words.
 */
import { type FleetwatchError, validationError } from './errors.js';

/** Longest metric name the stores accept, in characters. */
export const MAX_METRIC_LENGTH = 200;
/**
 * Characters of a metric name kept free for the suffixes the broker derives from a histogram
 * (`latency_ms.p9999`, `.count`): a registry instrument's name is at most
 * `MAX_METRIC_LENGTH - METRIC_SUFFIX_BUDGET` characters, so every series derived from it is valid.
 */
export const METRIC_SUFFIX_BUDGET = 8;
/** Longest name of a registry instrument (and of a series the broker accepts): 192 characters. */
export const MAX_INSTRUMENT_NAME_LENGTH = MAX_METRIC_LENGTH - METRIC_SUFFIX_BUDGET;
/** Most tags on one series (registry tags included). */
export const MAX_TAGS = 32;
/** Longest series tag key, in characters. */
export const MAX_TAG_KEY_LENGTH = 100;
/** Longest series tag value, in characters. */
export const MAX_TAG_VALUE_LENGTH = 200;
/** Longest tenant name, in characters. */
export const MAX_TENANT_LENGTH = 64;
/** Longest node (inventory) tag key, in characters. */
export const MAX_NODE_TAG_KEY_LENGTH = 256;
/** Longest node (inventory) tag value, in characters. */
export const MAX_NODE_TAG_VALUE_LENGTH = 4096;
/** Most node tags in one `setTags` call. */
export const MAX_NODE_TAGS = 128;

/** Metric names: 1–200 chars of `[A-Za-z0-9_.:/-]`, starting with a letter or `_`. */
export const METRIC_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:/-]{0,199}$/;
/** Series tag keys: 1–100 chars of `[A-Za-z0-9_.:/-]` (dotted keys such as `host.name` included; `__proto__` is refused separately). */
export const TAG_KEY_RE = /^[A-Za-z0-9_.:/-]{1,100}$/;
/** Tenants: 1–64 chars of `[A-Za-z0-9_.-]`. */
export const TENANT_RE = /^[A-Za-z0-9_.-]{1,64}$/;
/**
 * Characters refused in tag values, node tags and sources: C0 and C1 control characters (including
 * tab and newline) and lone UTF-16 surrogates. Everything else (spaces, punctuation, any script) is
 * printable.
 */
export const NON_PRINTABLE_RE =
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const IDENTIFIER_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** True for a plain object (`{}` or `Object.create(null)`), not an array, class instance or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `base.key` when key is a plain identifier, else `base["key"]`: the `path` of a field in an error. */
export function childPath(base: string, key: string): string {
  return IDENTIFIER_RE.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/**
 * The error for a metric name that breaks the rules, or undefined when it is valid. `maxLength` is
 * {@link MAX_METRIC_LENGTH} for stored series and {@link MAX_INSTRUMENT_NAME_LENGTH} for registry
 * instruments and broker series.
 */
export function metricNameError(
  value: unknown,
  path: string,
  maxLength: number = MAX_METRIC_LENGTH,
): FleetwatchError | undefined {
  if (typeof value === 'string' && value.length <= maxLength && METRIC_NAME_RE.test(value)) return undefined;
  return validationError(
    path,
    `a metric name: 1-${maxLength} chars of [A-Za-z0-9_.:/-] starting with a letter or _`,
    value,
  );
}

/** Check a metric name, throwing `E_VALIDATION` at `path`. */
export function validateMetricName(
  value: unknown,
  path: string,
  maxLength: number = MAX_METRIC_LENGTH,
): asserts value is string {
  const err = metricNameError(value, path, maxLength);
  if (err !== undefined) throw err;
}

/** True when `key` is a valid series tag key. */
export function isTagKey(key: string): boolean {
  return TAG_KEY_RE.test(key) && key !== '__proto__';
}

/** True when `value` is a valid series tag value (1–200 printable characters). */
export function isTagValue(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_TAG_VALUE_LENGTH &&
    !NON_PRINTABLE_RE.test(value)
  );
}

/**
 * The error for a series tag set that breaks the rules (not a plain object, more than
 * {@link MAX_TAGS} tags, a bad key or value), or undefined when it is valid or undefined.
 */
export function tagsError(value: unknown, path: string): FleetwatchError | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) return validationError(path, 'an object of string tags', value);
  let n = 0;
  for (const key in value) {
    if (++n > MAX_TAGS)
      return validationError(path, `at most ${MAX_TAGS} tags`, `${Object.keys(value).length} tags`);
    if (!isTagKey(key)) {
      return validationError(
        childPath(path, key),
        `a tag key of 1-${MAX_TAG_KEY_LENGTH} chars of [A-Za-z0-9_.:/-] (not __proto__)`,
        key,
      );
    }
    const v = value[key];
    if (!isTagValue(v)) {
      return validationError(
        childPath(path, key),
        `a tag value of 1-${MAX_TAG_VALUE_LENGTH} printable chars`,
        v,
      );
    }
  }
  return undefined;
}

/** Check a series tag set (undefined is allowed), throwing `E_VALIDATION` at the tag at fault. */
export function validateTags(
  value: unknown,
  path: string,
): asserts value is Record<string, string> | undefined {
  const err = tagsError(value, path);
  if (err !== undefined) throw err;
}

/** Check a tenant name (undefined is allowed: it means `default`). */
export function validateTenant(value: unknown, path: string): asserts value is string | undefined {
  if (value === undefined) return;
  if (typeof value !== 'string' || !TENANT_RE.test(value)) {
    throw validationError(path, `a tenant: 1-${MAX_TENANT_LENGTH} chars of [A-Za-z0-9_.-]`, value);
  }
}

/** Check a required tenant name and return it. */
export function requireTenant(value: unknown, path = 'tenant'): string {
  if (value === undefined)
    throw validationError(path, `a tenant: 1-${MAX_TENANT_LENGTH} chars of [A-Za-z0-9_.-]`, value);
  validateTenant(value, path);
  return value;
}

/**
 * Check node (inventory) tags and return a plain copy: at most {@link MAX_NODE_TAGS} tags, keys of
 * 1–256 printable characters (not `__proto__`), values of 0–4096 printable characters. Looser than
 * series tags because they mirror cloud tags (spaces, `+=@`, empty values).
 */
export function validateNodeTags(value: unknown, path = 'tags'): Record<string, string> {
  if (!isPlainObject(value)) throw validationError(path, 'an object of string tags', value);
  const out: Record<string, string> = {};
  let n = 0;
  for (const key in value) {
    if (++n > MAX_NODE_TAGS)
      throw validationError(path, `at most ${MAX_NODE_TAGS} tags`, `${Object.keys(value).length} tags`);
    if (
      key.length === 0 ||
      key.length > MAX_NODE_TAG_KEY_LENGTH ||
      key === '__proto__' ||
      NON_PRINTABLE_RE.test(key)
    ) {
      throw validationError(
        childPath(path, key),
        `a tag key of 1-${MAX_NODE_TAG_KEY_LENGTH} printable chars (not __proto__)`,
        key,
      );
    }
    const v = value[key];
    if (typeof v !== 'string' || v.length > MAX_NODE_TAG_VALUE_LENGTH || NON_PRINTABLE_RE.test(v)) {
      throw validationError(
        childPath(path, key),
        `a tag value of 0-${MAX_NODE_TAG_VALUE_LENGTH} printable chars`,
        v,
      );
    }
    out[key] = v;
  }
  return out;
}
