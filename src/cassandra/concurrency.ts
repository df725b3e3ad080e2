import PQueue from 'p-queue';
import { abortError } from '../errors.js';

/**
 * Run `fn` over `items` through a p-queue with at most `limit` calls pending; resolve with the
 * results in input order. The first rejection clears the calls not yet started and, once the
 * running ones have settled, rejects with that error. An aborted `signal` does the same with
 * `E_ABORTED`.
 *
 * @example
 * ```ts
 * const rows = await mapLimit(partitions, 16, (p) => readPartition(p), signal);
 * ```
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  if (signal?.aborted) throw abortError(signal);
  if (items.length === 1) return [await fn(items[0] as T, 0)]; // the common one-partition read
  const queue = new PQueue({ concurrency: Math.max(1, limit) });
  let first: { err: unknown } | undefined;
  const fail = (err: unknown) => {
    first ??= { err };
    queue.clear();
  };
  const onAbort = () => fail(abortError(signal as AbortSignal));
  signal?.addEventListener('abort', onAbort, { once: true });
  const out = new Array<R>(items.length);
  try {
    items.forEach((item, i) => {
      // each task settles its own error, so nothing is left unhandled when the queue is cleared
      void queue.add(async () => {
        if (first !== undefined) return;
        try {
          out[i] = await fn(item, i);
        } catch (err) {
          fail(err);
        }
      });
    });
    await queue.onIdle();
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (first !== undefined) throw first.err;
  return out;
}
