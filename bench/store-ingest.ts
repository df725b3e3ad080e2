import type { Point } from '../src/metrics-store/types.js';

/** What {@link writeChunked} writes through: a store's `write()`. */
export interface PointWriter {
  write(batch: readonly Point[]): Promise<unknown>;
}

/**
 * Writes `pts` through `store.write()` in calls of `chunk` points, `inFlight` calls at once, in
 * order (time-major input arrives as a broker flushes it). The store benchmarks' one ingest loop.
 *
 * @example
 * ```ts
 * await writeChunked(store, points); // 10k-point calls, 16 in flight
 * ```
 */
export async function writeChunked(
  store: PointWriter,
  pts: readonly Point[],
  chunk = 10_000,
  inFlight = 16,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < pts.length) {
      const i = next;
      next += chunk;
      await store.write(pts.slice(i, i + chunk));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}
