import { type DDSketch, decodeSketch } from '../metrics/sketch.js';
import {
  type FleetReader,
  type FleetSeries,
  type Group,
  groupSeries,
  guardPoints,
  guardSeries,
  type QueryLimits,
  readGroups,
  type SketchRow,
  topK,
} from './fleet.js';
import type { FleetOptions } from './fleet-validate.js';
import { type CoverSegment, planCover } from './resolution.js';
import type { PercentileQuery, PercentileResult, PercentileStep, Resolution, Retention } from './types.js';
import { RESOLUTION_MS } from './types.js';

/** Input of {@link fleetPercentiles}. */
export interface PercentilesRequest {
  metric: string;
  from: number;
  to: number;
  quantiles: readonly number[];
  groupBy: readonly string[] | undefined;
  step: number | undefined;
  limit: number | undefined;
  order: 'asc' | 'desc';
  /** The read plan of a window (the store's `planCover` at its `now` and retention). */
  cover: (from: number, to: number) => CoverSegment[];
}

/**
 * The {@link PercentilesRequest} of a validated fleet percentile query at `now`: windows read over
 * the stores' `planCover` of `retention`.
 *
 * @example
 * ```ts
 * const req = percentilesRequest(validatePercentilesQuery(q), q, Date.now(), DEFAULT_RETENTION);
 * ```
 */
export function percentilesRequest(
  fleet: FleetOptions & { step: number | undefined },
  q: PercentileQuery,
  now: number,
  retention: Readonly<Retention>,
): PercentilesRequest {
  return {
    ...fleet,
    metric: q.metric,
    from: q.from,
    to: q.to,
    quantiles: q.quantiles,
    cover: (from, to) => planCover({ from, to, now, retention }),
  };
}

/** Split `[from, to)` into epoch-aligned windows of `step` (one window when there is no step). */
export function stepWindows(
  from: number,
  to: number,
  step: number | undefined,
): { from: number; to: number }[] {
  if (to <= from) return [];
  if (step === undefined) return [{ from, to }];
  const out: { from: number; to: number }[] = [];
  for (let t = Math.floor(from / step) * step; t < to; t += step) {
    out.push({ from: Math.max(t, from), to: Math.min(t + step, to) });
  }
  return out;
}

interface Planned {
  seg: CoverSegment;
  window: number;
}

/**
 * Percentiles of the selected series: one result per group (per series without `groupBy`), merging
 * every stored sketch of its series per step, exactly (DDSketch merges add bucket counts). The
 * query-cost guard is applied before reading (sketch rows estimated as one per 5-minute slot of raw
 * segments and one per slot of rollup segments).
 *
 * @example
 * ```ts
 * const out = await fleetPercentiles(selected, { metric: 'latency', from, to, quantiles: [0.99],
 *   groupBy: [], step: 3_600_000, limit: undefined, order: 'desc', cover }, reader, DEFAULT_QUERY_LIMITS);
 * ```
 */
export async function fleetPercentiles<S>(
  selected: readonly FleetSeries<S>[],
  req: PercentilesRequest,
  reader: FleetReader<S>,
  limits: QueryLimits,
): Promise<PercentileResult[]> {
  guardSeries(selected.length, limits);
  const windows = stepWindows(req.from, req.to, req.step);
  const planned: Planned[] = [];
  let perSeries = 0;
  windows.forEach((win, i) => {
    for (const seg of req.cover(win.from, win.to)) {
      planned.push({ seg, window: i });
      const w = RESOLUTION_MS[seg.res === 'raw' ? '5m' : seg.res];
      perSeries += Math.max(1, Math.ceil((seg.to - seg.from) / w));
    }
  });
  guardPoints(selected.length * perSeries, limits);
  // one read per series and resolution, over the span of that resolution's segments
  const byRes = new Map<Resolution, Planned[]>();
  for (const p of planned) {
    let list = byRes.get(p.seg.res);
    if (list === undefined) {
      list = [];
      byRes.set(p.seg.res, list);
    }
    list.push(p);
  }
  const groups = groupSeries(selected, req.groupBy);
  const acc = new Map<Group<S>, (DDSketch | undefined)[]>();
  for (const g of groups) acc.set(g, new Array(windows.length));
  const spans = [...byRes].map(([res, list]) => ({
    res,
    list,
    from: Math.min(...list.map((p) => p.seg.from)),
    to: Math.max(...list.map((p) => p.seg.to)),
  }));
  const add = (g: Group<S>, list: readonly Planned[], rows: readonly SketchRow[]): void => {
    addSketchRows(acc.get(g) as (DDSketch | undefined)[], list, rows);
  };
  // a group's pre-merged rows serve only if they cover every resolution of the plan
  const groupRead = reader.groupSketches;
  await readGroups(
    groups,
    reader,
    groupRead === undefined
      ? undefined
      : async (g) => {
          const parts: (readonly SketchRow[])[] = [];
          for (const span of spans) {
            const rows = await groupRead.call(reader, g, span.res, span.from, span.to);
            if (rows === undefined) return false;
            parts.push(rows);
          }
          spans.forEach((span, i) => {
            add(g, span.list, parts[i] as readonly SketchRow[]);
          });
          return true;
        },
    async (g, m) => {
      for (const span of spans) add(g, span.list, await reader.sketches(m.ref, span.res, span.from, span.to));
    },
  );
  const out: { result: PercentileResult; score: number; key: string }[] = [];
  const top = Math.max(...req.quantiles);
  for (const g of groups) {
    const steps = acc.get(g) as (DDSketch | undefined)[];
    let whole: DDSketch | undefined;
    const list: PercentileStep[] = [];
    steps.forEach((sk, i) => {
      if (sk === undefined || sk.count === 0) return;
      if (req.step !== undefined) {
        list.push({
          ts: Math.floor((windows[i] as { from: number }).from / req.step) * req.step,
          ...summary(sk, req.quantiles),
        });
      }
      if (whole === undefined) whole = sk.clone();
      else whole.merge(sk);
    });
    if (whole === undefined) continue;
    const result: PercentileResult = { metric: req.metric, tags: g.tags, ...summary(whole, req.quantiles) };
    if (req.groupBy !== undefined) result.series = g.members.length;
    if (req.step !== undefined) result.steps = list;
    out.push({ result, score: whole.quantile(top), key: g.key });
  }
  return topK(out, req.limit, req.order).map((o) => o.result);
}

/** Merge sketch rows (sorted by ts) into the step windows of the planned segments they fall in. */
function addSketchRows(
  steps: (DDSketch | undefined)[],
  list: readonly Planned[],
  rows: readonly SketchRow[],
): void {
  let j = 0;
  for (const row of rows) {
    while (j < list.length && (list[j] as Planned).seg.to <= row.ts) j++;
    const p = list[j];
    if (p === undefined) break;
    if (row.ts < p.seg.from) continue;
    const d = decodeSketch(row.sketch);
    const cur = steps[p.window];
    if (cur === undefined) steps[p.window] = d;
    else cur.merge(d);
  }
}

function summary(sk: DDSketch, quantiles: readonly number[]): Omit<PercentileStep, 'ts'> {
  const q: Record<string, number> = {};
  for (const x of quantiles) q[String(x)] = sk.quantile(x);
  return { count: sk.count, sum: sk.sum, min: sk.min, max: sk.max, quantiles: q };
}
