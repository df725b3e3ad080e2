import { rejectUnknownKeys } from '../core.js';
import { validationError } from '../errors.js';
import { gammaOfScale, MAX_SKETCH_SCALE, MIN_SKETCH_SCALE, scaleOfGamma } from './exponential-mapping.js';

/** Options of {@link DDSketch}. */
export interface DDSketchOptions {
  /** Relative accuracy α of every quantile, in (0, 0.5]. Default 0.01 (1%). */
  relativeAccuracy?: number;
  /**
   * Most buckets kept per sign (positive, negative). Past it the lowest buckets collapse, which
   * costs accuracy only for the lowest quantiles. Default 2048 (at 1%: 80 µs to a year in ms).
   */
  maxBuckets?: number;
  /**
   * Use the base-2 exponential mapping of OpenTelemetry exponential histograms and Prometheus native
   * histograms instead of `relativeAccuracy`: `γ = 2^(2^-scale)`, an integer in [0, 20] (5 ≈ 1.08%,
   * 6 ≈ 0.54%, 7 ≈ 0.27%). Such a sketch converts to an OTLP ExponentialHistogram and back without
   * loss (the OTLP exporter sends it as one), and merges with a sketch of another scale by downscaling
   * the finer one exactly. Give either `scale` or `relativeAccuracy`, not both.
   */
  scale?: number;
}

/** Default relative accuracy of {@link DDSketch}. */
export const DEFAULT_RELATIVE_ACCURACY = 0.01;
/** Default bucket cap of {@link DDSketch}. */
export const DEFAULT_MAX_BUCKETS = 2048;
/** Largest `maxBuckets` a sketch accepts (and a decoder reads). @internal */
export const MAX_BUCKETS_LIMIT = 1 << 20;

/** Module-private option key carrying an exact γ (decoded or copied), invisible to `Object.keys`. */
const GAMMA = Symbol('gamma');
interface InternalOptions extends DDSketchOptions {
  [GAMMA]?: number;
}

/** What a {@link DDSketch} is built from: its options checked and resolved. @internal */
export interface SketchShape {
  /** The relative accuracy α. */
  alpha: number;
  maxBuckets: number;
  /** The exponential scale, or -1 for an accuracy-based γ. */
  scale: number;
  /** The bucket base γ. */
  gamma: number;
}

/**
 * Options for a sketch with exactly this γ (one decoded, or a copy), which a γ computed from
 * `relativeAccuracy` might miss by a rounding; γ of an exponential scale gives the sketch that scale.
 * `relativeAccuracy` is what the sketch reports (default `(γ−1)/(γ+1)`). @internal
 */
export function exactGammaOptions(
  gamma: number,
  maxBuckets: number,
  relativeAccuracy = (gamma - 1) / (gamma + 1),
): DDSketchOptions {
  const options: InternalOptions = { relativeAccuracy, maxBuckets, [GAMMA]: gamma };
  return options;
}

/**
 * Check a {@link DDSketchOptions} and resolve its defaults; bad input throws `E_VALIDATION` naming
 * the option. @internal
 *
 * @example
 * ```ts
 * resolveSketchOptions({ scale: 6 }); // { alpha: 0.0054…, maxBuckets: 2048, scale: 6, gamma: 1.0108… }
 * ```
 */
export function resolveSketchOptions(options: DDSketchOptions): SketchShape {
  if (typeof options !== 'object' || options === null) throw validationError('options', 'an object', options);
  rejectUnknownKeys(options, ['relativeAccuracy', 'maxBuckets', 'scale']);
  const internalGamma = (options as InternalOptions)[GAMMA];
  let scale = internalGamma === undefined ? -1 : (scaleOfGamma(internalGamma) ?? -1);
  if (options.scale !== undefined) {
    if (
      !Number.isInteger(options.scale) ||
      options.scale < MIN_SKETCH_SCALE ||
      options.scale > MAX_SKETCH_SCALE
    ) {
      throw validationError(
        'options.scale',
        `an integer in [${MIN_SKETCH_SCALE}, ${MAX_SKETCH_SCALE}]`,
        options.scale,
      );
    }
    if (options.relativeAccuracy !== undefined && internalGamma === undefined)
      throw validationError(
        'options.relativeAccuracy',
        'absent when scale is given',
        options.relativeAccuracy,
      );
    scale = options.scale;
  }
  const scaleGamma = scale >= 0 ? gammaOfScale(scale) : undefined;
  const alpha =
    scaleGamma !== undefined
      ? (scaleGamma - 1) / (scaleGamma + 1)
      : (options.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY);
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 0.5)) {
    throw validationError('options.relativeAccuracy', 'a number in (0, 0.5]', alpha);
  }
  const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  if (!Number.isInteger(maxBuckets) || maxBuckets < 1 || maxBuckets > MAX_BUCKETS_LIMIT) {
    throw validationError('options.maxBuckets', `an integer in [1, ${MAX_BUCKETS_LIMIT}]`, maxBuckets);
  }
  return { alpha, maxBuckets, scale, gamma: scaleGamma ?? internalGamma ?? (1 + alpha) / (1 - alpha) };
}
