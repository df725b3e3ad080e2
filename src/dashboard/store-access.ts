/**
 * The dashboard's only door to the MetricsStore: series, percentiles and the per-check latency
 * chart, through the store's fleet-wide queries (`where`, `aggregate`, `groupBy`, merged sketches).
 * Every query has a bounded range, a bounded number of series or groups and a deadline; the store's
 * own cost guard (`E_QUERY_TOO_LARGE`) and `where` validation reach the client as JSON errors.
 */

import { definedFields } from '../core.js';
import { FleetwatchError, isFleetwatchError } from '../errors.js';
import type {
  AggregatedSeries,
  FleetAggregate,
  MetricsStore,
  PercentileResult,
  Resolution,
} from '../metrics-store/types.js';
import type {
  LatencyGroup,
  LatencyPoint,
  LatencyResponse,
  PercentilesResponse,
  SeriesResponse,
} from './types.js';

/** Most series (or groups) one request returns. */
export const MAX_SERIES = 50;
/** Most points per series one request returns. */
export const MAX_POINTS = 2000;
/** Most 5-minute slots one latency chart covers. */
export const MAX_SLOTS = 288;
const FIVE_MIN = 300_000;

/** Limits of one store request. */
export interface StoreLimits {
  maxRangeMs: number;
  timeoutMs: number;
}

/** The metric, tags and resolution of a series the store returned. */
function seriesIdentity<S extends { metric: string; tags: Record<string, string>; resolution: string }>(
  s: S,
): Pick<S, 'metric' | 'tags' | 'resolution'> {
  return { metric: s.metric, tags: s.tags, resolution: s.resolution };
}

/** Selection shared by the routes: exact tags plus an optional `where` for the store to parse. */
export interface Selection {
  tags: Record<string, string>;
  where?: string;
}

function select(s: Selection): { tags?: Record<string, string>; where?: string } {
  return {
    ...(Object.keys(s.tags).length > 0 ? { tags: s.tags } : {}),
    ...definedFields({ where: s.where }),
  };
}

/**
 * Run a store call, naming the request's `where` parameter in a `where` error from the store (which
 * reports it as `query.where`), with the store's position and expectation kept.
 */
async function viaStore<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (isFleetwatchError(err) && err.code === 'E_VALIDATION' && err.path?.endsWith('.where') === true)
      throw new FleetwatchError('E_VALIDATION', err.message.replace(/^[\w.]*where:/, 'where:'), {
        path: 'where',
        ...(err.position !== undefined ? { position: err.position } : {}),
        ...(err.expected !== undefined ? { expected: err.expected } : {}),
        cause: err,
      });
    throw err;
  }
}

function checkRange(from: number, to: number, limits: StoreLimits): void {
  if (to - from > limits.maxRangeMs)
    throw new FleetwatchError('E_QUERY_TOO_LARGE', `time range longer than ${limits.maxRangeMs} ms`, {
      path: 'from',
      details: { limit: 'maxRangeMs', max: limits.maxRangeMs, requested: to - from },
    });
}

function cap<T>(items: T[], what: string): T[] {
  if (items.length > MAX_SERIES)
    throw new FleetwatchError(
      'E_QUERY_TOO_LARGE',
      `more than ${MAX_SERIES} ${what} match; narrow the selection or pass limit`,
      { path: 'where', details: { limit: 'series', max: MAX_SERIES, requested: items.length } },
    );
  return items;
}

/** `GET /api/v1/series`: stored series, or with `aggregate` one combined series per group. */
export async function readSeries(
  store: MetricsStore,
  q: Selection & {
    metric: string;
    from: number;
    to: number;
    resolution: Resolution | 'auto';
    aggregate?: FleetAggregate;
    groupBy?: string[];
    limit?: number;
    order?: 'asc' | 'desc';
  },
  limits: StoreLimits,
  signal: AbortSignal,
): Promise<SeriesResponse> {
  checkRange(q.from, q.to, limits);
  const base = {
    metric: q.metric,
    ...select(q),
    from: q.from,
    to: q.to,
    resolution: q.resolution,
    ...definedFields({ limit: q.limit, order: q.order }),
    signal,
  };
  const head = { metric: q.metric, from: q.from, to: q.to };
  if (q.aggregate !== undefined) {
    const groups: AggregatedSeries[] = cap(
      await viaStore(store.query({ ...base, aggregate: q.aggregate, groupBy: q.groupBy ?? [] })),
      'groups',
    );
    return {
      ...head,
      series: groups.map((g) => ({
        ...seriesIdentity(g),
        aggregate: g.aggregate,
        seriesCount: g.series,
        points: g.points.slice(-MAX_POINTS).map((p) => ({ ts: p.ts, value: p.value })),
      })),
    };
  }
  if (q.groupBy !== undefined)
    throw new FleetwatchError('E_VALIDATION', 'groupBy: needs aggregate', {
      path: 'groupBy',
      expected: 'aggregate=…',
    });
  const series = cap(await viaStore(store.query(base)), 'series');
  return {
    ...head,
    series: series.map((s) => ({
      ...seriesIdentity(s),
      points:
        s.resolution === 'raw'
          ? s.points.slice(-MAX_POINTS).map((p) => ({ ts: p.ts, value: p.value }))
          : s.points
              .slice(-MAX_POINTS)
              .map((p) => ({ ts: p.ts, count: p.count, mean: p.mean, min: p.min, max: p.max })),
    })),
  };
}

/** `GET /api/v1/percentiles`: per series, or merged per group (`groupBy`), optionally per `step`. */
export async function readPercentiles(
  store: MetricsStore,
  q: Selection & {
    metric: string;
    from: number;
    to: number;
    quantiles: number[];
    groupBy?: string[];
    step?: number;
    limit?: number;
    order?: 'asc' | 'desc';
  },
  limits: StoreLimits,
  signal: AbortSignal,
): Promise<PercentilesResponse> {
  checkRange(q.from, q.to, limits);
  if (q.step !== undefined && (q.to - q.from) / q.step > MAX_POINTS)
    throw new FleetwatchError('E_QUERY_TOO_LARGE', `more than ${MAX_POINTS} steps`, {
      path: 'step',
      details: { limit: 'steps', max: MAX_POINTS, requested: Math.ceil((q.to - q.from) / q.step) },
    });
  const results = cap(
    await viaStore(
      store.queryPercentiles({
        metric: q.metric,
        ...select(q),
        from: q.from,
        to: q.to,
        quantiles: q.quantiles,
        ...definedFields({ groupBy: q.groupBy, step: q.step, limit: q.limit, order: q.order }),
        signal,
      }),
    ),
    'series',
  );
  return {
    metric: q.metric,
    from: q.from,
    to: q.to,
    results: results.map((r) => ({
      tags: r.tags,
      count: r.count,
      min: r.min,
      max: r.max,
      quantiles: r.quantiles,
      ...(r.series !== undefined ? { seriesCount: r.series } : {}),
      ...(r.steps !== undefined
        ? {
            steps: r.steps.map((s) => ({
              ts: s.ts,
              count: s.count,
              min: s.min,
              max: s.max,
              quantiles: s.quantiles,
            })),
          }
        : {}),
    })),
  };
}

/** Key of a group by its tag values. */
function groupKey(tags: Record<string, string>): string {
  return JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

interface Group {
  tags: Record<string, string>;
  series: number;
  slots: Map<number, LatencyPoint>;
}

/**
 * Merge, per group and 5-minute slot, the rollups' count/sum/min/max (fleet aggregates) and the
 * percentiles of the group's merged sketches.
 */
function mergeGroups(
  stats: Record<'count' | 'sum' | 'min' | 'max', AggregatedSeries[]>,
  pct: PercentileResult[],
): Group[] {
  const groups = new Map<string, Group>();
  const groupOf = (tags: Record<string, string>, series: number): Group => {
    const k = groupKey(tags);
    let g = groups.get(k);
    if (g === undefined) {
      g = { tags, series, slots: new Map() };
      groups.set(k, g);
    } else g.series = Math.max(g.series, series);
    return g;
  };
  for (const g of stats.count) {
    const group = groupOf(g.tags, g.series);
    for (const p of g.points) group.slots.set(p.ts, { ts: p.ts, count: p.value, mean: 0, min: 0, max: 0 });
  }
  for (const field of ['sum', 'min', 'max'] as const)
    for (const g of stats[field]) {
      const group = groupOf(g.tags, g.series);
      for (const p of g.points) {
        const point = group.slots.get(p.ts);
        if (point === undefined) continue;
        if (field === 'sum') point.mean = point.count > 0 ? p.value / point.count : 0;
        else point[field] = p.value;
      }
    }
  for (const r of pct) {
    const group = groupOf(r.tags, r.series ?? 1);
    for (const s of r.steps ?? []) {
      if (s.count === 0) continue;
      let point = group.slots.get(s.ts);
      if (point === undefined) {
        point = { ts: s.ts, count: s.count, mean: s.sum / s.count, min: s.min, max: s.max };
        group.slots.set(s.ts, point);
      }
      const p50 = s.quantiles['0.5'];
      const p99 = s.quantiles['0.99'];
      if (p50 !== undefined && Number.isFinite(p50)) point.p50 = p50;
      if (p99 !== undefined && Number.isFinite(p99)) point.p99 = p99;
    }
  }
  return [...groups.values()];
}

const sortedPoints = (g: Group): LatencyPoint[] => [...g.slots.values()].sort((a, b) => a.ts - b.ts);

/**
 * `GET /api/v1/latency`: one check's latency per 5-minute slot, every selected target merged
 * (count, mean, min, max from the rollups; p50/p99 from the targets' sketches merged per slot, so
 * exact within the sketch's accuracy), or one entry per target with `groupBy: ['target']`.
 */
export async function readLatency(
  store: MetricsStore,
  q: {
    checkId: string;
    target?: string;
    where?: string;
    groupBy?: string[];
    from: number;
    to: number;
    metric: string;
    sketchMetric: string;
  },
  limits: StoreLimits,
  signal: AbortSignal,
): Promise<LatencyResponse> {
  checkRange(q.from, q.to, limits);
  const from = Math.floor(q.from / FIVE_MIN) * FIVE_MIN;
  if ((q.to - from) / FIVE_MIN > MAX_SLOTS)
    throw new FleetwatchError('E_QUERY_TOO_LARGE', `more than ${MAX_SLOTS} 5-minute slots`, {
      path: 'from',
      details: { limit: 'slots', max: MAX_SLOTS, requested: Math.ceil((q.to - from) / FIVE_MIN) },
    });
  const tags: Record<string, string> = { check: q.checkId };
  if (q.target !== undefined) tags.target = q.target;
  const sel = select({ tags, where: q.where }); // select() drops an undefined where
  const groupBy = q.groupBy ?? [];
  const agg = (aggregate: 'count' | 'sum' | 'min' | 'max') =>
    viaStore(
      store.query({ metric: q.metric, ...sel, from, to: q.to, resolution: '5m', aggregate, groupBy, signal }),
    );
  const [count, sum, min, max, pct] = await Promise.all([
    agg('count'),
    agg('sum'),
    agg('min'),
    agg('max'),
    viaStore(
      store.queryPercentiles({
        metric: q.sketchMetric,
        ...sel,
        from,
        to: q.to,
        quantiles: [0.5, 0.99],
        groupBy,
        step: FIVE_MIN,
        signal,
      }),
    ),
  ]);
  const groups = cap(mergeGroups({ count, sum, min, max }, pct), 'targets');
  const out: LatencyResponse = {
    checkId: q.checkId,
    metric: q.metric,
    resolution: '5m',
    from,
    to: q.to,
    points: [],
  };
  if (q.target !== undefined) out.target = q.target;
  if (groupBy.length === 0) {
    out.points = groups[0] === undefined ? [] : sortedPoints(groups[0]);
    out.series = groups[0]?.series ?? 0;
  } else {
    out.groupBy = groupBy;
    out.groups = groups
      .map((g): LatencyGroup => ({ tags: g.tags, series: g.series, points: sortedPoints(g) }))
      .sort((a, b) => (groupKey(a.tags) < groupKey(b.tags) ? -1 : 1));
  }
  return out;
}
