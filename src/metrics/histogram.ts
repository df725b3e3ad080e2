/**
 * A histogram bound to one series, backed by a {@link DDSketch}: `record()` adds to the current
 * window's sketch (allocation-free on the hot path); `collect` takes that sketch away and swaps in a
 * fresh one, folding the taken one into the cumulative sketch used by `snapshot()` and Prometheus.
 */
import { type DropCounts, uncountedDrops } from './drops.js';
import { DDSketch, type DDSketchOptions } from './sketch.js';

/**
 * A histogram handle, as returned (and cached) by `registry.histogram(name, tags, options)`. Never
 * throws: a value that is not a finite number is dropped and counted in
 * `registry.stats().droppedValues`.
 *
 * @example
 * ```ts
 * const latency = registry.histogram('latency_ms', { route: '/' });
 * latency.record(12.5);
 * latency.total().quantile(0.99);
 * ```
 */
export class Histogram {
  #window: DDSketch;
  readonly #cumulative: DDSketch;
  readonly #drops: DropCounts;

  constructor(
    /** The metric name. */
    readonly name: string,
    /** The series' full tag set, sorted and frozen. */
    readonly tags: Readonly<Record<string, string>>,
    sketchOptions: DDSketchOptions,
    drops: DropCounts = uncountedDrops(),
  ) {
    this.#window = new DDSketch(sketchOptions);
    this.#cumulative = new DDSketch(sketchOptions);
    this.#drops = drops;
  }

  /** Record one value; a value that is not a finite number is dropped and counted. */
  record(value: number): void {
    if (Number.isFinite(value)) this.#window.add(value);
    else this.#drops.values++;
  }

  /** Everything recorded since creation (a new sketch; the histogram keeps recording). */
  total(): DDSketch {
    const all = this.#cumulative.clone();
    all.merge(this.#window);
    return all;
  }

  /** Take the window's sketch (undefined when nothing was recorded) and start a fresh one. @internal */
  takeWindow(): DDSketch | undefined {
    const taken = this.#window;
    if (taken.count === 0) return undefined;
    this.#window = taken.emptyLike();
    this.#cumulative.merge(taken);
    return taken;
  }
}
