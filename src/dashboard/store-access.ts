/**
 * The dashboard's only door to the MetricsStore: series, percentiles and the per-check latency
 * chart. Every query has a bounded range, a bounded number of series and a deadline.
 *
 * Fleet-wide queries (`where`, `aggregate`, `groupBy`) are not used yet: series are selected with
 * exact `tags`. When they land, `selector()` becomes `{ where }` and nothing else changes.
 */
import { FleetwatchError } from '../errors.js';
import type { MetricsStore, Resolution, Series } from '../metrics-store/types.js';
import type { LatencyPoint, LatencyResponse, PercentilesResponse, SeriesResponse } from './types.js';

/** Most series one request returns. */
export const MAX_SERIES = 50;
/** Most points per series one request returns. */
export const MAX_POINTS = 2000;
/** Most sketch slots one latency chart reads (one percentile query per slot). */
export const MAX_SLOTS = 288;
const FIVE_MIN = 300_000;

/** Limits of one store request. */
export interface StoreLimits {
  maxRangeMs: number;
  timeoutMs: number;
}

/** What selects series: exact tags today (a `where` query once fleet-wide queries exist). */
function selector(tags: Record<string, string>): { tags?: Record<string, string> } {
  return Object.keys(tags).length > 0 ? { tags } : {};
}

function checkRange(from: number, to: number, limits: StoreLimits): void {
  if (to - from > limits.maxRangeMs)
    throw new FleetwatchError('E_QUERY_TOO_LARGE', `time range longer than ${limits.maxRangeMs} ms`, {
      path: 'from',
      details: { limit: 'maxRangeMs' },
    });
}

function cap(series: Series[]): Series[] {
  if (series.length > MAX_SERIES)
    throw new FleetwatchError('E_QUERY_TOO_LARGE', `more than ${MAX_SERIES} series match; narrow the tags`, {
      path: 'tag',
      details: { limit: 'series', max: MAX_SERIES },
    });
  return series;
}

/** `GET /api/v1/series`. */
export async function readSeries(
  store: MetricsStore,
  q: {
    metric: string;
    tags: Record<string, string>;
    from: number;
    to: number;
    resolution: Resolution | 'auto';
  },
  limits: StoreLimits,
  signal: AbortSignal,
): Promise<SeriesResponse> {
  checkRange(q.from, q.to, limits);
  const series = cap(
    await store.query({
      metric: q.metric,
      ...selector(q.tags),
      from: q.from,
      to: q.to,
      resolution: q.resolution,
      signal,
    }),
  );
  return {
    metric: q.metric,
    from: q.from,
    to: q.to,
    series: series.map((s) => ({
      metric: s.metric,
      tags: s.tags,
      resolution: s.resolution,
      points:
        s.resolution === 'raw'
          ? s.points.slice(-MAX_POINTS).map((p) => ({ ts: p.ts, value: p.value }))
          : s.points
              .slice(-MAX_POINTS)
              .map((p) => ({ ts: p.ts, count: p.count, mean: p.mean, min: p.min, max: p.max })),
    })),
  };
}

/** `GET /api/v1/percentiles`. */
export async function readPercentiles(
  store: MetricsStore,
  q: { metric: string; tags: Record<string, string>; from: number; to: number; quantiles: number[] },
  limits: StoreLimits,
  signal: AbortSignal,
): Promise<PercentilesResponse> {
  checkRange(q.from, q.to, limits);
  const results = await store.queryPercentiles({
    metric: q.metric,
    ...selector(q.tags),
    from: q.from,
    to: q.to,
    quantiles: q.quantiles,
    signal,
  });
  if (results.length > MAX_SERIES)
    throw new FleetwatchError('E_QUERY_TOO_LARGE', `more than ${MAX_SERIES} series match; narrow the tags`, {
      path: 'tag',
      details: { limit: 'series', max: MAX_SERIES },
    });
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
    })),
  };
}

/**
 * `GET /api/v1/latency`: one check's latency at 5m rollups (count, mean, min, max; series of several
 * targets merged per slot) with p50/p99 per slot from stored sketches, where there are any.
 */
export async function readLatency(
  store: MetricsStore,
  q: { checkId: string; target?: string; from: number; to: number; metric: string; sketchMetric: string },
  limits: StoreLimits,
  signal: AbortSignal,
): Promise<LatencyResponse> {
  checkRange(q.from, q.to, limits);
  const from = Math.floor(q.from / FIVE_MIN) * FIVE_MIN;
  if ((q.to - from) / FIVE_MIN > MAX_SLOTS)
    throw new FleetwatchError('E_QUERY_TOO_LARGE', `more than ${MAX_SLOTS} 5-minute slots`, {
      path: 'from',
      details: { limit: 'slots', max: MAX_SLOTS },
    });
  const tags: Record<string, string> = { check: q.checkId };
  if (q.target !== undefined) tags.target = q.target;
  const series = cap(
    await store.query({ metric: q.metric, ...selector(tags), from, to: q.to, resolution: '5m', signal }),
  );
  const slots = new Map<number, LatencyPoint>();
  for (const s of series) {
    if (s.resolution === 'raw') continue;
    for (const p of s.points) {
      const cur = slots.get(p.ts);
      if (cur === undefined) {
        slots.set(p.ts, { ts: p.ts, count: p.count, mean: p.mean, min: p.min, max: p.max });
      } else {
        const n = cur.count + p.count;
        cur.mean = n > 0 ? (cur.mean * cur.count + p.mean * p.count) / n : 0;
        cur.count = n;
        cur.min = Math.min(cur.min, p.min);
        cur.max = Math.max(cur.max, p.max);
      }
    }
  }
  // p50/p99 per slot, merged across the matching sketch series (one bounded query per slot)
  for (let ts = from; ts < q.to; ts += FIVE_MIN) {
    const res = await store.queryPercentiles({
      metric: q.sketchMetric,
      ...selector(tags),
      from: ts,
      to: ts + FIVE_MIN,
      quantiles: [0.5, 0.99],
      signal,
    });
    const best = res.reduce<(typeof res)[number] | undefined>(
      (a, r) => (a === undefined || r.count > a.count ? r : a),
      undefined,
    );
    if (best === undefined || best.count === 0) continue;
    let point = slots.get(ts);
    if (point === undefined) {
      point = { ts, count: best.count, mean: best.sum / best.count, min: best.min, max: best.max };
      slots.set(ts, point);
    }
    if (best.quantiles['0.5'] !== undefined) point.p50 = best.quantiles['0.5'];
    if (best.quantiles['0.99'] !== undefined) point.p99 = best.quantiles['0.99'];
  }
  const points = [...slots.values()].sort((a, b) => a.ts - b.ts);
  const out: LatencyResponse = {
    checkId: q.checkId,
    metric: q.metric,
    resolution: '5m',
    from,
    to: q.to,
    points,
  };
  if (q.target !== undefined) out.target = q.target;
  return out;
}
