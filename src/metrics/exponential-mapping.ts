/**
 * The base-2 exponential bucket mapping shared by OpenTelemetry exponential histograms, Prometheus
 * native histograms and {@link DDSketch} with a `scale`: `γ = 2^(2^-scale)`, bucket key `k` holds
 * `(γ^(k-1), γ^k]`. The OTLP bucket index of key `k` is `k - 1`; the Prometheus native-histogram
 * index is `k`. Keys are computed exactly as the OpenTelemetry JS SDK computes its indexes (powers of
 * two land exactly on a bucket's upper bound), so a value recorded here and in an OTel SDK lands in
 * the same bucket.
 *
 * @internal
 */
import type { BucketStore } from './bucket-store.js';

/** Smallest scale a {@link DDSketch} accepts (γ = 2, α = 1/3). */
export const MIN_SKETCH_SCALE = 0;
/** Largest scale (OpenTelemetry's MaxScale). */
export const MAX_SKETCH_SCALE = 20;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
f64[0] = 1;
const HI = u32[1] === 0x3ff00000 ? 1 : 0;
const LO = 1 - HI;

/** γ of `scale`: `2^(2^-scale)`. */
export function gammaOfScale(scale: number): number {
  return 2 ** (2 ** -scale);
}

/** The scale whose γ is exactly `gamma`, or undefined. */
export function scaleOfGamma(gamma: number): number | undefined {
  for (let s = MIN_SKETCH_SCALE; s <= MAX_SKETCH_SCALE; s++) if (gammaOfScale(s) === gamma) return s;
  return undefined;
}

/**
 * The bucket key of a positive normal `v` at `scale` (≥ 0): `⌈log_γ v⌉`, with exact powers of two
 * mapped exactly (`2^e` → `e·2^scale`), as the OTel JS SDK's `mapToIndex` (+1).
 */
export function exponentialKey(v: number, scale: number): number {
  f64[0] = v;
  const hi = u32[HI]!;
  const exp = ((hi >>> 20) & 0x7ff) - 1023;
  const exactPow2 = (hi & 0xfffff) === 0 && u32[LO] === 0;
  if (exactPow2) return exp * 2 ** scale;
  if (scale === 0) return exp + 1;
  return Math.floor(Math.log(v) * Math.LOG2E * 2 ** scale) + 1;
}

/** The key holding key `k`'s values after lowering the scale by `by` (exact "perfect subsetting"). */
export function downscaleKey(k: number, by: number): number {
  return by === 0 ? k : Math.floor((k - 1) / 2 ** by) + 1;
}

/** Add every bucket of `from` to `to` at the scale lower by `by`, exactly (counts keep their values). */
export function downscaleStore(from: BucketStore, by: number, to: BucketStore): void {
  if (from.isEmpty) return;
  to.reserve(downscaleKey(from.minKey, by), downscaleKey(from.maxKey, by));
  for (let k = from.minKey; k <= from.maxKey; k++) {
    const c = from.counts[k - from.offset]!;
    if (c !== 0) to.add(downscaleKey(k, by), c);
  }
}
