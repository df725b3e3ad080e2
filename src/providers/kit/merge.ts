/**
 * Merge several async sources (one per region) into one stream, running at most `concurrency` of
 * them at once and yielding items as they arrive. The first failure stops the others and is thrown:
 * a listing never ends early without saying so.
 */

import type { ListNodesOptions } from '../types.js';

const noop = (): void => {};

/**
 * Yield every item of every source, with up to `concurrency` sources running at once. Order is
 * arrival order. When the consumer stops early or a source fails, the running sources are closed.
 *
 * @example
 * ```ts
 * for await (const node of mergeConcurrently(regions.map((r) => () => listRegion(r)), 4)) use(node);
 * ```
 */
export async function* mergeConcurrently<T>(
  sources: ReadonlyArray<() => AsyncIterable<T>>,
  concurrency: number,
): AsyncGenerator<T, void, undefined> {
  type Step = { index: number; result: IteratorResult<T> };
  const iterators = new Map<number, AsyncIterator<T>>();
  const pending = new Map<number, Promise<Step>>();
  let started = 0;

  const pull = (index: number): void => {
    const it = iterators.get(index) as AsyncIterator<T>;
    const step = it.next().then((result) => ({ index, result }));
    step.catch(noop);
    pending.set(index, step);
  };
  const startNext = (): void => {
    if (started >= sources.length) return;
    const index = started++;
    iterators.set(index, (sources[index] as () => AsyncIterable<T>)()[Symbol.asyncIterator]());
    pull(index);
  };

  try {
    while (pending.size < Math.max(1, concurrency) && started < sources.length) startNext();
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done === true) {
        pending.delete(index);
        iterators.delete(index);
        startNext();
        continue;
      }
      pull(index);
      yield result.value;
    }
  } finally {
    for (const it of iterators.values()) {
      // Close what still runs; a source busy in next() closes once that step settles.
      void Promise.resolve()
        .then(() => it.return?.())
        .catch(noop);
    }
  }
}

/**
 * Run `find` for each key (region) with up to `concurrency` at once and resolve with the first
 * defined result, or `undefined` when none has one. A failure in any lookup rejects.
 */
export async function firstFound<K, T>(
  keys: readonly K[],
  find: (key: K) => Promise<T | undefined>,
  concurrency: number,
): Promise<T | undefined> {
  const sources = keys.map(
    (key) =>
      async function* (): AsyncGenerator<T> {
        const found = await find(key);
        if (found !== undefined) yield found;
      },
  );
  for await (const found of mergeConcurrently(sources, concurrency)) return found;
  return undefined;
}

/**
 * The `listNodes` of a multi-region adapter: when iteration starts, find the regions to list, then
 * list them with {@link mergeConcurrently}, up to `concurrency` at once.
 */
export function listAcrossRegions<R, T>(
  regionsToList: (opts: ListNodesOptions) => Promise<readonly R[]>,
  listRegion: (region: R, opts: ListNodesOptions) => AsyncIterable<T>,
  concurrency: number,
): (opts?: ListNodesOptions) => AsyncIterable<T> {
  return (opts = {}) => ({
    async *[Symbol.asyncIterator]() {
      const regions = await regionsToList(opts);
      yield* mergeConcurrently(
        regions.map((region) => () => listRegion(region, opts)),
        concurrency,
      );
    },
  });
}
