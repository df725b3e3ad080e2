/**
 * Rollups of {@link CassandraMetricsStore}: 5m ← raw, 1h ← 5m, 1d ← 1h, for closed slots.
 *
 * A write marks its 5m slot dirty in `dirty_slots` (partition: resolution × slot day × shard) and
 * notes the partition in `dirty_buckets`, so any process can find and roll every dirty slot. Rolling a
 * slot recomputes it from the finer level (idempotent: two processes rolling the same slot write the
 * same row), marks the parent slot dirty, then deletes the mark `USING TIMESTAMP` of the mark it read
 * — a late point that re-marked the slot meanwhile carries a newer timestamp and survives, so the slot
 * is rolled again. Marks are written only after the points they cover are acknowledged.
 */
import type { Logger } from '../core.js';
import { mergeSketches, rollup5mFromRaw, rollupFromChildren } from '../metrics-store/rollup.js';
import {
  expiresAt,
  isSlotClosed,
  parentResolution,
  type RollupResolution,
  sourceResolution,
} from '../metrics-store/rollup-slots.js';
import type { CombinePolicy, Retention, RollupPoint } from '../metrics-store/types.js';
import { RESOLUTION_MS } from '../metrics-store/types.js';
import { mapLimit } from './concurrency.js';
import { type BlockContext, readPoints, writeBlock } from './metrics-blocks.js';
import { type MetricsCql, nextWriteTimestamp, toMillis, toNumber } from './metrics-cql.js';
import { rollGroupPoints, rollGroupSketch, writeContributions } from './metrics-group-roll.js';
import type { GroupRollups } from './metrics-groups.js';
import { readRollups, readSketchRaw, readSketchRollups } from './metrics-reads.js';
import {
  bucketOf,
  DIRTY_SHARDS,
  dirtyBucketOf,
  ROLLUP_ORDER,
  shardOf,
  ttlSeconds,
} from './metrics-schema.js';
import type { BufferedStatement } from './write-buffer.js';

/** Least TTL of a rolled slot (see {@link MetricsRoller.rollSlot}). */
const MIN_ROLLUP_TTL_SECONDS = 3600;

/**
 * What a dirty mark is about: numeric points or sketches (of a series, or at 1h/1d of a group), or
 * the 5m slot of a group (`gp`, `gs`: rolled from its members' contributions).
 */
export type SlotKind = 'p' | 's' | 'gp' | 'gs';

/** Prefixes of per-series write-buffer keys: raw points, raw sketches, point marks, sketch marks. */
export type BufferKeyPrefix = 'r' | 's' | 'mp' | 'ms';

/** The identity of a stored series, as the store and the roller use it. */
export interface SeriesRef {
  tenant: string;
  metric: string;
  /** Canonical series key (`seriesKey`). */
  key: string;
  /** Partition-key id (`seriesId(key)`). */
  id: string;
  /** Dirty-table shard. */
  shard: number;
  /** Recorded combine policy. */
  combine: CombinePolicy;
  /** Bucket base of the series' first sketch (its relative accuracy, or any scale), once known. */
  sketchBase?: number;
  /** When this process last wrote the series' index row (Date.now()). */
  registeredAt?: number;
  /**
   * Write-buffer keys of this series by prefix, each for its latest bucket or slot: built once and
   * reused, so buffer map lookups hash a string once (see `seriesBufferKey` in metrics-store.ts).
   */
  bufferKeys?: Record<BufferKeyPrefix, { n: number; key: string } | undefined>;
}

/** One slot to roll. */
export interface SlotToRoll {
  res: RollupResolution;
  kind: SlotKind;
  tenant: string;
  id: string;
  shard: number;
  combine: CombinePolicy;
  start: number;
  /**
   * The series key of a series' slot (its groups at 5m; at 1h, that the slot is a series' and has a
   * points block); absent for groups' slots and for marks written before blocks existed.
   */
  key?: string | undefined;
}

/** See the module doc. */
export class MetricsRoller {
  readonly #dirtyKeys: Record<RollupResolution, Map<number, string>> = {
    '5m': new Map(),
    '1h': new Map(),
    '1d': new Map(),
  };

  readonly #cql: MetricsCql;
  readonly #retention: Readonly<Retention>;
  readonly #logger: Logger;
  readonly #groups: GroupRollups;
  readonly #blocks: BlockContext;

  constructor(
    cql: MetricsCql,
    retention: Readonly<Retention>,
    logger: Logger,
    groups: GroupRollups,
    rawRowRetentionMs: number,
  ) {
    this.#cql = cql;
    this.#retention = retention;
    this.#logger = logger;
    this.#groups = groups;
    this.#blocks = { cql, retention, rawRowRetentionMs };
  }

  /** The write-buffer key of a dirty-slot partition (cached: the same string for the same partition). */
  #dirtyKey(res: RollupResolution, bucket: number, shard: number): string {
    const n = bucket * DIRTY_SHARDS + shard;
    const cache = this.#dirtyKeys[res];
    let key = cache.get(n);
    if (key === undefined) {
      if (cache.size >= 4096) cache.clear();
      key = `d|${res}|${bucket}|${shard}`;
      cache.set(n, key);
    }
    return key;
  }

  /** The statements that mark the slot of `res` starting at `start` dirty (mark + partition note). */
  markStatements(slot: Omit<SlotToRoll, 'start'> & { start: number }, at: number): BufferedStatement[] {
    const wts = nextWriteTimestamp();
    return [
      this.markStatement(slot, at, wts),
      this.noteStatement(slot.res, dirtyBucketOf(slot.start, slot.res), slot.shard, at, wts),
    ];
  }

  /**
   * The dirty mark of one slot, written `USING TIMESTAMP wts`. `dedupe` identifies the mark's row
   * (a later mark of the same slot replaces a queued one in the write buffer).
   */
  markStatement(
    slot: Omit<SlotToRoll, 'start'> & { start: number },
    at: number,
    wts: number,
    dedupe = `d|${slot.res}|${slot.start}|${slot.tenant}|${slot.id}|${slot.kind}`,
  ): BufferedStatement {
    const bucket = dirtyBucketOf(slot.start, slot.res);
    return {
      key: this.#dirtyKey(slot.res, bucket, slot.shard),
      dedupe,
      query: this.#cql.q.insertDirty,
      params: [
        slot.res,
        bucket,
        slot.shard,
        slot.start,
        slot.tenant,
        slot.id,
        slot.kind,
        slot.combine,
        at,
        slot.key ?? null,
        wts,
      ],
    };
  }

  /** The note in `dirty_buckets` that the dirty-slot partition (`res`, `bucket`, `shard`) has marks. */
  noteStatement(
    res: RollupResolution,
    bucket: number,
    shard: number,
    at: number,
    wts: number,
  ): BufferedStatement {
    return {
      key: `db|${res}`,
      dedupe: `db|${res}|${bucket}|${shard}`,
      query: this.#cql.q.insertDirtyBucket,
      params: [res, bucket, shard, at, wts],
    };
  }

  /**
   * Roll every dirty slot (of any process) closed at `now`, 5m first (series, then the groups they
   * fed), then 1h, then 1d. Returns the number of slots rolled.
   */
  async rollAll(now: number, signal?: AbortSignal): Promise<number> {
    let rolled = 0;
    for (const res of ROLLUP_ORDER) {
      if (res === '5m') {
        rolled += await this.#rollPass(res, now, (k) => k === 'p' || k === 's', signal);
        rolled += await this.#rollPass(res, now, (k) => k === 'gp' || k === 'gs', signal);
      } else rolled += await this.#rollPass(res, now, () => true, signal);
    }
    if (rolled > 0) this.#logger.debug({ rolled }, 'rolled dirty slots');
    return rolled;
  }

  async #rollPass(
    res: RollupResolution,
    now: number,
    kinds: (k: SlotKind) => boolean,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const q = this.#cql.q;
    let rolled = 0;
    const parts = await this.#cql.select(q.selectDirtyBuckets, [res], signal);
    for (const part of parts) {
      const bucket = part.get('bucket') as number;
      const shard = part.get('shard') as number;
      const partWt = toNumber(part.get('wt'));
      const marks = await this.#cql.select(q.selectDirty, [res, bucket, shard], signal);
      if (marks.length === 0) {
        await this.#cql.exec(q.deleteDirtyBucket, [partWt, res, bucket, shard]);
        continue;
      }
      const closed = marks.filter(
        (m) => kinds(m.get('kind') as SlotKind) && isSlotClosed(toMillis(m.get('slot_start')), res, now),
      );
      await mapLimit(closed, 16, async (m) => {
        const slot: SlotToRoll = {
          res,
          kind: m.get('kind') as SlotKind,
          tenant: m.get('tenant') as string,
          id: m.get('series_id') as string,
          shard,
          combine: (m.get('combine') as CombinePolicy | null) ?? 'last',
          start: toMillis(m.get('slot_start')),
          key: (m.get('series_key') as string | null) ?? undefined,
        };
        await this.rollSlot(slot, now, signal);
        await this.#cql.exec(q.deleteDirty, [
          toNumber(m.get('wt')),
          res,
          bucket,
          shard,
          slot.start,
          slot.tenant,
          slot.id,
          slot.kind,
        ]);
      });
      rolled += closed.length;
    }
    return rolled;
  }

  /**
   * Recompute one slot from the next finer level (a group's 5m slot from its members'
   * contributions), store it with a TTL that ends with its retention, and mark its parent slot dirty.
   * A series' 5m slot is also written as its contribution to each of its groups, whose 5m slots are
   * marked dirty: those are returned, to be rolled after the series.
   */
  async rollSlot(slot: SlotToRoll, now: number, signal?: AbortSignal): Promise<SlotToRoll[]> {
    const { res, start } = slot;
    // A slot rolled after its own retention (a far-ahead clock, a long outage) is still written, for
    // an hour at least, so its parent can be built from it; readers filter it out by retention.
    const ttl = Math.max(MIN_ROLLUP_TTL_SECONDS, ttlSeconds(expiresAt(start, res, this.#retention) - now));
    const bucket = bucketOf(start, res);
    const q = this.#cql.q;
    // The row's write time is taken before its inputs are read: of two processes rolling the same
    // slot at once, the one that read later (and so saw more) wins, whatever order the writes land in.
    const readAt = nextWriteTimestamp();
    const points = slot.kind === 'p' || slot.kind === 'gp';
    let value: RollupPoint | Uint8Array | undefined;
    if (points) {
      const [point] = await Promise.all([
        slot.kind === 'gp' ? rollGroupPoints(this.#cql, slot, signal) : this.#rollPoints(slot, now, signal),
        // a series' hour: its raw points as one block too (before the raw rows expire), read and
        // written while its 5m rollups are read: neither uses the other
        res === '1h' && slot.kind === 'p' && slot.key !== undefined
          ? writeBlock(this.#blocks, slot, now, readAt, signal)
          : undefined,
      ]);
      value = point;
      if (point !== undefined) {
        await this.#cql.exec(q.insertRollup[res], [
          slot.tenant,
          slot.id,
          bucket,
          start,
          point.count,
          point.sum,
          point.min,
          point.max,
          point.mean,
          point.variance * point.count,
          point.last,
          ttl,
          readAt,
        ]);
      }
    } else {
      const sketch =
        slot.kind === 'gs'
          ? await rollGroupSketch(this.#cql, slot, signal)
          : await this.#rollSketch(slot, signal);
      value = sketch;
      if (sketch !== undefined) {
        await this.#cql.exec(q.insertSketchRollup[res], [
          slot.tenant,
          slot.id,
          bucket,
          start,
          Buffer.from(sketch),
          ttl,
          readAt,
        ]);
      }
    }
    const groupSlots: SlotToRoll[] = [];
    if (res === '5m' && slot.key !== undefined && value !== undefined) {
      const groups = this.#groups.groupsOf(slot.key);
      await writeContributions(this.#cql, slot, groups, value, this.#retention, now, readAt);
      for (const id of groups) {
        const g: SlotToRoll = { ...slot, kind: points ? 'gp' : 'gs', id, shard: shardOf(id), key: undefined };
        groupSlots.push(g);
        await Promise.all(this.markStatements(g, now).map((s) => this.#cql.exec(s.query, s.params)));
      }
    }
    const parent = parentResolution(res);
    if (parent !== undefined) {
      const parentStart = Math.floor(start / RESOLUTION_MS[parent]) * RESOLUTION_MS[parent];
      const kind: SlotKind = points ? 'p' : 's';
      const key = slot.kind === 'p' || slot.kind === 's' ? slot.key : undefined;
      await Promise.all(
        this.markStatements({ ...slot, kind, res: parent, start: parentStart, key }, now).map((s) =>
          this.#cql.exec(s.query, s.params),
        ),
      );
    }
    return groupSlots;
  }

  async #rollPoints(slot: SlotToRoll, now: number, signal?: AbortSignal): Promise<RollupPoint | undefined> {
    const { res, start } = slot;
    const end = start + RESOLUTION_MS[res];
    if (res === '5m') {
      const points = await readPoints(
        this.#blocks,
        slot.tenant,
        slot.id,
        start,
        end,
        slot.combine,
        now,
        signal,
      );
      return rollup5mFromRaw(start, points);
    }
    const child = sourceResolution(res) as RollupResolution;
    const children = await readRollups(this.#cql, child, slot.tenant, slot.id, start, end, signal);
    return rollupFromChildren(res, start, children);
  }

  async #rollSketch(slot: SlotToRoll, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const { res, start } = slot;
    const end = start + RESOLUTION_MS[res];
    const rows =
      res === '5m'
        ? await readSketchRaw(this.#cql, slot.tenant, slot.id, start, end, signal)
        : await readSketchRollups(
            this.#cql,
            sourceResolution(res) as RollupResolution,
            slot,
            start,
            end,
            signal,
          );
    // a group whose members' sketches do not merge (different relative accuracies) stays marked
    if (rows.some((r) => r.sketch.length === 0)) return new Uint8Array(0);
    return mergeSketches(rows.map((r) => r.sketch))?.encode();
  }
}
