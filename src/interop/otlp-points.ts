import { FleetwatchError, validationError } from '../errors.js';
import type { ExponentialHistogramPoint } from '../metrics/exponential.js';
import type {
  OtlpAnyValue,
  OtlpExponentialHistogramDataPoint,
  OtlpHistogramDataPoint,
  OtlpInt64,
  OtlpKeyValue,
  OtlpNumberDataPoint,
} from './otlp-types.js';

/** OTLP `aggregationTemporality` of delta points. */
export const DELTA = 1;
/** OTLP `aggregationTemporality` of cumulative points. */
export const CUMULATIVE = 2;

/** An explicit-bucket histogram point, checked: one count per bound plus +Inf. */
export interface ExplicitPoint {
  bounds: number[];
  counts: number[];
  sum: number;
  min?: number;
  max?: number;
}

/**
 * Check an explicit-bucket histogram point: counts safe integers, one per bound plus +Inf, adding up to
 * `count`; bounds finite and strictly increasing; sum, min and max finite. Throws `E_VALIDATION` at `path`.
 *
 * @example
 * ```ts
 * const e = explicitPoint(p, 'resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0]');
 * ```
 */
export function explicitPoint(p: OtlpHistogramDataPoint, path: string): ExplicitPoint {
  const bounds = p.explicitBounds ?? [];
  const counts = (p.bucketCounts ?? []).map((c, i) => countOf(c, `${path}.bucketCounts[${i}]`));
  if (counts.length !== 0 && counts.length !== bounds.length + 1)
    throw validationError(
      `${path}.bucketCounts`,
      `${bounds.length + 1} counts (one per bound, plus +Inf)`,
      counts.length,
    );
  bounds.forEach((b, i) => {
    if (!Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))
      throw validationError(`${path}.explicitBounds[${i}]`, 'finite, strictly increasing bounds', b);
  });
  const count = countOf(p.count ?? 0, `${path}.count`);
  if (counts.reduce((a, b) => a + b, 0) !== count)
    throw validationError(`${path}.count`, 'the sum of bucketCounts', count);
  const out: ExplicitPoint = { bounds, counts, sum: finiteOf(p.sum ?? 0, `${path}.sum`) };
  if (p.min !== undefined) out.min = finiteOf(p.min, `${path}.min`);
  if (p.max !== undefined) out.max = finiteOf(p.max, `${path}.max`);
  return out;
}

/** Whether two number lists are equal, element by element. */
export function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Check an exponential histogram point (counts safe integers; sum, min and max finite) and return it as
 * an `ExponentialHistogramPoint`. Throws `E_VALIDATION` at `path`.
 *
 * @example
 * ```ts
 * const point = expPoint(p, 'resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram.dataPoints[0]');
 * ```
 */
export function expPoint(p: OtlpExponentialHistogramDataPoint, path: string): ExponentialHistogramPoint {
  const buckets = (b: OtlpExponentialHistogramDataPoint['positive'], bpath: string) => ({
    offset: b?.offset ?? 0,
    bucketCounts: (b?.bucketCounts ?? []).map((c, i) => countOf(c, `${bpath}.bucketCounts[${i}]`)),
  });
  const point: ExponentialHistogramPoint = {
    scale: p.scale ?? 0,
    count: countOf(p.count ?? 0, `${path}.count`),
    zeroCount: countOf(p.zeroCount ?? 0, `${path}.zeroCount`),
    zeroThreshold: p.zeroThreshold ?? 0,
    positive: buckets(p.positive, `${path}.positive`),
    negative: buckets(p.negative, `${path}.negative`),
  };
  if (p.sum !== undefined) point.sum = finiteOf(p.sum, `${path}.sum`);
  if (p.min !== undefined) point.min = finiteOf(p.min, `${path}.min`);
  if (p.max !== undefined) point.max = finiteOf(p.max, `${path}.max`);
  return point;
}

/** An `aggregationTemporality`: {@link DELTA} or {@link CUMULATIVE}, else `E_VALIDATION` at `path`. */
export function temporalityOf(t: unknown, path: string): 1 | 2 {
  if (t === DELTA || t === CUMULATIVE) return t;
  throw validationError(path, '1 (delta) or 2 (cumulative)', t);
}

/** The value of a Gauge or Sum point (`asDouble` or `asInt`), finite, else `E_VALIDATION` at `path`. */
export function numberOf(p: OtlpNumberDataPoint, path: string): number {
  if (p.asDouble !== undefined) return finiteOf(p.asDouble, `${path}.asDouble`);
  if (p.asInt !== undefined) {
    const v = Number(p.asInt);
    if (!Number.isFinite(v)) throw validationError(`${path}.asInt`, 'an integer', p.asInt);
    return v;
  }
  throw validationError(path, 'asDouble or asInt', undefined);
}

/** `v` if it is a finite number, else `E_VALIDATION` at `path`. */
function finiteOf(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw validationError(path, 'a finite number', v);
  return v;
}

/** A count (a number or a decimal string) as a non-negative safe integer, else `E_VALIDATION` at `path`. */
function countOf(v: OtlpInt64, path: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (!Number.isSafeInteger(n) || n < 0) throw validationError(path, 'a non-negative integer below 2^53', v);
  return n;
}

/** A 64-bit integer field (`startTimeUnixNano`) as comparable text; `'0'` when absent. */
export function int64Text(v: OtlpInt64 | undefined): string {
  return v === undefined ? '0' : String(v);
}

/**
 * OTLP attributes as tags (string values; other kinds as their JSON text). Throws `E_VALIDATION` at
 * `path` for a key that is not a string.
 *
 * @example
 * ```ts
 * attributesOf([{ key: 'host.name', value: { stringValue: 'web-1' } }], 'attributes'); // { 'host.name': 'web-1' }
 * ```
 */
export function attributesOf(kvs: OtlpKeyValue[] | undefined, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  (kvs ?? []).forEach((kv, i) => {
    if (typeof kv.key !== 'string') throw validationError(`${path}[${i}].key`, 'a string', kv.key);
    out[kv.key] = anyText(kv.value);
  });
  return out;
}

/** An attribute value as text (non-string kinds as their JSON text). */
function anyText(v: OtlpAnyValue | undefined): string {
  if (v === undefined) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.bytesValue !== undefined) return v.bytesValue;
  try {
    return JSON.stringify(v);
  } catch (err) {
    throw new FleetwatchError('E_VALIDATION', 'attribute value too deep', { cause: err });
  }
}

/** A key for a tag set that does not depend on the order of its keys. */
export function stableKey(tags: Record<string, string>): string {
  return Object.keys(tags)
    .sort()
    .map((k) => `${k}\0${tags[k]}`)
    .join('\0');
}
