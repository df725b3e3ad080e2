import { FleetwatchError } from '../errors.js';
import { DDSketch } from '../metrics/sketch.js';
import { runSliced, runSync } from '../time-slice.js';
import type { AggregateKind, SeriesDictionary, SeriesReject, WindowState } from './aggregate.js';
import type { IngestBatch, IngestItem, IngestResult } from './ingest.js';
import { wireSeriesKey } from './protocol.js';

/** What applying a batch needs of the broker's merge state. */
export interface BatchContext {
  readonly dict: SeriesDictionary;
  /** The window a batch arriving now goes to. */
  window(): WindowState;
  /** Relative accuracy of the sketches StatsD samples are recorded into. */
  readonly statsdAccuracy: number;
  /** Members kept per set series and window. */
  readonly maxSetMembers: number;
  /** Count `n` refused items under `reason`. */
  reject(reason: SeriesReject, n?: number): void;
}

/** Options of {@link applyBatchSliced}. */
export interface SlicedBatchOptions {
  /** Aborts staging (`E_ABORTED`); a commit once begun always completes. */
  signal?: AbortSignal;
  /**
   * Run the commit where no window can close meanwhile (the broker's task queue); undefined when the
   * broker no longer takes batches (the batch is then refused as `closed`).
   */
  serialize(task: () => Promise<void>): Promise<void> | undefined;
}

const ITEM_KIND: Readonly<Record<IngestItem['kind'], AggregateKind>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  samples: 'histogram',
  set: 'set',
};

/** One series of a staged batch: its items folded together, checked, not yet applied. */
interface StagedSeries {
  key: string;
  kind: AggregateKind;
  /** The first item of this series (names the field when the window refuses it). */
  index: number;
  /** counter: the summed deltas; gauge: the last value. */
  value: number;
  /** Histogram items merged (a copy: the caller's sketches are never changed). */
  sketch: DDSketch | undefined;
  samples: Array<{ values: readonly number[]; weight: number }> | undefined;
  members: Array<readonly string[]> | undefined;
}

/** A batch checked item by item and folded per series, ready to commit. */
interface StagedBatch {
  source: string;
  items: number;
  series: Map<string, StagedSeries>;
}

type Refusal = { reason: SeriesReject; field: string; n: number };

/**
 * Validate a whole batch, then apply it to the current window, or refuse it whole: in one
 * synchronous call (StatsD lines, small batches).
 *
 * @example
 * ```ts
 * applyBatch(merger.batches, { source: 'statsd', items });
 * ```
 */
export function applyBatch(ctx: BatchContext, batch: IngestBatch): IngestResult {
  const w = ctx.window();
  if (Array.isArray(batch?.items) && batch.items.length === 1) return applyOne(ctx, batch, w);
  // Applied in this same call: nothing can change the items between staging and commit, no copies.
  const staged = runSync(stage(ctx, batch, w, false));
  return 'reason' in staged ? refuse(ctx, staged) : runSync(commit(ctx, staged, w));
}

/**
 * {@link applyBatch} without holding the event loop for long: the batch is checked and folded per
 * series in slices of a few ms (yielding between them), then committed in `options.serialize`. The
 * commit checks every series against the window (whole or nothing) and adds the series new to it in
 * one step; the series the window already holds (which keep their kind) take their values in further
 * slices, which cannot fail. Rejects with `E_ABORTED` only while staging.
 *
 * @example
 * ```ts
 * const r = await applyBatchSliced(merger.batches, batch, { signal, serialize: (task) => queue(task) });
 * ```
 */
export async function applyBatchSliced(
  ctx: BatchContext,
  batch: IngestBatch,
  options: SlicedBatchOptions,
): Promise<IngestResult> {
  const staged = await runSliced(stage(ctx, batch, ctx.window(), true), { signal: options.signal });
  if ('reason' in staged) return refuse(ctx, staged);
  let result: IngestResult = { accepted: 0, rejected: staged.items, reason: 'closed' };
  const done = options.serialize(async () => {
    result = await runSliced(commit(ctx, staged, ctx.window()));
  });
  if (done === undefined) return result;
  await done;
  return result;
}

/**
 * A batch of one item (every StatsD line): staged as its one series and applied in one synchronous
 * step, without the generators, map and copies of the batch path.
 */
function applyOne(ctx: BatchContext, batch: IngestBatch, w: WindowState): IngestResult {
  const bad = badBatch(batch);
  if (bad !== undefined) return refuse(ctx, bad);
  const s = stageItem(ctx, w, batch.items[0] as IngestItem, 0, undefined, false);
  if (Array.isArray(s)) return refuse(ctx, { reason: s[0], field: s[1], n: 1 });
  applySeries(ctx, w, s, batch.source);
  return { accepted: 1 };
}

function refuse(ctx: BatchContext, r: Refusal): IngestResult {
  ctx.reject(r.reason, Math.max(1, r.n));
  return { accepted: 0, rejected: r.n, reason: r.reason, field: r.field };
}

/** Why a batch is refused before its items are looked at (no items array, no source), or undefined. */
function badBatch(batch: IngestBatch): Refusal | undefined {
  const items = Array.isArray(batch?.items) ? batch.items : undefined;
  if (items !== undefined && typeof batch.source === 'string' && batch.source.length > 0) return undefined;
  return { reason: 'badNames', field: items === undefined ? 'items' : 'source', n: items?.length ?? 0 };
}

/**
 * Check every item (against `w` as it is now, too) and fold the items per series; changes nothing.
 * `copy`: keep copies of the item arrays folded (the caller may change them before the commit).
 */
function* stage(
  ctx: BatchContext,
  batch: IngestBatch,
  w: WindowState,
  copy: boolean,
): Generator<void, StagedBatch | Refusal> {
  const bad = badBatch(batch);
  if (bad !== undefined) return bad;
  const { items } = batch;
  const n = items.length;
  const series = new Map<string, StagedSeries>();
  for (let i = 0; i < n; i++) {
    const s = stageItem(ctx, w, items[i] as IngestItem, i, series, copy);
    if (Array.isArray(s)) return { reason: s[0], field: s[1], n };
    if (s.index === i) series.set(s.key, s);
    yield;
  }
  return { source: batch.source, items: n, series };
}

/**
 * Check item `i` (against `w` as it is now and the series staged so far) and fold it into its
 * series: the staged one, or a new one (not added to `series`). The reason and field when refused.
 */
function stageItem(
  ctx: BatchContext,
  w: WindowState,
  item: IngestItem,
  i: number,
  series: ReadonlyMap<string, StagedSeries> | undefined,
  copy: boolean,
): StagedSeries | [SeriesReject, string] {
  const key = checkItem(item, w);
  if (typeof key !== 'string') return [key[0], `items[${i}].${key[1]}`];
  const kind = ITEM_KIND[item.kind];
  let s = series?.get(key);
  const conflict =
    s !== undefined ? (s.kind === kind ? undefined : 'kindConflicts') : w.check(key, ctx.dict, kind);
  if (conflict !== undefined) return [conflict, `items[${i}].name`];
  s ??= { key, kind, index: i, value: 0, sketch: undefined, samples: undefined, members: undefined };
  const folded = fold(s, item, copy);
  return folded === undefined ? s : [folded[0], `items[${i}].${folded[1]}`];
}

/**
 * Add one checked item to its staged series (copies of its arrays when `copy`; a histogram's sketch
 * always, as the window keeps and merges into the sketch it is given); the reason and field when
 * the sum would be refused.
 */
function fold(s: StagedSeries, item: IngestItem, copy: boolean): [SeriesReject, string] | undefined {
  switch (item.kind) {
    case 'counter':
      s.value += item.value;
      return Number.isFinite(s.value) ? undefined : ['nonFiniteValues', 'value'];
    case 'gauge':
      s.value = item.value;
      return undefined;
    case 'histogram':
      if (s.sketch === undefined) s.sketch = item.sketch.clone();
      else if (s.sketch.base !== item.sketch.base) return ['badSketches', 'sketch'];
      else s.sketch.merge(item.sketch);
      return Number.isFinite(s.sketch.sum) ? undefined : ['nonFiniteValues', 'sketch'];
    case 'samples':
      s.samples ??= [];
      s.samples.push(copy ? { values: item.values.slice(), weight: item.weight } : item);
      return undefined;
    case 'set':
      s.members ??= [];
      s.members.push(copy ? item.members.slice() : item.members);
      return undefined;
  }
}

/**
 * Check every staged series against `w` (kind, sketch accuracy) and add those new to it, in one step;
 * then, in later steps, add the rest to the series `w` already holds (whose kind and sketch accuracy
 * nothing can change), which cannot fail. Identities need no check: staging looked every key up in
 * the dictionary, which keeps what it learnt.
 */
function* commit(ctx: BatchContext, staged: StagedBatch, w: WindowState): Generator<void, IngestResult> {
  const held: StagedSeries[] = [];
  const fresh: StagedSeries[] = [];
  for (const s of staged.series.values()) {
    const live = w.series.get(s.key);
    if (live === undefined) {
      fresh.push(s);
      continue;
    }
    const bad =
      live.kind !== s.kind
        ? 'kindConflicts'
        : s.sketch !== undefined && live.sketch !== undefined && live.sketch.base !== s.sketch.base
          ? 'badSketches'
          : undefined;
    if (bad !== undefined) {
      const field = `items[${s.index}].${bad === 'badSketches' ? 'sketch' : 'name'}`;
      return refuse(ctx, { reason: bad, field, n: staged.items });
    }
    held.push(s);
  }
  for (const s of fresh) applySeries(ctx, w, s, staged.source);
  for (const s of held) {
    yield;
    applySeries(ctx, w, s, staged.source);
  }
  return { accepted: staged.items };
}

/** Apply one checked series to `w`. */
function applySeries(ctx: BatchContext, w: WindowState, s: StagedSeries, source: string): void {
  const { dict } = ctx;
  let bad: SeriesReject | undefined;
  switch (s.kind) {
    case 'counter':
      bad = w.addCount(s.key, dict, 'counter', s.value);
      break;
    case 'gauge':
      bad = w.setGauge(s.key, dict, 'last', source, s.value);
      break;
    case 'histogram':
      if (s.sketch !== undefined) bad = w.mergeSketch(s.key, dict, s.sketch);
      for (const run of s.samples ?? [])
        bad ??= w.addSamples(s.key, dict, run.values, run.weight, ctx.statsdAccuracy);
      break;
    default:
      for (const m of s.members ?? []) bad ??= w.addMembers(s.key, dict, m, ctx.maxSetMembers);
  }
  // Checked in the commit's first step; a refusal here would be a bug that broke whole-or-nothing.
  if (bad !== undefined)
    throw new FleetwatchError('E_INTERNAL', `a checked batch series was refused (${bad})`, { path: s.key });
}

/** The series key of an item, or the reason and field it is refused for; changes nothing. */
function checkItem(item: IngestItem, w: WindowState): string | [SeriesReject, string] {
  if (item === null || typeof item !== 'object' || !(item.kind in ITEM_KIND)) return ['badNames', 'kind'];
  if (typeof item.name !== 'string' || (item.tags !== undefined && typeof item.tags !== 'object')) {
    return ['badNames', 'name'];
  }
  switch (item.kind) {
    case 'counter':
    case 'gauge':
      if (typeof item.value !== 'number' || !Number.isFinite(item.value)) return ['nonFiniteValues', 'value'];
      break;
    case 'histogram': {
      if (!(item.sketch instanceof DDSketch)) return ['badSketches', 'sketch'];
      const key = wireSeriesKey(item.name, item.tags);
      const bad = w.checkSketch(key, item.sketch);
      return bad === undefined ? key : [bad, 'sketch'];
    }
    case 'samples':
      if (!(item.weight > 0 && item.weight < Number.POSITIVE_INFINITY)) return ['nonFiniteValues', 'weight'];
      if (!Array.isArray(item.values)) return ['nonFiniteValues', 'values'];
      for (const v of item.values) if (!Number.isFinite(v)) return ['nonFiniteValues', 'values'];
      break;
    case 'set':
      if (!Array.isArray(item.members) || !item.members.every((m) => typeof m === 'string'))
        return ['badNames', 'members'];
  }
  return wireSeriesKey(item.name, item.tags);
}
