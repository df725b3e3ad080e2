/**
 * A histogram bound to one series, backed by a {@link DDSketch}: `record()` adds to the current
 * window's sketch (allocation-free on the hot path); `collect` takes that sketch away and swaps in a
 * fresh one, folding the taken one into the cumulative sketch used by `snapshot()` and Prometheus.
 */
import { DDSketch, type DDSketchOptions } from './sketch.js';

/** A histogram handle, as returned (and cached) by `registry.histogram(name, tags, options)`. */
export class Histogram {
  /** Values recorded since the last collect. @internal */
  window: DDSketch;
  /** Values recorded up to the last collect. @internal */
  readonly cumulative: DDSketch;

  constructor(
    /** The metric name. */
    readonly name: string,
    /** The series' full tag set, sorted and frozen. */
    readonly tags: Readonly<Record<string, string>>,
    sketchOptions: DDSketchOptions,
  ) {
    this.window = new DDSketch(sketchOptions);
    this.cumulative = new DDSketch(sketchOptions);
  }

  /** Record one value (finite, else `E_VALIDATION`). */
  record(value: number): void {
    this.window.add(value);
  }

  /** Everything recorded since creation (a new sketch; the histogram keeps recording). */
  total(): DDSketch {
    const all = this.cumulative.clone();
    all.merge(this.window);
    return all;
  }

  /** Take the window's sketch (undefined when nothing was recorded) and start a fresh one. @internal */
  takeWindow(): DDSketch | undefined {
    const taken = this.window;
    if (taken.count === 0) return undefined;
    this.window = taken.emptyLike();
    this.cumulative.merge(taken);
    return taken;
  }
}
