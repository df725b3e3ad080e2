/**
 * Validation shared by every {@link MetricsStore}: identifier and tag rules, the exported limits, and
 * whole-batch validation of points, sketch points, write options and queries. Every failure is an
 * `E_VALIDATION` {@link FleetwatchError} whose `path` names the field (`points[3].value`).
 */
import { validationError } from '../errors.js';
import {
  childPath as child,
  isPlainObject,
  NON_PRINTABLE_RE,
  validateMetricName,
  validateTags,
  validateTenant,
} from '../naming.js';
import type {
  CombinePolicy,
  MetricsQuery,
  PercentileQuery,
  Point,
  Resolution,
  Retention,
  SketchPoint,
  WriteOptions,
} from './types.js';
import { COMBINE_POLICIES, DEFAULT_TENANT, RESOLUTIONS } from './types.js';

/** The naming rules live in `src/naming.ts`; re-exported here for the stores' existing importers. */
export {
  MAX_METRIC_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  MAX_TAGS,
  MAX_TENANT_LENGTH,
  METRIC_NAME_RE,
  NON_PRINTABLE_RE,
  TAG_KEY_RE,
  TENANT_RE,
  validateMetricName,
  validateTags,
  validateTenant,
} from '../naming.js';

/** Longest write `source`, in characters. */
export const MAX_SOURCE_LENGTH = 200;
/** How far in the future a point's `ts` may lie: 10 minutes (Blueflood's window). */
export const MAX_FUTURE_MS = 600_000;
/** Most quantiles in one percentile query. */
export const MAX_QUANTILES = 100;
/** Largest `points` a query may ask `auto` for. */
export const MAX_QUERY_POINTS = 100_000;

const POINT_KEYS = new Set(['metric', 'tags', 'ts', 'value', 'tenant']);
const SKETCH_POINT_KEYS = new Set(['metric', 'tags', 'ts', 'sketch', 'tenant']);

/** What a batch is validated against: the store's clock reading and raw retention. */
export interface WriteWindow {
  /** `clock.now()` of the store, epoch ms. */
  now: number;
  /** Raw retention in ms: points older than `now - rawRetentionMs` are refused. */
  rawRetentionMs: number;
  /** How far ahead of `now` a point may be. @default MAX_FUTURE_MS */
  maxFutureMs?: number;
}

function validateTs(value: unknown, path: string, window: WriteWindow): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw validationError(path, 'an integer epoch-ms timestamp', value);
  }
  const oldest = window.now - window.rawRetentionMs;
  if (value < oldest) {
    throw validationError(path, `a timestamp inside the raw retention window (>= ${oldest})`, value);
  }
  const newest = window.now + (window.maxFutureMs ?? MAX_FUTURE_MS);
  if (value > newest) {
    throw validationError(
      path,
      `a timestamp at most ${window.maxFutureMs ?? MAX_FUTURE_MS} ms ahead (<= ${newest})`,
      value,
    );
  }
}

/**
 * Validate a whole batch of points before anything is written. Throws `E_VALIDATION` for the first
 * bad field, with `path` like `points[3].value`; returns nothing when every point is good.
 *
 * Checks: the batch is an array; each point is a plain object with only `metric`, `tags`, `ts`,
 * `value`, `tenant`; the metric name, tags and tenant follow the documented rules; `ts` is an integer
 * inside `[now - rawRetentionMs, now + maxFutureMs]`; `value` is a finite number.
 */
export function validatePoints(
  points: unknown,
  window: WriteWindow,
  path = 'points',
): asserts points is Point[] {
  if (!Array.isArray(points)) throw validationError(path, 'an array of points', points);
  for (let i = 0; i < points.length; i++) {
    const p: unknown = points[i];
    const at = `${path}[${i}]`;
    if (!isPlainObject(p)) throw validationError(at, 'a point object', p);
    for (const key in p) {
      if (!POINT_KEYS.has(key))
        throw validationError(child(at, key), 'one of metric, tags, ts, value, tenant', key);
    }
    validateMetricName(p.metric, `${at}.metric`);
    validateTags(p.tags, `${at}.tags`);
    validateTs(p.ts, `${at}.ts`, window);
    const v = p.value;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw validationError(`${at}.value`, 'a finite number', v);
    validateTenant(p.tenant, `${at}.tenant`);
  }
}

/**
 * Validate a batch of sketch points like {@link validatePoints}; `sketch` must be a non-empty
 * `Uint8Array` (whether it decodes is checked by the store, at `points[i].sketch`).
 */
export function validateSketchPoints(
  points: unknown,
  window: WriteWindow,
  path = 'points',
): asserts points is SketchPoint[] {
  if (!Array.isArray(points)) throw validationError(path, 'an array of sketch points', points);
  for (let i = 0; i < points.length; i++) {
    const p: unknown = points[i];
    const at = `${path}[${i}]`;
    if (!isPlainObject(p)) throw validationError(at, 'a sketch point object', p);
    for (const key in p) {
      if (!SKETCH_POINT_KEYS.has(key)) {
        throw validationError(child(at, key), 'one of metric, tags, ts, sketch, tenant', key);
      }
    }
    validateMetricName(p.metric, `${at}.metric`);
    validateTags(p.tags, `${at}.tags`);
    validateTs(p.ts, `${at}.ts`, window);
    if (!(p.sketch instanceof Uint8Array) || p.sketch.length === 0) {
      throw validationError(`${at}.sketch`, 'a non-empty Uint8Array (DDSketch#encode() output)', p.sketch);
    }
    validateTenant(p.tenant, `${at}.tenant`);
  }
}

/** Validated write options with defaults applied. */
export interface NormalizedWriteOptions {
  source: string;
  combine: CombinePolicy;
  signal: AbortSignal | undefined;
}

/**
 * Validate {@link WriteOptions} and apply defaults (`source` `''`, `combine` `'last'`). `source` is
 * 0–200 printable chars.
 */
export function normalizeWriteOptions(opts: unknown, path = 'opts'): NormalizedWriteOptions {
  if (opts === undefined) return { source: '', combine: 'last', signal: undefined };
  if (!isPlainObject(opts)) throw validationError(path, 'an options object', opts);
  for (const key in opts) {
    if (key !== 'source' && key !== 'combine' && key !== 'signal') {
      throw validationError(child(path, key), 'one of source, combine, signal', key);
    }
  }
  const source = opts.source ?? '';
  if (typeof source !== 'string' || source.length > MAX_SOURCE_LENGTH || NON_PRINTABLE_RE.test(source)) {
    throw validationError(`${path}.source`, `a string of 0-${MAX_SOURCE_LENGTH} printable chars`, source);
  }
  const combine = opts.combine ?? 'last';
  if (!COMBINE_POLICIES.includes(combine as CombinePolicy)) {
    throw validationError(`${path}.combine`, `one of ${COMBINE_POLICIES.join(', ')}`, combine);
  }
  const signal = opts.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw validationError(`${path}.signal`, 'an AbortSignal', signal);
  }
  return { source, combine: combine as CombinePolicy, signal };
}

function validateRange(q: Record<string, unknown>, path: string): void {
  if (typeof q.from !== 'number' || !Number.isFinite(q.from)) {
    throw validationError(`${path}.from`, 'a finite epoch-ms number', q.from);
  }
  if (typeof q.to !== 'number' || !Number.isFinite(q.to)) {
    throw validationError(`${path}.to`, 'a finite epoch-ms number', q.to);
  }
  if (q.to < q.from) throw validationError(`${path}.to`, `a number >= from (${q.from})`, q.to);
}

function validateSignal(value: unknown, path: string): void {
  if (value !== undefined && !(value instanceof AbortSignal))
    throw validationError(path, 'an AbortSignal', value);
}

/**
 * Validate a {@link MetricsQuery}: metric, optional tag filter and tenant, `from <= to` (finite),
 * `resolution` one of `auto`, `raw`, `5m`, `1h`, `1d`, `points` an integer 1–100 000.
 */
export function validateQuery(q: unknown, path = 'query'): asserts q is MetricsQuery {
  if (!isPlainObject(q)) throw validationError(path, 'a query object', q);
  for (const key in q) {
    if (!['metric', 'tags', 'from', 'to', 'resolution', 'tenant', 'points', 'signal'].includes(key)) {
      throw validationError(
        child(path, key),
        'one of metric, tags, from, to, resolution, tenant, points, signal',
        key,
      );
    }
  }
  validateMetricName(q.metric, `${path}.metric`);
  validateTags(q.tags, `${path}.tags`);
  validateRange(q, path);
  const r = q.resolution;
  if (r !== undefined && r !== 'auto' && !RESOLUTIONS.includes(r as Resolution)) {
    throw validationError(`${path}.resolution`, "one of 'auto', 'raw', '5m', '1h', '1d'", r);
  }
  validateTenant(q.tenant, `${path}.tenant`);
  const n = q.points;
  if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_QUERY_POINTS)) {
    throw validationError(`${path}.points`, `an integer 1-${MAX_QUERY_POINTS}`, n);
  }
  validateSignal(q.signal, `${path}.signal`);
}

/** Validate a {@link PercentileQuery}: like {@link validateQuery}, plus 1–100 quantiles in [0, 1]. */
export function validatePercentileQuery(q: unknown, path = 'query'): asserts q is PercentileQuery {
  if (!isPlainObject(q)) throw validationError(path, 'a percentile query object', q);
  for (const key in q) {
    if (!['metric', 'tags', 'from', 'to', 'quantiles', 'tenant', 'signal'].includes(key)) {
      throw validationError(
        child(path, key),
        'one of metric, tags, from, to, quantiles, tenant, signal',
        key,
      );
    }
  }
  validateMetricName(q.metric, `${path}.metric`);
  validateTags(q.tags, `${path}.tags`);
  validateRange(q, path);
  const qs = q.quantiles;
  if (!Array.isArray(qs) || qs.length === 0 || qs.length > MAX_QUANTILES) {
    throw validationError(`${path}.quantiles`, `an array of 1-${MAX_QUANTILES} numbers in [0, 1]`, qs);
  }
  for (let i = 0; i < qs.length; i++) {
    const v: unknown = qs[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw validationError(`${path}.quantiles[${i}]`, 'a number in [0, 1]', v);
    }
  }
  validateTenant(q.tenant, `${path}.tenant`);
  validateSignal(q.signal, `${path}.signal`);
}

/**
 * Validates the arguments of `listSeries()` (throws `E_VALIDATION` naming the field) and returns
 * the tenant to list (the default tenant when none is given).
 *
 * @example
 * ```ts
 * const tenant = validateListSeries('cpu', { host: 'a' }, undefined); // 'default'
 * ```
 */
export function validateListSeries(metric: unknown, tagFilter: unknown, tenant: unknown): string {
  validateMetricName(metric, 'metric');
  validateTagFilter(tagFilter);
  validateTenant(tenant, 'tenant');
  return (tenant as string | undefined) ?? DEFAULT_TENANT;
}

/** Validate a tag filter for `listSeries` / queries (same rules as point tags). */
export function validateTagFilter(
  value: unknown,
  path = 'tagFilter',
): asserts value is Record<string, string> | undefined {
  validateTags(value, path);
}

/**
 * Validate a partial retention (each given resolution a positive number of ms) and merge it over
 * `defaults`. Coarser resolutions must be kept at least as long as finer ones, since each rollup is
 * computed from the next finer level.
 */
export function normalizeRetention(
  value: unknown,
  defaults: Readonly<Retention>,
  path = 'options.retention',
): Readonly<Retention> {
  if (value === undefined) return Object.freeze({ ...defaults });
  if (!isPlainObject(value)) throw validationError(path, 'an object of resolution → ms', value);
  const out: Retention = { ...defaults };
  for (const key in value) {
    if (!RESOLUTIONS.includes(key as Resolution))
      throw validationError(child(path, key), 'one of raw, 5m, 1h, 1d', key);
    const ms = value[key];
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
      throw validationError(child(path, key), 'a positive number of ms', ms);
    }
    out[key as Resolution] = ms;
  }
  for (let i = 1; i < RESOLUTIONS.length; i++) {
    const finer = RESOLUTIONS[i - 1] as Resolution;
    const r = RESOLUTIONS[i] as Resolution;
    if (out[r] < out[finer]) {
      throw validationError(child(path, r), `at least the ${finer} retention (${out[finer]} ms)`, out[r]);
    }
  }
  return Object.freeze(out);
}
