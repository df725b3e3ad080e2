/** This process's CPU time (user + system), ms. */
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** How {@link watchLoop} ticks and how long it keeps watching after `fn`. */
export interface WatchLoopOptions {
  /**
   * The period of the watching timer, ms; `0` ticks on every turn of the event loop
   * (`setImmediate`), which sees the shortest blocks but keeps the loop busy.
   *
   * @default 5
   */
  tickMs?: number;
  /**
   * How long to keep watching once `fn` has settled, ms (so a block at the very end of `fn` is seen).
   *
   * @default 0
   */
  settleMs?: number;
}

/** What {@link watchLoop} saw. */
export interface LoopWatch<T> {
  /** What `fn` returned. */
  value: T;
  /** The longest gap between ticks in wall-clock ms: the worst event-loop block. */
  stallMs: number;
  /**
   * The longest gap between ticks in this process's CPU ms (user + system). On a shared, overloaded
   * machine the wall-clock gaps also count time the OS did not run the process at all, which no
   * code change can shorten; the CPU time does not (it may count GC helper threads).
   */
  cpuStallMs: number;
  /** How long `fn` took, wall-clock ms. */
  totalMs: number;
}

/**
 * Runs `fn` while a ticker watches the event loop, then keeps watching `settleMs`. Returns what `fn`
 * returned, the longest gap between ticks on both clocks (wall and CPU) and how long `fn` took.
 *
 * @example
 * ```ts
 * const { value, stallMs, cpuStallMs } = await watchLoop(() => decode(body), { tickMs: 1, settleMs: 5 });
 * ```
 */
export async function watchLoop<T>(
  fn: () => Promise<T>,
  { tickMs = 5, settleMs = 0 }: WatchLoopOptions = {},
): Promise<LoopWatch<T>> {
  const gap = { last: performance.now(), lastCpu: cpuMs(), max: 0, maxCpu: 0 };
  const seeGap = () => {
    const now = performance.now();
    const cpu = cpuMs();
    gap.max = Math.max(gap.max, now - gap.last);
    gap.maxCpu = Math.max(gap.maxCpu, cpu - gap.lastCpu);
    gap.last = now;
    gap.lastCpu = cpu;
  };
  let watching = true;
  const spin = () => {
    seeGap();
    if (watching) setImmediate(spin);
  };
  const interval = tickMs > 0 ? setInterval(seeGap, tickMs) : undefined;
  if (interval === undefined) setImmediate(spin);
  try {
    const t0 = performance.now();
    const value = await fn();
    const totalMs = performance.now() - t0;
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    seeGap();
    return { value, stallMs: gap.max, cpuStallMs: gap.maxCpu, totalMs };
  } finally {
    watching = false;
    clearInterval(interval);
  }
}
