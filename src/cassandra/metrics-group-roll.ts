import { FleetwatchError, throwIfAborted } from '../errors.js';
import { mergeSketches } from '../metrics-store/rollup.js';
import { slotEnd } from '../metrics-store/rollup-slots.js';
import {
  emptyStats,
  mergeStats,
  statsFromRollupPoint,
  toRollupPoint,
} from '../metrics-store/rollup-stats.js';
import type { Retention, RollupPoint } from '../metrics-store/types.js';
import { mapLimit } from './concurrency.js';
import type { types } from './driver.js';
import type { MetricsCql } from './metrics-cql.js';
import { rollupPointOf } from './metrics-reads.js';
import type { SlotToRoll } from './metrics-roller.js';
import { ttlSeconds } from './metrics-schema.js';

/** Least TTL of a contribution row. */
const MIN_TTL_SECONDS = 3600;
/** Contributions outlive the raw points of their slot by this much (a late point can re-roll the slot until then). */
const CONTRIBUTION_MARGIN_MS = 2 * 86_400_000;

/**
 * Write a series' rolled 5m slot (`value`: its rollup point or merged sketch) as its contribution to
 * each group in `groups`, with the rollup row's write time (a later roll replaces it). Kept while a
 * late point can still re-roll the slot.
 *
 * @example
 * ```ts
 * await writeContributions(cql, slot, groups.groupsOf(slot.key), point, retention, now, readAt);
 * ```
 */
export async function writeContributions(
  cql: MetricsCql,
  slot: SlotToRoll,
  groups: readonly string[],
  value: RollupPoint | Uint8Array,
  retention: Readonly<Retention>,
  now: number,
  writeTime: number,
): Promise<void> {
  const ttl = Math.max(
    MIN_TTL_SECONDS,
    ttlSeconds(slotEnd(slot.start, '5m') + retention.raw + CONTRIBUTION_MARGIN_MS - now),
  );
  const q = cql.q;
  await mapLimit(groups, 8, (gid) =>
    value instanceof Uint8Array
      ? cql.exec(q.insertGroupSketchMember, [
          slot.tenant,
          gid,
          slot.start,
          slot.id,
          Buffer.from(value),
          ttl,
          writeTime,
        ])
      : cql.exec(q.insertGroupMember, [
          slot.tenant,
          gid,
          slot.start,
          slot.id,
          value.count,
          value.sum,
          value.min,
          value.max,
          value.mean,
          value.variance * value.count,
          value.last,
          ttl,
          writeTime,
        ]),
  );
}

/**
 * A group's 5m rollup point: its members' contributions combined (Chan et al.; `last` is that of an
 * arbitrary member, which fleet queries never use for groups of several series).
 */
export async function rollGroupPoints(
  cql: MetricsCql,
  slot: SlotToRoll,
  signal?: AbortSignal,
): Promise<RollupPoint | undefined> {
  const s = emptyStats();
  for (const r of await members(cql, cql.q.selectGroupMembers, slot, signal)) {
    mergeStats(s, statsFromRollupPoint(rollupPointOf(r, slot.start)));
  }
  return s.count === 0 ? undefined : toRollupPoint(slot.start, s);
}

/**
 * A group's 5m sketch: its members' sketches merged, or an empty marker when they do not merge
 * (different relative accuracies): readers then merge the members themselves and report the error.
 */
export async function rollGroupSketch(
  cql: MetricsCql,
  slot: SlotToRoll,
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  const rows = await members(cql, cql.q.selectGroupSketchMembers, slot, signal);
  const sketches = rows.map((r) => r.get('sketch') as Uint8Array);
  if (sketches.some((b) => b.length === 0)) return new Uint8Array(0);
  try {
    return mergeSketches(sketches)?.encode();
  } catch (err) {
    if (err instanceof FleetwatchError && err.code === 'E_VALIDATION') return new Uint8Array(0);
    throw err;
  }
}

/** The member rows of a group's 5m slot (`query`: points or sketches). */
async function members(
  cql: MetricsCql,
  query: string,
  slot: SlotToRoll,
  signal: AbortSignal | undefined,
): Promise<types.Row[]> {
  throwIfAborted(signal);
  return cql.select(query, [slot.tenant, slot.id, slot.start], signal);
}
