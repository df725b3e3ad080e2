/**
 * The window bookkeeping of rollups, shared by every {@link MetricsStore}: slot math, retention
 * expiry, and a dirty-slot tracker that says what to roll once a slot closes.
 *
 * A rollup slot of resolution `r` starting at `s` covers `[s, s + RESOLUTION_MS[r])`, aligned to the
 * Unix epoch (UTC). 5m is built from raw, 1h from 5m, 1d from 1h (as Blueflood does), so each level
 * only ever reads the next finer one.
 */
import type { Resolution, Retention } from './types.js';
import { RESOLUTION_MS } from './types.js';

/** A resolution that has slots: `5m`, `1h` or `1d`. */
export type RollupResolution = Exclude<Resolution, 'raw'>;

/** The rollup resolutions, finest first. */
export const ROLLUP_RESOLUTIONS: readonly RollupResolution[] = ['5m', '1h', '1d'];

/** Start of the slot of resolution `res` containing `ts` (epoch-aligned, UTC). */
export function slotStart(ts: number, res: RollupResolution): number {
  const w = RESOLUTION_MS[res];
  return Math.floor(ts / w) * w;
}

/** End (exclusive) of the slot of resolution `res` containing `ts`. */
export function slotEnd(ts: number, res: RollupResolution): number {
  return slotStart(ts, res) + RESOLUTION_MS[res];
}

/** The resolution a rollup is built from: 5m ← raw, 1h ← 5m, 1d ← 1h. */
export function sourceResolution(res: RollupResolution): Resolution {
  return res === '5m' ? 'raw' : res === '1h' ? '5m' : '1h';
}

/** The rollup built from `res`: raw → 5m, 5m → 1h, 1h → 1d, 1d → none. */
export function parentResolution(res: Resolution): RollupResolution | undefined {
  return res === 'raw' ? '5m' : res === '5m' ? '1h' : res === '1h' ? '1d' : undefined;
}

/** True when the slot of `res` starting at `start` has ended at `now` (and can be rolled). */
export function isSlotClosed(start: number, res: RollupResolution, now: number): boolean {
  return now >= start + RESOLUTION_MS[res];
}

/**
 * When data at `ts` and resolution `res` expires: the end of its slot plus the retention (for raw,
 * the end of its 5m slot). Whole slots expire together, so a late point accepted inside the raw
 * window always finds the rest of its 5m slot still there to re-roll with. A Cassandra TTL for the
 * row is `ceil((expiresAt - now) / 1000)` seconds.
 */
export function expiresAt(ts: number, res: Resolution, retention: Readonly<Retention>): number {
  return slotEnd(ts, res === 'raw' ? '5m' : res) + retention[res];
}

/** True while data at `ts` and `res` is still retained at `now` (stores filter reads with this). */
export function isRetained(
  ts: number,
  res: Resolution,
  retention: Readonly<Retention>,
  now: number,
): boolean {
  return now < expiresAt(ts, res, retention);
}

/** The oldest slot start (of `res`, or 5m for raw) still retained at `now`: data before it is gone. */
export function oldestRetained(res: Resolution, retention: Readonly<Retention>, now: number): number {
  const r: RollupResolution = res === 'raw' ? '5m' : res;
  // expiresAt(ts) > now  ⇔  slotEnd(ts) > now - retention  ⇔  the smallest such slot start is the
  // start of the slot containing now - retention.
  return slotStart(now - retention[res], r);
}

/** A slot that needs (re)rolling: of which series, which resolution, starting when. */
export interface DirtySlot<K> {
  series: K;
  res: RollupResolution;
  start: number;
}

/**
 * Which slots need rolling. A write at `ts` marks the 5m slot of `ts` dirty ({@link markRaw}); rolling
 * a slot marks its parent dirty. {@link DirtySlots.takeClosed} hands out every dirty slot that has
 * closed at `now`, finest first, so a 1h slot is rolled only after its 5m children. A late point simply
 * marks its (closed) slot dirty again and it is rolled on the next pass.
 *
 * `K` identifies a series (a key string, or the store's own series object).
 */
export class DirtySlots<K> {
  readonly #dirty: Record<RollupResolution, Map<K, Set<number>>> = {
    '5m': new Map(),
    '1h': new Map(),
    '1d': new Map(),
  };

  /** Mark the slot of `res` containing `ts` dirty for `series`. */
  mark(series: K, res: RollupResolution, ts: number): void {
    const map = this.#dirty[res];
    let set = map.get(series);
    if (set === undefined) {
      set = new Set();
      map.set(series, set);
    }
    set.add(slotStart(ts, res));
  }

  /** Mark the 5m slot of a raw point at `ts` dirty. */
  markRaw(series: K, ts: number): void {
    this.mark(series, '5m', ts);
  }

  /** Number of dirty slots (all resolutions). */
  get size(): number {
    let n = 0;
    for (const res of ROLLUP_RESOLUTIONS) for (const set of this.#dirty[res].values()) n += set.size;
    return n;
  }

  /** Forget every dirty slot of `series` (when it is deleted). */
  forget(series: K): void {
    for (const res of ROLLUP_RESOLUTIONS) this.#dirty[res].delete(series);
  }

  /**
   * Remove and return the dirty slots of `res` that are closed at `now` (optionally only for the
   * series in `only`), sorted by series insertion order then start. Roll them, then call
   * {@link mark} on the parent resolution for each rolled slot.
   */
  takeClosed(res: RollupResolution, now: number, only?: ReadonlySet<K>): DirtySlot<K>[] {
    const out: DirtySlot<K>[] = [];
    const map = this.#dirty[res];
    for (const [series, set] of map) {
      if (only !== undefined && !only.has(series)) continue;
      const starts = [...set].filter((s) => isSlotClosed(s, res, now)).sort((a, b) => a - b);
      for (const start of starts) {
        set.delete(start);
        out.push({ series, res, start });
      }
      if (set.size === 0) map.delete(series);
    }
    return out;
  }
}
