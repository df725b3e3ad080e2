/**
 * Points blocks of {@link CassandraMetricsStore}: the raw points of one series and hour as one
 * `points_block` row (a {@link encodeBlock} blob), so raw rows need to live only a short while.
 *
 * - A raw row lives `rawRowRetentionMs` after the end of its hour, or after its write when written
 *   later (a late point), and never longer than the raw retention. So while
 *   `now < hour end + rawRowRetentionMs`, every point of that hour is still a raw row.
 * - Rolling a series' closed 1h slot (the roller) also writes its block: the hour's points read
 *   through {@link readPoints} (the previous block under the hour's raw rows, raw rows winning), so
 *   the block is a deterministic function of what is stored, written `USING TIMESTAMP` of the read.
 *   Two rollers write the same block; a late point re-marks the slot and the block is re-written.
 * - Reads ({@link readPoints}) take raw rows for every hour, and blocks only for hours whose raw
 *   rows may have begun to expire (with an hour's margin for clocks): recent queries and rolls read
 *   no blocks.
 */
import { slotEnd } from '../metrics-store/rollup-slots.js';
import type { CombinePolicy, RawPoint, Retention } from '../metrics-store/types.js';
import { decodeBlock, encodeBlock } from './block-codec.js';
import type { MetricsCql } from './metrics-cql.js';
import { readRawPoints, selectRange } from './metrics-reads.js';
import { BLOCK_BUCKET_MS, BLOCK_MS, ttlSeconds } from './metrics-schema.js';

const HOUR = 3_600_000;

/** Default of `rawRowRetentionMs`: raw rows live a day after their hour ends. */
export const DEFAULT_RAW_ROW_RETENTION_MS = 24 * HOUR;

/** Least `rawRowRetentionMs` accepted: the roller must have a chance to write the block first. */
export const MIN_RAW_ROW_RETENTION_MS = HOUR;

/** Blocks are read for hours whose raw rows expire within this margin (clock differences). */
const CLOCK_MARGIN_MS = HOUR;

/** Least TTL of a block written after its own retention (so reads and rolls can still use it). */
const MIN_BLOCK_TTL_SECONDS = 3600;

/** What the block paths read and write with. */
export interface BlockContext {
  cql: MetricsCql;
  retention: Readonly<Retention>;
  /** How long raw rows live after their hour ends (at most the raw retention). */
  rawRowRetentionMs: number;
}

/**
 * The TTL (seconds) of a raw point row at `ts` written at `now`: the shorter of the raw retention
 * (to the end of its 5m slot) and `rawRowRetentionMs` after the end of its hour (or after `now`).
 * With `rowRetentionMs` = `retention.raw` it is the whole raw retention (a raw sketch row's TTL).
 *
 * @example
 * ```ts
 * rawRowTtl(Date.now(), Date.now(), { raw: 7 * DAY, ... }, DAY); // about a day
 * ```
 */
export function rawRowTtl(
  ts: number,
  now: number,
  retention: Readonly<Retention>,
  rowRetentionMs: number,
): number {
  const full = slotEnd(ts, '5m') + retention.raw - now;
  const rows = Math.max(slotEnd(ts, '1h'), now) + rowRetentionMs - now;
  return ttlSeconds(Math.min(full, rows));
}

/**
 * Raw points of a series in `[from, to)`, one per timestamp (sources combined by `policy`), in ts
 * order: raw rows over the blocks of hours whose raw rows may have expired (a raw row's value wins
 * over the block's at the same timestamp).
 *
 * @example
 * ```ts
 * const points = await readPoints(ctx, 'default', id, from, to, 'last', Date.now());
 * ```
 */
export async function readPoints(
  ctx: BlockContext,
  tenant: string,
  id: string,
  from: number,
  to: number,
  policy: CombinePolicy,
  now: number,
  signal?: AbortSignal,
): Promise<RawPoint[]> {
  const withBlocks = to > from && slotEnd(from, '1h') + ctx.rawRowRetentionMs - CLOCK_MARGIN_MS <= now;
  const [raw, blocks] = await Promise.all([
    readRawPoints(ctx.cql, tenant, id, from, to, policy, signal),
    withBlocks ? readBlockPoints(ctx.cql, { tenant, id }, from, to, signal) : [],
  ]);
  return blocks.length === 0 ? raw : overlay(blocks, raw);
}

/**
 * Writes the block of a series' hour starting at `start` from what is stored (see the module doc),
 * `USING TIMESTAMP wts`. An hour with no points writes nothing.
 *
 * @example
 * ```ts
 * await writeBlock(ctx, { tenant, id, combine: 'last', start: hourStart }, Date.now(), nextWriteTimestamp());
 * ```
 */
export async function writeBlock(
  ctx: BlockContext,
  slot: { tenant: string; id: string; combine: CombinePolicy; start: number },
  now: number,
  wts: number,
  signal?: AbortSignal,
): Promise<void> {
  const end = slot.start + BLOCK_MS;
  const points = await readPoints(ctx, slot.tenant, slot.id, slot.start, end, slot.combine, now, signal);
  if (points.length === 0) return;
  const data = encodeBlock(
    points.map((p) => p.ts),
    points.map((p) => p.value),
  );
  const ttl = Math.max(MIN_BLOCK_TTL_SECONDS, ttlSeconds(end + ctx.retention.raw - now));
  await ctx.cql.exec(ctx.cql.q.insertBlock, [
    slot.tenant,
    slot.id,
    Math.floor(slot.start / BLOCK_BUCKET_MS),
    slot.start,
    data,
    ttl,
    wts,
  ]);
}

/** The points of the blocks of a series overlapping `[from, to)`, in ts order, within the range. */
async function readBlockPoints(
  cql: MetricsCql,
  { tenant, id }: { tenant: string; id: string },
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<RawPoint[]> {
  const first = Math.floor(from / BLOCK_MS) * BLOCK_MS;
  const parts = await selectRange(cql, cql.q.selectBlocks, BLOCK_BUCKET_MS, tenant, id, first, to, signal);
  const out: RawPoint[] = [];
  for (const rows of parts) {
    for (const r of rows) {
      const start = (r.get('block_start') as Date).getTime();
      const path = `points_block[${tenant}/${id}/${new Date(start).toISOString()}]`;
      const { ts, values } = decodeBlock(r.get('data') as Buffer, path);
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i] as number;
        if (t >= from && t < to) out.push({ ts: t, value: values[i] as number });
      }
    }
  }
  return out;
}

/** Both lists merged in ts order, one point per ts: `top`'s where both have one. */
function overlay(base: readonly RawPoint[], top: readonly RawPoint[]): RawPoint[] {
  const out: RawPoint[] = [];
  let i = 0;
  let j = 0;
  while (i < base.length || j < top.length) {
    const a = base[i];
    const b = top[j];
    if (b === undefined || (a !== undefined && a.ts < b.ts)) {
      out.push(a as RawPoint);
      i++;
    } else {
      if (a !== undefined && a.ts === b.ts) i++;
      out.push(b);
      j++;
    }
  }
  return out;
}
