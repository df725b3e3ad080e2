import {
  DirtySlots,
  parentResolution,
  ROLLUP_RESOLUTIONS,
  slotStart,
} from '../metrics-store/rollup-slots.js';
import { mapLimit } from './concurrency.js';
import { nextWriteTimestamp } from './metrics-cql.js';
import type { MetricsRoller, SeriesRef, SlotToRoll } from './metrics-roller.js';
import { DIRTY_SHARDS, dirtyBucketOf } from './metrics-schema.js';
import { CACHE_LIMIT, seriesBufferKey } from './metrics-series.js';
import type { BufferedStatement, WriteBuffer } from './write-buffer.js';

/** A dirty mark of an open slot is not re-written while the slot stays open this much longer. */
const MARK_CACHE_MARGIN_MS = 60_000;

/** Series data kinds: numeric points or sketches. */
export type DataKind = 'p' | 's';

/**
 * This process's side of rolling for {@link CassandraMetricsStore}: the dirty marks a write adds
 * (skipping open slots already marked), and the slots this process dirtied, rolled before a query
 * reads them (the series' slots, then the 5m slots of the groups they feed, then the parents), so a
 * process reads its own writes without waiting for the background pass.
 *
 * @example
 * ```ts
 * const local = new LocalRolls(roller, buffer);
 * await buffer.submit(local.markStatements(points, refs, 'p', now));
 * await local.roll('p', now, selected);
 * ```
 */
export class LocalRolls {
  readonly #roller: MetricsRoller;
  readonly #buffer: WriteBuffer;
  readonly #marked = new Map<string, number>();
  readonly #dirty: Record<DataKind, DirtySlots<SeriesRef>> = { p: new DirtySlots(), s: new DirtySlots() };
  /** `${tenant}\0${group id}` → a series-like handle of a group (key ''), for the dirty trackers */
  readonly #groups = new Map<string, SeriesRef>();

  constructor(roller: MetricsRoller, buffer: WriteBuffer) {
    this.#roller = roller;
    this.#buffer = buffer;
  }

  /**
   * Dirty marks for the 5m slots a batch touched (skipping open slots this process already marked),
   * each remembered locally too.
   */
  markStatements(
    points: ReadonlyArray<{ ts: number }>,
    refs: readonly SeriesRef[],
    kind: DataKind,
    now: number,
  ): BufferedStatement[] {
    if (this.#marked.size > CACHE_LIMIT) this.#marked.clear();
    const out: BufferedStatement[] = [];
    const seen = new Set<string>();
    const parts = new Set<number>();
    const wts = nextWriteTimestamp();
    for (let i = 0; i < points.length; i++) {
      const ref = refs[i] as SeriesRef;
      const ts = (points[i] as { ts: number }).ts;
      this.#dirty[kind].markRaw(ref, ts);
      const start = slotStart(ts, '5m');
      const k = seriesBufferKey(ref, kind === 'p' ? 'mp' : 'ms', start);
      if (seen.has(k)) continue;
      seen.add(k);
      if (this.#marked.has(k)) continue;
      const end = start + 300_000;
      if (end - now > MARK_CACHE_MARGIN_MS) this.#marked.set(k, end);
      const slot = { res: '5m' as const, kind, tenant: ref.tenant, id: ref.id, shard: ref.shard };
      out.push(
        this.#roller.markStatement({ ...slot, combine: ref.combine, start, key: ref.key }, now, wts, k),
      );
      const bucket = dirtyBucketOf(start, '5m');
      const pk = bucket * DIRTY_SHARDS + ref.shard;
      if (!parts.has(pk)) {
        parts.add(pk);
        out.push(this.#roller.noteStatement('5m', bucket, ref.shard, now, wts));
      }
    }
    return out;
  }

  /** Roll the closed slots this process marked dirty for `series` and the groups they feed. */
  async roll(kind: DataKind, now: number, series: readonly SeriesRef[], signal?: AbortSignal): Promise<void> {
    if (series.length === 0) return;
    await this.#buffer.drain();
    const only = new Set(series);
    for (const g of this.#groups.values()) only.add(g);
    const dirty = this.#dirty[kind];
    for (const res of ROLLUP_RESOLUTIONS) {
      const slots = dirty.takeClosed(res, now, only);
      const groupSlots = new Map<string, SlotToRoll>();
      await mapLimit(slots, 16, async ({ series: s, start }) => {
        const slot = { res, kind, tenant: s.tenant, id: s.id, shard: s.shard, combine: s.combine, start };
        const key = s.key !== '' ? s.key : undefined;
        for (const g of await this.#roller.rollSlot({ ...slot, key }, now, signal)) {
          groupSlots.set(`${g.tenant}\u0000${g.id}\u0000${g.start}`, g);
        }
        const parent = parentResolution(res);
        if (parent !== undefined) dirty.mark(s, parent, start);
      });
      // a group's 5m slot after all of this pass's series slots (its contributions)
      await mapLimit([...groupSlots.values()], 16, async (g) => {
        await this.#roller.rollSlot(g, now, signal);
        dirty.mark(this.#groupRef(g), '1h', g.start);
      });
    }
  }

  /** Forget the local copies of closed slots and marks (a global pass covers them). */
  forgetClosed(now: number): void {
    for (const kind of ['p', 's'] as const) {
      for (const res of ROLLUP_RESOLUTIONS) this.#dirty[kind].takeClosed(res, now);
    }
    for (const [k, end] of this.#marked) if (end <= now) this.#marked.delete(k);
  }

  #groupRef(g: SlotToRoll): SeriesRef {
    const k = `${g.tenant}\u0000${g.id}`;
    let ref = this.#groups.get(k);
    if (ref === undefined) {
      if (this.#groups.size > CACHE_LIMIT) this.#groups.clear();
      ref = { tenant: g.tenant, metric: '', key: '', id: g.id, shard: g.shard, combine: 'last' };
      this.#groups.set(k, ref);
    }
    return ref;
  }
}
