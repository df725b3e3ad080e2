/**
 * A monotonic counter bound to one series. `inc()` is a field update: no allocation, no hashing.
 */
import { validationError } from '../errors.js';

/** A counter handle, as returned (and cached) by `registry.counter(name, tags)`. */
export class Counter {
  /** Cumulative value since the registry was created. */
  value = 0;
  /** The value at the last `collect`: the window delta is `value - collected`. */
  collected = 0;

  constructor(
    /** The metric name. */
    readonly name: string,
    /** The series' full tag set (registry tags included), sorted and frozen. */
    readonly tags: Readonly<Record<string, string>>,
  ) {}

  /** Add `n` (default 1; must be a finite number >= 0, else `E_VALIDATION`). */
  inc(n = 1): void {
    if (!(n >= 0 && n < Number.POSITIVE_INFINITY)) throw validationError('n', 'a finite number >= 0', n);
    this.value += n;
  }

  /** The increase since the previous call, advancing the window. @internal Used by the registry. */
  takeDelta(): number {
    const delta = this.value - this.collected;
    this.collected = this.value;
    return delta;
  }
}
