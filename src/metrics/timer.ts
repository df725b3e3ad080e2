/**
 * A timer: a {@link Histogram} of durations in milliseconds, with helpers that measure them. The
 * durations come from a monotonic clock (`performance.now()` unless the registry was given
 * another `monotonicNow`).
 */

import { Histogram } from './histogram.js';
import type { DDSketchOptions } from './sketch.js';

/** A timer handle, as returned (and cached) by `registry.timer(name, tags)`. */
export class Timer extends Histogram {
  constructor(
    name: string,
    tags: Readonly<Record<string, string>>,
    sketchOptions: DDSketchOptions,
    private readonly monotonicNow: () => number,
  ) {
    super(name, tags, sketchOptions);
  }

  /**
   * Run `fn` and record how long it took, in ms — until its promise settles when it returns one
   * (fulfilled or rejected). Returns what `fn` returns; a throw is recorded and rethrown.
   */
  time<T>(fn: () => T): T {
    const start = this.monotonicNow();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.record(this.monotonicNow() - start);
      throw err;
    }
    if (isThenable(result)) {
      const done = () => this.record(this.monotonicNow() - start);
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
    this.record(this.monotonicNow() - start);
    return result;
  }

  /**
   * Start measuring; the returned function records the elapsed ms (the first time it is called)
   * and returns them.
   */
  startTimer(): () => number {
    const start = this.monotonicNow();
    let recorded: number | undefined;
    return () => {
      if (recorded === undefined) {
        recorded = this.monotonicNow() - start;
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
