import type { FleetReader, FleetSeries, QueryLimits } from '../metrics-store/fleet.js';
import { planCover } from '../metrics-store/resolution.js';
import { mergeSketches, percentileResult } from '../metrics-store/rollup.js';
import { isRetained, oldestRetained, type RollupResolution } from '../metrics-store/rollup-slots.js';
import { parseSeriesKey, sortedTags } from '../metrics-store/series-key.js';
import type {
  FleetAggregate,
  MetricsQuery,
  PercentileQuery,
  PercentileResult,
  Resolution,
  Series,
} from '../metrics-store/types.js';
import { mapLimit } from './concurrency.js';
import { type BlockContext, readPoints } from './metrics-blocks.js';
import type { RollupColumns } from './metrics-cql.js';
import type { GroupRollups, GroupTarget } from './metrics-groups.js';
import { readRollups, readSketchRaw, readSketchRollups } from './metrics-reads.js';
import type { SeriesRef } from './metrics-roller.js';
import type { Matched } from './metrics-series.js';

/** What the query paths of {@link CassandraMetricsStore} read with. */
export interface QueryContext extends BlockContext {
  limits: QueryLimits;
  /** Partition reads in flight per query. */
  concurrency: number;
  groups: GroupRollups;
}

/** The rollup columns each aggregate reads. */
const ROLLUP_COLUMNS_FOR: Readonly<Record<FleetAggregate, RollupColumns>> = {
  sum: 'sum',
  count: 'sum',
  avg: 'sum',
  min: 'min',
  max: 'max',
  last: 'last',
  rate: 'last',
  delta: 'last',
};

/** The sorted tags of a series. */
export function tagsOf(s: SeriesRef): Record<string, string> {
  return sortedTags(parseSeriesKey(s.key).tags);
}

/** The fleet engine's handles of selected series. */
export function fleetSeries(list: readonly SeriesRef[]): FleetSeries<SeriesRef>[] {
  return list.map((s) => ({ ref: s, tags: parseSeriesKey(s.key).tags, key: s.key }));
}

/**
 * One {@link Series} per selected series with data at `res` (`query()` without `aggregate`),
 * retained points only.
 *
 * @example
 * ```ts
 * const out = await readSeries(ctx, q, '5m', selected, Date.now());
 * ```
 */
export async function readSeries(
  ctx: QueryContext,
  q: MetricsQuery,
  res: Resolution,
  series: readonly SeriesRef[],
  now: number,
): Promise<Series[]> {
  const results = await mapLimit(series, ctx.concurrency, async (s): Promise<Series | undefined> => {
    if (res === 'raw') {
      const rows = await readPoints(ctx, s.tenant, s.id, q.from, q.to, s.combine, now, q.signal);
      // retained ⇔ ts >= the oldest retained slot start (one comparison per point)
      const cutoff = oldestRetained('raw', ctx.retention, now);
      const points =
        rows[0] !== undefined && rows[0].ts >= cutoff ? rows : rows.filter((p) => p.ts >= cutoff);
      return points.length > 0 ? { metric: s.metric, tags: tagsOf(s), resolution: 'raw', points } : undefined;
    }
    const rows = await readRollups(ctx.cql, res, s.tenant, s.id, q.from, q.to, q.signal);
    const points = rows.filter((p) => isRetained(p.ts, res, ctx.retention, now));
    return points.length > 0 ? { metric: s.metric, tags: tagsOf(s), resolution: res, points } : undefined;
  });
  return results.filter((r): r is Series => r !== undefined);
}

/**
 * One {@link PercentileResult} per selected series (`queryPercentiles()` without fleet fields): its
 * retained sketches over the read plan, merged.
 */
export async function readPercentiles(
  ctx: QueryContext,
  q: PercentileQuery,
  series: readonly SeriesRef[],
  now: number,
): Promise<PercentileResult[]> {
  const cover = planCover({ from: q.from, to: q.to, now, retention: ctx.retention });
  const results = await mapLimit(
    series,
    ctx.concurrency,
    async (s): Promise<PercentileResult | undefined> => {
      const parts = await mapLimit(cover, 4, (seg) =>
        seg.res === 'raw'
          ? readSketchRaw(ctx.cql, s.tenant, s.id, seg.from, seg.to, q.signal)
          : readSketchRollups(ctx.cql, seg.res, s, seg.from, seg.to, q.signal),
      );
      const bytes: Uint8Array[] = [];
      parts.forEach((rows, i) => {
        const res = (cover[i] as { res: Resolution }).res;
        for (const row of rows) if (isRetained(row.ts, res, ctx.retention, now)) bytes.push(row.sketch);
      });
      const merged = mergeSketches(bytes);
      if (merged === undefined || merged.count === 0) return undefined;
      return percentileResult(s.metric, tagsOf(s), merged, q.quantiles);
    },
  );
  return results.filter((r): r is PercentileResult => r !== undefined);
}

/**
 * The fleet engine's view of the store at `now`: series partitions read through bounded concurrency,
 * retained rows only, and for groups a pre-aggregate holds exactly (see `GroupRollups.planner`), the
 * group's own rollups when they are complete over the whole range read.
 */
export function fleetReader(
  ctx: QueryContext,
  now: number,
  signal: AbortSignal | undefined,
  matched: Matched,
  groupBy: readonly string[],
): FleetReader<SeriesRef> {
  const { cql, retention } = ctx;
  const tenant = matched.selected[0]?.tenant ?? '';
  const plan = ctx.groups.planner<SeriesRef>(matched.source, groupBy);
  const usable = (t: GroupTarget | undefined, res: RollupResolution, from: number): t is GroupTarget => {
    const valid = t === undefined ? undefined : ctx.groups.validFrom(t.feature, res);
    return valid !== undefined && from >= valid;
  };
  return {
    rollups: async (s, res, from, to, aggregate) => {
      const rows = await readRollups(
        cql,
        res,
        s.tenant,
        s.id,
        from,
        to,
        signal,
        ROLLUP_COLUMNS_FOR[aggregate],
      );
      return rows.filter((p) => isRetained(p.ts, res, retention, now));
    },
    sketches: async (s, res, from, to) => {
      const rows =
        res === 'raw'
          ? await readSketchRaw(cql, s.tenant, s.id, from, to, signal)
          : await readSketchRollups(cql, res, s, from, to, signal);
      return rows.filter((r) => isRetained(r.ts, res, retention, now));
    },
    each: async (items, fn) => {
      await mapLimit(items, ctx.concurrency, fn, signal);
    },
    groupRollups: async (g, res, from, to, aggregate) => {
      const t = plan(g);
      if (!usable(t, res, from)) return undefined;
      const rows = await readRollups(cql, res, tenant, t.id, from, to, signal, ROLLUP_COLUMNS_FOR[aggregate]);
      return rows.filter((p) => isRetained(p.ts, res, retention, now));
    },
    groupSketches: async (g, res, from, to) => {
      const t = plan(g);
      if (res === 'raw' || !usable(t, res, from)) return undefined;
      const rows = await readSketchRollups(cql, res, { tenant, id: t.id }, from, to, signal);
      // an empty row marks a slot whose members' sketches do not merge: let the members say why
      if (rows.some((r) => r.sketch.length === 0)) return undefined;
      return rows.filter((r) => isRetained(r.ts, res, retention, now));
    },
  };
}
