import { FleetwatchError, validationError } from '../errors.js';
import type { BucketStore } from './bucket-store.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { DDSketch, sketchInternals } from './sketch.js';
import { exactGammaOptions, MAX_BUCKETS_LIMIT } from './sketch-options.js';
import type { QuantileSketch } from './types.js';

/** Encoding version written by {@link DDSketch.encode}. */
export const SKETCH_ENCODING_VERSION = 1;

const FLAG_FLOAT_COUNTS = 1;

/**
 * The binary form of `sketch` that {@link DDSketch.encode} documents (version 1), read back by
 * {@link decodeSketch}. @internal
 *
 * @example
 * ```ts
 * const bytes = encodeSketch(sketch); // the same bytes as sketch.encode()
 * ```
 */
export function encodeSketch(sketch: DDSketch): Uint8Array {
  const p = sketchInternals.parts(sketch);
  const floatCounts =
    !Number.isSafeInteger(p.count) ||
    !Number.isSafeInteger(p.zeroCount) ||
    !isIntegral(p.positive) ||
    !isIntegral(p.negative);
  const w = new ByteWriter(32 + 2 * (span(p.positive) + span(p.negative)));
  w.u8(SKETCH_ENCODING_VERSION);
  w.u8(floatCounts ? FLAG_FLOAT_COUNTS : 0);
  w.f64(sketch.base);
  w.uvarint(sketch.maxBuckets);
  const num = floatCounts ? (v: number) => w.f64(v) : (v: number) => w.uvarint(v);
  num(p.count);
  num(p.zeroCount);
  if (p.count > 0) {
    w.f64(p.sum);
    w.f64(p.min);
    w.f64(p.max);
  }
  for (const store of [p.positive, p.negative]) {
    const n = span(store);
    w.uvarint(n);
    if (n === 0) continue;
    w.svarint(store.minKey);
    for (let k = store.minKey; k <= store.maxKey; k++) num(store.counts[k - store.offset]!);
  }
  return w.finish();
}

/**
 * A new sketch from bytes written by {@link DDSketch.encode} (in this process or another): the
 * implementation of {@link DDSketch.decode}, for internal callers. The sketch has the encoded γ
 * exactly (and so the encoded `scale`, if any), `maxBuckets`, bucket counts, count, sum, min and
 * max. Bytes that are not a well-formed version-1 encoding (truncated, trailing bytes, unknown
 * version or flags, γ outside (1, 3], a bucket cap or key out of range, a negative or non-finite
 * count, non-finite min/max or min > max, a store whose first or last bucket is empty, bucket counts
 * not adding up to the count, within 1e-9·count when counts are fractional) throw `FleetwatchError` `E_MALFORMED_RESPONSE`; a sum that overflowed to ±∞ (or
 * NaN) is accepted, as encoded. The checks are structural, not a checksum: changed values within a
 * well-formed encoding decode to that different sketch. A value that is not a `Uint8Array` throws
 * `E_VALIDATION`.
 *
 * @example
 * ```ts
 * const copy = decodeSketch(sketch.encode());
 * copy.quantile(0.99) === sketch.quantile(0.99); // true
 * ```
 */
export function decodeSketch(bytes: Uint8Array): DDSketch {
  try {
    return decodeUnchecked(bytes);
  } catch (err) {
    if (err instanceof FleetwatchError) throw err;
    throw new FleetwatchError('E_MALFORMED_RESPONSE', 'sketch: cannot decode', { cause: err });
  }
}

/**
 * `sketch` itself when it is a {@link DDSketch} (the same object: do not change it), else a new one
 * decoded from `sketch`'s bytes or from its `encode()` form. Malformed bytes throw as
 * {@link decodeSketch} does. @internal
 *
 * @example
 * ```ts
 * asDDSketch(sketch) === sketch; // true for a DDSketch
 * asDDSketch(sketch.encode()).count === sketch.count; // true
 * ```
 */
export function asDDSketch(sketch: QuantileSketch | Uint8Array): DDSketch {
  if (sketch instanceof DDSketch) return sketch;
  return decodeSketch(sketch instanceof Uint8Array ? sketch : sketch.encode());
}

function decodeUnchecked(bytes: Uint8Array): DDSketch {
  if (!(bytes instanceof Uint8Array)) throw validationError('bytes', 'a Uint8Array', bytes);
  const r = new ByteReader(bytes, 'sketch');
  const version = r.u8();
  if (version !== SKETCH_ENCODING_VERSION) throw r.fail(`unknown sketch version ${version}`);
  const flags = r.u8();
  if ((flags & ~FLAG_FLOAT_COUNTS) !== 0) throw r.fail('unknown flags');
  const gamma = r.f64();
  if (!(gamma > 1 && gamma <= 3)) throw r.fail('gamma out of range');
  const maxBuckets = r.uvarint();
  if (maxBuckets < 1 || maxBuckets > MAX_BUCKETS_LIMIT) throw r.fail('maxBuckets out of range');
  const num =
    (flags & FLAG_FLOAT_COUNTS) !== 0
      ? () => {
          const v = r.f64();
          if (!(v >= 0 && v < Number.POSITIVE_INFINITY)) throw r.fail('bad count');
          return v;
        }
      : () => r.uvarint();
  const s = new DDSketch(exactGammaOptions(gamma, maxBuckets));
  const n = num();
  const zeroCount = num();
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  if (n > 0) {
    sum = r.f64();
    min = r.f64();
    max = r.f64();
    // The sum may legitimately have overflowed to ±Infinity (or NaN from +Inf + −Inf); min/max may not.
    if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) throw r.fail('bad min/max');
  }
  const p = sketchInternals.parts(s);
  let binTotal = zeroCount;
  for (const store of [p.positive, p.negative]) {
    const width = r.uvarint();
    if (width === 0) continue;
    if (width > maxBuckets || width > r.remaining) throw r.fail('store span out of range');
    const minKey = r.svarint();
    if (Math.abs(minKey) > 0x1fffffff) throw r.fail('bucket key out of range');
    store.reserve(minKey, minKey + width - 1);
    for (let k = minKey; k < minKey + width; k++) {
      const c = num();
      if (c > 0) store.add(k, c);
      binTotal += c;
    }
    if (store.isEmpty || store.minKey !== minKey || store.maxKey !== minKey + width - 1) {
      throw r.fail('store ends with empty buckets');
    }
  }
  if (r.remaining !== 0) throw r.fail('trailing bytes');
  const tolerance = (flags & FLAG_FLOAT_COUNTS) !== 0 ? 1e-9 * Math.max(1, n) : 0;
  if (Math.abs(binTotal - n) > tolerance) throw r.fail('count does not match buckets');
  sketchInternals.assign(s, { zeroCount, count: n, sum, min, max });
  return s;
}

/** Buckets from the lowest to the highest key of `store` (0 when empty). */
function span(store: BucketStore): number {
  return store.isEmpty ? 0 : store.maxKey - store.minKey + 1;
}

function isIntegral(store: BucketStore): boolean {
  if (store.isEmpty) return true;
  for (let k = store.minKey; k <= store.maxKey; k++) {
    if (!Number.isSafeInteger(store.counts[k - store.offset]!)) return false;
  }
  return true;
}
