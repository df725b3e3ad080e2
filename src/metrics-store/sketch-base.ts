import { validationError } from '../errors.js';
import { scaleOfGamma } from '../metrics/exponential-mapping.js';

/**
 * Whether a sketch with bucket base `got` may join a series whose recorded base is `want`: the same
 * base, or both bases of the exponential mapping (`γ = 2^(2^-scale)`, any two scales), since
 * `DDSketch.merge` downscales the finer of two scaled sketches to the coarser scale exactly. An
 * OpenTelemetry SDK lowers its histogram scale as values spread, so a series' scale may change
 * from one window to the next.
 *
 * @example
 * ```ts
 * sketchBasesCompatible(new DDSketch({ scale: 8 }).base, new DDSketch({ scale: 6 }).base); // true
 * sketchBasesCompatible(new DDSketch().base, new DDSketch({ relativeAccuracy: 0.05 }).base); // false
 * ```
 */
export function sketchBasesCompatible(want: number, got: number): boolean {
  return want === got || (scaleOfGamma(want) !== undefined && scaleOfGamma(got) !== undefined);
}

/**
 * Throw `E_VALIDATION` at `points[i].sketch` unless a sketch of base `got` may join a series of base
 * `want` ({@link sketchBasesCompatible}).
 *
 * @example
 * ```ts
 * checkSketchBase(0, series.sketchBase, decoded.base);
 * ```
 */
export function checkSketchBase(i: number, want: number, got: number): void {
  if (sketchBasesCompatible(want, got)) return;
  throw validationError(
    `points[${i}].sketch`,
    scaleOfGamma(want) !== undefined
      ? `a sketch with a scale (exponential mapping), as the series' sketches have (bucket base ${want})`
      : `a sketch with the series' relative accuracy (bucket base ${want})`,
    `bucket base ${got}`,
  );
}
