/**
 * The least of `tries` wall-time measurements of `fn`, in ms. On a shared, loaded machine waiting
 * only ever adds time, so the least of a few runs is the honest figure for "does this input take
 * milliseconds or seconds"; a backtracking blow-up stays slow on every try.
 */
export async function leastMs(fn: () => unknown, tries = 3): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < tries; i++) {
    const t0 = performance.now();
    await fn();
    least = Math.min(least, performance.now() - t0);
  }
  return least;
}
