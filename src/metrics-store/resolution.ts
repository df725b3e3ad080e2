/**
 * Resolution choice shared by every {@link MetricsStore}: `auto` for point queries (Blueflood's
 * geometric choice) and the slot cover used by percentile queries (coarsest aligned rollups in the
 * middle, finer ones and raw at the edges). Both are pure functions of the range, the retention and
 * `now`.
 */
import { oldestRetained, type RollupResolution, slotStart } from './rollup-slots.js';
import type { Resolution, Retention } from './types.js';
import { RESOLUTION_MS, RESOLUTIONS } from './types.js';

/** Points `auto` aims for when the query does not say. */
export const DEFAULT_QUERY_POINTS = 400;
/** The raw sample interval `auto` assumes when estimating raw point counts (Blueflood's 30 s). */
export const DEFAULT_RAW_INTERVAL_MS = 30_000;

/** Input of {@link chooseResolution}. */
export interface ResolutionChoice {
  /** Inclusive range start, epoch ms. */
  from: number;
  /** Exclusive range end, epoch ms. */
  to: number;
  /** Points wanted. @default 400 */
  points?: number;
  /** The store's `clock.now()`. */
  now: number;
  retention: Readonly<Retention>;
  /** Assumed raw interval. @default 30000 */
  rawIntervalMs?: number;
}

/**
 * Pick the resolution for `resolution: 'auto'` (Blueflood's GEOMETRIC selection): skip every
 * resolution whose retention no longer covers `from`; among the rest pick the one whose expected
 * point count `n` over `[from, to)` minimises `max(n / points, points / n)` — the coarsest resolution
 * that still gives about as many points as asked. Ties go to the coarser one. When no resolution
 * still covers `from`, the longest-retained one is returned.
 */
export function chooseResolution(input: ResolutionChoice): Resolution {
  const wanted = input.points ?? DEFAULT_QUERY_POINTS;
  const rawInterval = input.rawIntervalMs ?? DEFAULT_RAW_INTERVAL_MS;
  const span = Math.max(input.to - input.from, 1);
  let best: Resolution | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const res of RESOLUTIONS) {
    if (input.from < oldestRetained(res, input.retention, input.now)) continue;
    const width = res === 'raw' ? rawInterval : RESOLUTION_MS[res];
    const n = span / width;
    const score = Math.max(n / wanted, wanted / n);
    if (score <= bestScore) {
      best = res;
      bestScore = score;
    }
  }
  if (best !== undefined) return best;
  let longest: Resolution = 'raw';
  for (const res of RESOLUTIONS) if (input.retention[res] >= input.retention[longest]) longest = res;
  return longest;
}

/**
 * The resolution a query reads: its own `resolution`, or for `auto` (the default) the
 * {@link chooseResolution} pick for its range at `now`. Shared by every store implementation.
 */
export function queryResolution(
  q: { from: number; to: number; resolution?: Resolution | 'auto'; points?: number },
  now: number,
  retention: Readonly<Retention>,
  rawIntervalMs: number,
): Resolution {
  const requested = q.resolution ?? 'auto';
  if (requested !== 'auto') return requested;
  return chooseResolution({
    from: q.from,
    to: q.to,
    now,
    retention,
    rawIntervalMs,
    ...(q.points !== undefined ? { points: q.points } : {}),
  });
}

/** One piece of a {@link planCover}: read `res` data with `from <= ts < to`. */
export interface CoverSegment {
  res: Resolution;
  from: number;
  to: number;
}

/** Input of {@link planCover}. */
export interface CoverInput {
  from: number;
  to: number;
  now: number;
  retention: Readonly<Retention>;
}

const COARSE_FIRST: readonly RollupResolution[] = ['1d', '1h', '5m'];

/**
 * Split `[from, to)` into segments to read so that every instant is read exactly once, from the
 * coarsest resolution possible: whole closed (`slotEnd <= now`) and retained slots of 1d in the
 * middle, then 1h and 5m slots towards the edges, and raw for what is left (the unaligned edges and
 * the still-open recent slots). Used by percentile queries, so p99 over a month merges ~30 daily
 * sketches plus a few edge ones and still equals p99 of every raw value.
 *
 * Where a finer resolution has already expired at an edge, the coarser slot overlapping that edge is
 * used whole (the segment then reaches outside `[from, to)`): old data can only be answered at the
 * resolution still kept. Segments are returned in time order and never overlap.
 *
 * A store must only serve a rollup segment from slots that are up to date (rolled after their last
 * write); roll dirty closed slots first (memory does, on read) or fall back to finer data.
 */
export function planCover(input: CoverInput): CoverSegment[] {
  const out: CoverSegment[] = [];
  if (input.to <= input.from) return out;
  cover(input.from, input.to, 0, input, out);
  return out;
}

function finerOf(idx: number): Resolution {
  return idx + 1 < COARSE_FIRST.length ? (COARSE_FIRST[idx + 1] as Resolution) : 'raw';
}

function cover(from: number, to: number, idx: number, input: CoverInput, out: CoverSegment[]): void {
  if (to <= from) return;
  const res = COARSE_FIRST[idx];
  if (res === undefined) {
    out.push({ res: 'raw', from, to });
    return;
  }
  const w = RESOLUTION_MS[res];
  const finer = finerOf(idx);
  const finerOldest = oldestRetained(finer, input.retention, input.now);
  // aligned inner range; widened to the whole edge slot when the finer level cannot serve the edge
  let a = Math.ceil(from / w) * w;
  if (a !== from && from < finerOldest) a = slotStart(from, res);
  let b = Math.floor(to / w) * w;
  if (b !== to && b < finerOldest) b = b + w;
  // only closed, retained slots
  const ua = Math.max(a, oldestRetained(res, input.retention, input.now));
  const ub = Math.min(b, slotStart(input.now, res));
  if (ua >= ub) {
    cover(from, to, idx + 1, input, out);
    return;
  }
  cover(from, ua, idx + 1, input, out);
  out.push({ res, from: ua, to: ub });
  cover(ub, to, idx + 1, input, out);
}
