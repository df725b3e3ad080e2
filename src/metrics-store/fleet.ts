import { FleetwatchError, validationError } from '../errors.js';
import type { RollupResolution } from './rollup-slots.js';
import type { AggregatedPoint, AggregatedSeries, FleetAggregate, Resolution, RollupPoint } from './types.js';
import { RESOLUTION_MS } from './types.js';

/** Per-query limits of a store (the query-cost guard). */
export interface QueryLimits {
  /** Most series one query may select. */
  maxSeries: number;
  /** Most stored points (rollup slots or sketch rows) one query may read, estimated before reading. */
  maxPoints: number;
}

/** Default {@link QueryLimits}: 10,000 series and 5,000,000 points a query. */
export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = Object.freeze({
  maxSeries: 10_000,
  maxPoints: 5_000_000,
});

/** One selected series as the fleet engine sees it: the store's own handle plus its tags and key. */
export interface FleetSeries<S> {
  ref: S;
  tags: Readonly<Record<string, string>>;
  key: string;
}

/** A stored sketch row as read by a {@link FleetReader}. */
export interface SketchRow {
  ts: number;
  sketch: Uint8Array;
}

/** How the fleet engine reads a store: retained data only, sorted by `ts`. */
export interface FleetReader<S> {
  /**
   * Rollup points of `ref` at `res` whose slot starts in `[from, to)`, sorted by `ts`. `aggregate`
   * says which statistics will be used (`count` always; `sum` for sum/count/avg, `min`, `max`,
   * `last` and `min` for last/rate/delta): a store may leave the others NaN.
   */
  rollups(
    ref: S,
    res: RollupResolution,
    from: number,
    to: number,
    aggregate: FleetAggregate,
  ): Promise<readonly RollupPoint[]>;
  /** Sketch rows of `ref` at `res` (raw rows merged per ts and source) with `from <= ts < to`. */
  sketches(ref: S, res: Resolution, from: number, to: number): Promise<readonly SketchRow[]>;
  /** Runs `fn` over every item, with the store's bounded concurrency. */
  each<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void>;
  /**
   * Pre-aggregated rollup points of a whole group (its members' statistics combined per slot), when
   * the store keeps them for exactly the group's members over the whole range; undefined means "read
   * the members". Used for `sum`, `count`, `avg`, `min` and `max` only.
   */
  groupRollups?(
    group: Group<S>,
    res: RollupResolution,
    from: number,
    to: number,
    aggregate: FleetAggregate,
  ): Promise<readonly RollupPoint[] | undefined>;
  /** Pre-merged sketch rows of a whole group, as {@link FleetReader.groupRollups}. */
  groupSketches?(
    group: Group<S>,
    res: Resolution,
    from: number,
    to: number,
  ): Promise<readonly SketchRow[] | undefined>;
}

/** Aggregates a store may answer from pre-aggregated group rollups (they combine across series). */
export const GROUPABLE_AGGREGATES: ReadonlySet<FleetAggregate> = new Set([
  'sum',
  'count',
  'avg',
  'min',
  'max',
]);

/**
 * Read each group: from its pre-aggregate when the reader has one (`viaGroup`), else from its members
 * (`viaMember`); a group whose pre-aggregate is missing is read from its members afterwards. Groups
 * of one series are always read as that series.
 */
export async function readGroups<S>(
  groups: readonly Group<S>[],
  reader: FleetReader<S>,
  viaGroup: ((g: Group<S>) => Promise<boolean>) | undefined,
  viaMember: (g: Group<S>, m: FleetSeries<S>) => Promise<void>,
): Promise<void> {
  type Task = { g: Group<S>; m: FleetSeries<S> | undefined };
  const tasks: Task[] = [];
  for (const g of groups) {
    if (viaGroup !== undefined && g.members.length > 1) tasks.push({ g, m: undefined });
    else for (const m of g.members) tasks.push({ g, m });
  }
  const missed: Task[] = [];
  await reader.each(tasks, async (t) => {
    if (t.m !== undefined) await viaMember(t.g, t.m);
    else if (!(await (viaGroup as (g: Group<S>) => Promise<boolean>)(t.g))) {
      for (const m of t.g.members) missed.push({ g: t.g, m });
    }
  });
  await reader.each(missed, (t) => viaMember(t.g, t.m as FleetSeries<S>));
}

function tooLarge(
  limit: 'maxQuerySeries' | 'maxQueryPoints',
  max: number,
  requested: number,
): FleetwatchError {
  const what = limit === 'maxQuerySeries' ? 'series' : 'points';
  return new FleetwatchError(
    'E_QUERY_TOO_LARGE',
    `query selects ${requested} ${what}, more than ${limit} (${max}): narrow the range, the selection or the resolution`,
    { details: { limit, max, requested } },
  );
}

/** Throw `E_QUERY_TOO_LARGE` (details.limit `maxQuerySeries`) when more series are selected than allowed. */
export function guardSeries(count: number, limits: QueryLimits): void {
  if (count > limits.maxSeries) throw tooLarge('maxQuerySeries', limits.maxSeries, count);
}

/** Throw `E_QUERY_TOO_LARGE` (details.limit `maxQueryPoints`) for an estimate above the limit. */
export function guardPoints(points: number, limits: QueryLimits): void {
  if (points > limits.maxPoints) throw tooLarge('maxQueryPoints', limits.maxPoints, points);
}

/** A group of series with the same `groupBy` values. */
export interface Group<S> {
  key: string;
  tags: Record<string, string>;
  members: FleetSeries<S>[];
}

/** Group series by the values of `groupBy` (a missing key is left out of the group's tags); sorted by key. */
export function groupSeries<S>(
  series: readonly FleetSeries<S>[],
  groupBy: readonly string[] | undefined,
): Group<S>[] {
  const groups = new Map<string, Group<S>>();
  for (const s of series) {
    let key: string;
    let tags: Record<string, string>;
    if (groupBy === undefined) {
      key = s.key;
      tags = { ...s.tags };
    } else {
      tags = {};
      const parts: (string | null)[] = [];
      for (const k of groupBy) {
        const v = Object.hasOwn(s.tags, k) ? (s.tags[k] as string) : undefined;
        parts.push(v ?? null);
        if (v !== undefined) tags[k] = v;
      }
      key = JSON.stringify(parts);
    }
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, tags, members: [] };
      groups.set(key, g);
    }
    g.members.push(s);
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Per-slot accumulator of a group. */
interface Acc {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  /** Σ increase (rate) or Σ change (delta) of series with an adjacent previous slot. */
  change: number;
  /** Series that contributed to `change`. */
  changed: number;
}

function newAcc(): Acc {
  return {
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    last: Number.NaN,
    change: 0,
    changed: 0,
  };
}

/**
 * The increase of a cumulative counter over slot `p` given the previous slot `prev`: `last − prev.last`,
 * or on a reset (`last` or `min` below `prev.last`) `last` (the count since the reset; what was counted
 * inside the slot before the reset is not known from slot statistics).
 */
export function slotIncrease(prev: Readonly<RollupPoint>, p: Readonly<RollupPoint>): number {
  if (p.last < prev.last || p.min < prev.last) return p.last;
  return p.last - prev.last;
}

/** Input of {@link aggregateSeries}. */
export interface AggregateRequest {
  metric: string;
  from: number;
  to: number;
  res: RollupResolution;
  aggregate: FleetAggregate;
  groupBy: readonly string[] | undefined;
  limit: number | undefined;
  order: 'asc' | 'desc';
}

/**
 * Aggregate the selected series per group and slot (see docs/store.md for each aggregate's
 * definition and edge cases), applying the query-cost guard before reading anything. Shared by every
 * store, so they give the same answers.
 *
 * @example
 * ```ts
 * const out = await aggregateSeries(selected, { metric: 'rps', from, to, res: '5m', aggregate: 'sum',
 *   groupBy: ['region'], limit: undefined, order: 'desc' }, reader, DEFAULT_QUERY_LIMITS);
 * ```
 */
export async function aggregateSeries<S>(
  selected: readonly FleetSeries<S>[],
  req: AggregateRequest,
  reader: FleetReader<S>,
  limits: QueryLimits,
): Promise<AggregatedSeries[]> {
  guardSeries(selected.length, limits);
  const w = RESOLUTION_MS[req.res];
  const first = Math.ceil(req.from / w) * w;
  const needsPrev = req.aggregate === 'rate' || req.aggregate === 'delta';
  const readFrom = needsPrev ? first - w : first;
  const slots = Math.max(0, Math.ceil((req.to - readFrom) / w));
  guardPoints(selected.length * slots, limits);
  const groups = groupSeries(selected, req.groupBy ?? []);
  if (req.aggregate === 'last') {
    for (const g of groups) {
      if (g.members.length > 1) {
        throw validationError(
          'query.aggregate',
          "'last' over groups of one series (series have no common clock to order their last values): add groupBy keys that identify each series",
          `${g.members.length} series in group ${JSON.stringify(g.tags)}`,
        );
      }
    }
  }
  const accs = new Map<Group<S>, Map<number, Acc>>();
  for (const g of groups) accs.set(g, new Map());
  const add = (g: Group<S>, rows: readonly RollupPoint[]): void => {
    addRows(accs.get(g) as Map<number, Acc>, rows, first, w, req.aggregate);
  };
  const groupRead = reader.groupRollups;
  await readGroups(
    groups,
    reader,
    groupRead === undefined || !GROUPABLE_AGGREGATES.has(req.aggregate)
      ? undefined
      : async (g) => {
          const rows = await groupRead.call(reader, g, req.res, readFrom, req.to, req.aggregate);
          if (rows !== undefined) add(g, rows);
          return rows !== undefined;
        },
    async (g, m) => add(g, await reader.rollups(m.ref, req.res, readFrom, req.to, req.aggregate)),
  );
  const out: { series: AggregatedSeries; score: number; key: string }[] = [];
  for (const g of groups) {
    const acc = accs.get(g) as Map<number, Acc>;
    const ts = [...acc.keys()].sort((a, b) => a - b);
    const points: AggregatedPoint[] = [];
    const total = newAcc();
    for (const t of ts) {
      const a = acc.get(t) as Acc;
      const value = slotValue(req.aggregate, a, w);
      if (value === undefined) continue;
      points.push({ ts: t, value });
      total.count += a.count;
      total.sum += a.sum;
      total.min = Math.min(total.min, a.min);
      total.max = Math.max(total.max, a.max);
      total.last = a.last;
      total.change += a.change;
      total.changed += a.changed;
    }
    if (points.length === 0) continue;
    const score =
      req.aggregate === 'rate'
        ? total.change / (w / 1000) / points.length
        : req.aggregate === 'delta'
          ? total.change
          : (slotValue(req.aggregate, total, w) as number);
    out.push({
      key: g.key,
      score,
      series: {
        metric: req.metric,
        tags: g.tags,
        resolution: req.res,
        aggregate: req.aggregate,
        series: g.members.length,
        points,
      },
    });
  }
  return topK(out, req.limit, req.order).map((o) => o.series);
}

/** Fold one series' (or one group's pre-aggregated) rows into the group's per-slot accumulators. */
function addRows(
  acc: Map<number, Acc>,
  rows: readonly RollupPoint[],
  first: number,
  w: number,
  aggregate: FleetAggregate,
): void {
  let prev: RollupPoint | undefined;
  for (const p of rows) {
    if (p.count <= 0) continue;
    const hasPrev = prev !== undefined && prev.ts === p.ts - w;
    const before = prev;
    prev = p;
    if (p.ts < first) continue;
    let a = acc.get(p.ts);
    if (a === undefined) {
      a = newAcc();
      acc.set(p.ts, a);
    }
    // statistics the aggregate does not use may be NaN (a store may skip reading them)
    a.count += p.count;
    a.sum += p.sum;
    if (p.min < a.min) a.min = p.min;
    if (p.max > a.max) a.max = p.max;
    a.last = p.last;
    if (hasPrev && before !== undefined) {
      a.change += aggregate === 'rate' ? slotIncrease(before, p) : p.last - before.last;
      a.changed++;
    }
  }
}

function slotValue(aggregate: FleetAggregate, a: Acc, w: number): number | undefined {
  switch (aggregate) {
    case 'sum':
      return a.sum;
    case 'count':
      return a.count;
    case 'avg':
      return a.sum / a.count;
    case 'min':
      return a.min;
    case 'max':
      return a.max;
    case 'last':
      return a.last;
    case 'rate':
      return a.changed > 0 ? a.change / (w / 1000) : undefined;
    case 'delta':
      return a.changed > 0 ? a.change : undefined;
  }
}

/** Keep the first `limit` by score (`desc`: highest first), ties by key; all when no limit (key order). */
export function topK<T extends { score: number; key: string }>(
  items: T[],
  limit: number | undefined,
  order: 'asc' | 'desc',
): T[] {
  if (limit === undefined) return items;
  const sign = order === 'desc' ? -1 : 1;
  const ranked = [...items].sort(
    (a, b) => sign * (a.score - b.score) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return ranked.slice(0, limit);
}
