/**
 * A timer: a {@link Histogram} of durations in milliseconds, with helpers that measure them. The
 * durations come from a monotonic clock (`performance.now()` unless the registry was given
 * another `monotonicNow`).
 */

import { validationError } from '../errors.js';
import { type DropCounts, uncountedDrops } from './drops.js';
import { Histogram } from './histogram.js';
import type { DDSketchOptions } from './sketch.js';

/**
 * A timer handle, as returned (and cached) by `registry.timer(name, tags)`.
 *
 * @example
 * ```ts
 * const query = registry.timer('db_query_ms', { table: 'users' });
 * const rows = await query.time(() => db.select('users'));
 * const stop = query.startTimer();
 * stop(); // records the elapsed ms and returns them
 * ```
 */
export class Timer extends Histogram {
  readonly #now: () => number;

  constructor(
    name: string,
    tags: Readonly<Record<string, string>>,
    sketchOptions: DDSketchOptions,
    monotonicNow: () => number,
    drops: DropCounts = uncountedDrops(),
  ) {
    super(name, tags, sketchOptions, drops);
    this.#now = monotonicNow;
  }

  /**
   * Run `fn` and record how long it took, in ms — until its promise settles when it returns one
   * (fulfilled or rejected). Returns what `fn` returns; a throw is recorded and rethrown. `fn` that
   * is not a function is `E_VALIDATION` (nothing could be timed or returned).
   */
  time<T>(fn: () => T): T {
    if (typeof fn !== 'function') throw validationError('fn', 'a function', fn);
    const start = this.#now();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.record(this.#now() - start);
      throw err;
    }
    if (isThenable(result)) {
      const done = () => this.record(this.#now() - start);
      return result.then(
        (v) => {
          done();
          return v;
        },
        (err: unknown) => {
          done();
          throw err;
        },
      ) as T;
    }
    this.record(this.#now() - start);
    return result;
  }

  /**
   * Start measuring; the returned function records the elapsed ms (the first time it is called)
   * and returns them.
   */
  startTimer(): () => number {
    const start = this.#now();
    let recorded: number | undefined;
    return () => {
      if (recorded === undefined) {
        recorded = this.#now() - start;
        this.record(recorded);
      }
      return recorded;
    };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
