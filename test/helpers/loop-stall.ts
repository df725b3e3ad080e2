/**
 * Runs `fn` while a timer ticking every `tickMs` watches the event loop, then waits `settleMs` (so a
 * block at the very end of `fn` is seen too). Returns what `fn` returned, the longest gap between
 * ticks (the worst event-loop block, ms) and how long `fn` took (ms).
 */
export async function watchLoop<T>(
  fn: () => Promise<T>,
  { tickMs = 5, settleMs = 0 }: { tickMs?: number; settleMs?: number } = {},
): Promise<{ value: T; stallMs: number; totalMs: number }> {
  const gap = { last: performance.now(), max: 0 };
  const seeGap = () => {
    const now = performance.now();
    gap.max = Math.max(gap.max, now - gap.last);
    gap.last = now;
  };
  const ticker = setInterval(seeGap, tickMs);
  try {
    const t0 = performance.now();
    const value = await fn();
    const totalMs = performance.now() - t0;
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    seeGap();
    return { value, stallMs: gap.max, totalMs };
  } finally {
    clearInterval(ticker);
  }
}
