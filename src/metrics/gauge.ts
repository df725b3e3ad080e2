/**
 * A gauge bound to one series: the current value of something (queue depth, memory). How gauges
 * from several processes combine is the metric's {@link CombinePolicy}, declared at registration.
 */

import type { CombinePolicy } from '../metrics-store/types.js';
import { type DropCounts, uncountedDrops } from './drops.js';

/**
 * A gauge handle, as returned (and cached) by `registry.gauge(name, tags, { policy })`. Never
 * throws: a value or step that is not a finite number is dropped and counted in
 * `registry.stats().droppedValues`.
 *
 * @example
 * ```ts
 * const depth = registry.gauge('queue_depth', { queue: 'mail' }, { policy: 'sum' });
 * depth.set(12);
 * depth.inc();
 * depth.set(Number.NaN); // dropped and counted; the gauge keeps 13
 * ```
 */
export class Gauge {
  #value = 0;
  readonly #drops: DropCounts;

  constructor(
    /** The metric name. */
    readonly name: string,
    /** The series' full tag set, sorted and frozen. */
    readonly tags: Readonly<Record<string, string>>,
    /** How the broker combines this gauge across processes. */
    readonly policy: CombinePolicy,
    drops: DropCounts = uncountedDrops(),
  ) {
    this.#drops = drops;
  }

  /** The current value (0 until set). */
  get value(): number {
    return this.#value;
  }

  /** Set the value; a non-finite one is dropped and counted. */
  set(value: number): void {
    if (Number.isFinite(value)) this.#value = value;
    else this.#drops.values++;
  }

  /** Add `n` (default 1); a non-finite step is dropped and counted. */
  inc(n = 1): void {
    if (Number.isFinite(n)) this.#value += n;
    else this.#drops.values++;
  }

  /** Subtract `n` (default 1); a non-finite step is dropped and counted. */
  dec(n = 1): void {
    if (Number.isFinite(n)) this.#value -= n;
    else this.#drops.values++;
  }
}
