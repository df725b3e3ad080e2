import { FleetwatchError } from './errors.js';

/** Longest a slice of work may hold the event loop before it yields, ms. */
export const SLICE_MS = 8;

/**
 * Run a generator to its end synchronously (each `yield` is a point where it could pause).
 *
 * @example
 * ```ts
 * const value = runSync(steps());
 * ```
 */
export function runSync<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * Run a generator in slices of about `sliceMs`, yielding the event loop (`setImmediate`) between
 * slices, so a large input never blocks it for long. Rejects with `E_ABORTED` when `signal` fires.
 *
 * @example
 * ```ts
 * const value = await runSliced(steps(), { signal });
 * ```
 */
export async function runSliced<T>(
  steps: Generator<void, T>,
  options: { signal?: AbortSignal; sliceMs?: number } | undefined = {},
): Promise<T> {
  const signal = options?.signal;
  const sliceMs = options?.sliceMs ?? SLICE_MS;
  for (;;) {
    if (signal?.aborted === true) throw new FleetwatchError('E_ABORTED', 'aborted', { cause: signal.reason });
    const start = performance.now();
    for (;;) {
      const r = steps.next();
      if (r.done === true) return r.value;
      if (performance.now() - start >= sliceMs) break;
    }

    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
