/**
 * The bucket key `⌈log_γ v⌉` of a positive value, computed without `Math.log` on the common path.
 * The float's exponent and its top 12 mantissa bits give an estimate within 0.02 buckets (at α ≥ 0.5%)
 * from a per-octave table of `ln(1+m)/ln γ`; one comparison against the exact bucket bounds `γ^k`
 * settles the key. Values outside [2^-30, 2^40) (≈ 1e-9 to 1.1e12) and accuracies finer than 0.5% use
 * `Math.log`. The tables (≈ 70 kB at 1%) are built once per γ (for at most 8 γ) and shared by every
 * sketch.
 *
 * Both paths agree with the bucket bounds up to floating-point rounding at a bound, where either
 * neighbouring bucket is within the sketch's relative accuracy.
 *
 * @internal
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
f64[0] = 1;
/** Index of the 32-bit word holding sign, exponent and the top 20 mantissa bits. */
const HI = u32[1] === 0x3ff00000 ? 1 : 0;
const MIN_EXP = -30;
const MAX_EXP = 40;
const MANTISSA_BITS = 12;
const MIN_TABLE_ALPHA = 0.005;

interface Tables {
  /** `ln(1 + j/4096) / ln γ` for the 4096 mantissa slices. */
  readonly slices: Float64Array;
  /** `γ^k` for k in [minKey, minKey + bounds.length). */
  readonly bounds: Float64Array;
  readonly minKey: number;
}

const cache = new Map<number, Tables>();
/** At most this many γ get tables (decoded sketches could carry arbitrary γ); others use Math.log. */
const MAX_CACHED = 8;

function tablesFor(gamma: number): Tables | undefined {
  let t = cache.get(gamma);
  if (t === undefined) {
    if (cache.size >= MAX_CACHED) return undefined;
    const lnGamma = Math.log(gamma);
    const slices = new Float64Array(1 << MANTISSA_BITS);
    for (let j = 0; j < slices.length; j++) slices[j] = Math.log(1 + j / slices.length) / lnGamma;
    const perOctave = Math.LN2 / lnGamma;
    const minKey = Math.floor(MIN_EXP * perOctave) - 2;
    const maxKey = Math.ceil(MAX_EXP * perOctave) + 2;
    const bounds = new Float64Array(maxKey - minKey + 1);
    for (let k = minKey; k <= maxKey; k++) bounds[k - minKey] = Math.exp(k * lnGamma);
    t = { slices, bounds, minKey };
    cache.set(gamma, t);
  }
  return t;
}

const indexes = new Map<number, LogIndex>();

/** The shared (immutable) index for `gamma`; only the first few γ are kept. */
export function logIndexFor(gamma: number): LogIndex {
  let index = indexes.get(gamma);
  if (index === undefined) {
    index = new LogIndex(gamma);
    if (indexes.size < MAX_CACHED) indexes.set(gamma, index);
  }
  return index;
}

/** Maps positive values to bucket keys for one γ. */
export class LogIndex {
  readonly #multiplier: number;
  readonly #perOctave: number;
  readonly #slices: Float64Array;
  readonly #bounds: Float64Array;
  readonly #minKey: number;
  readonly #fast: boolean;

  constructor(gamma: number) {
    this.#multiplier = 1 / Math.log(gamma);
    this.#perOctave = Math.LN2 * this.#multiplier;
    const t = (gamma - 1) / (gamma + 1) >= MIN_TABLE_ALPHA ? tablesFor(gamma) : undefined;
    this.#fast = t !== undefined;
    this.#slices = t?.slices ?? new Float64Array(0);
    this.#bounds = t?.bounds ?? new Float64Array(0);
    this.#minKey = t?.minKey ?? 0;
  }

  /** The bucket key of `v` (positive and finite). */
  key(v: number): number {
    if (this.#fast) {
      f64[0] = v;
      const hi = u32[HI]!;
      const e = (hi >>> 20) - 1023;
      if (e >= MIN_EXP && e < MAX_EXP) {
        const i = Math.ceil(e * this.#perOctave + this.#slices[(hi >>> 8) & 0xfff]!) - this.#minKey;
        if (v > this.#bounds[i]!) return i + 1 + this.#minKey;
        if (v <= this.#bounds[i - 1]!) return i - 1 + this.#minKey;
        return i + this.#minKey;
      }
    }
    return Math.ceil(Math.log(v) * this.#multiplier);
  }
}
