/**
 * A monotonic counter bound to one series. `inc()` is a field update: no allocation, no hashing.
 */
import { type DropCounts, uncountedDrops } from './drops.js';

/**
 * A counter handle, as returned (and cached) by `registry.counter(name, tags)`. Never throws: a
 * step that is not a finite number >= 0 is dropped and counted in `registry.stats().droppedValues`.
 *
 * @example
 * ```ts
 * const requests = registry.counter('requests', { route: '/' });
 * requests.inc();
 * requests.inc(3);
 * requests.inc(-1); // dropped and counted, never thrown
 * ```
 */
export class Counter {
  #value = 0;
  #collected = 0;
  readonly #drops: DropCounts;

  constructor(
    /** The metric name. */
    readonly name: string,
    /** The series' full tag set (registry tags included), sorted and frozen. */
    readonly tags: Readonly<Record<string, string>>,
    drops: DropCounts = uncountedDrops(),
  ) {
    this.#drops = drops;
  }

  /** Cumulative value since the registry was created. */
  get value(): number {
    return this.#value;
  }

  /** Add `n` (default 1). A step that is not a finite number >= 0 is dropped and counted. */
  inc(n = 1): void {
    if (typeof n === 'number' && n >= 0 && n < Number.POSITIVE_INFINITY) this.#value += n;
    else this.#drops.values++;
  }

  /** The increase since the previous call, advancing the window. @internal Used by the registry. */
  takeDelta(): number {
    const delta = this.#value - this.#collected;
    this.#collected = this.#value;
    return delta;
  }
}
