import type { FleetOptions } from '../metrics-store/fleet-validate.js';
import { decodeSketchAt } from '../metrics-store/rollup.js';
import { parseSeriesKey, seriesId, seriesKey, tagsMatch } from '../metrics-store/series-key.js';
import { checkSketchBase } from '../metrics-store/sketch-base.js';
import type { CombinePolicy, SketchPoint } from '../metrics-store/types.js';
import { DEFAULT_TENANT } from '../metrics-store/types.js';
import { mapLimit } from './concurrency.js';
import { isTransientDriverError, sleep, toStoreError } from './driver-errors.js';
import type { MetricsCql } from './metrics-cql.js';
import type { CandidateSource } from './metrics-groups.js';
import type { BufferKeyPrefix, SeriesRef } from './metrics-roller.js';
import { INDEX_SHARDS, indexShardOf, shardOf } from './metrics-schema.js';

/** Index rows (metric names, series) are re-written with a fresh TTL at most this often per process. */
export const INDEX_REFRESH_MS = 86_400_000;
/** Bound of the in-process caches (series, ids, marks); cleared when exceeded. */
export const CACHE_LIMIT = 1_000_000;

/** The series a query selected, and the candidates they were chosen from. */
export interface Matched {
  selected: SeriesRef[];
  source: CandidateSource;
}

/**
 * The series catalogue of {@link CassandraMetricsStore}: registers written series in the index
 * tables (series list, tag index, metric names; TTL refreshed daily), records each series' combine
 * policy and sketch base with lightweight transactions, and finds the series a query selects.
 * One object per series is kept in process (the dirty-slot tracker is keyed by it).
 *
 * @example
 * ```ts
 * const catalog = new SeriesCatalog(cql, indexTtl, 30_000);
 * const refs = await catalog.resolve(points, 'last', Date.now(), undefined);
 * ```
 */
export class SeriesCatalog {
  /** `${tenant}\0${key}` → series */
  readonly #series = new Map<string, SeriesRef>();
  /** `${tenant}\0${metric}` → when its index row was last written (Date.now()) */
  readonly #metrics = new Map<string, number>();
  readonly #cql: MetricsCql;
  readonly #indexTtl: number;
  readonly #timeoutMs: number;

  constructor(cql: MetricsCql, indexTtl: number, timeoutMs: number) {
    this.#cql = cql;
    this.#indexTtl = indexTtl;
    this.#timeoutMs = timeoutMs;
  }

  /** Series of each point, registering new ones (index rows; combine policy recorded by LWT). */
  async resolve(
    points: ReadonlyArray<{ metric: string; tags?: Record<string, string>; tenant?: string }>,
    combine: CombinePolicy,
    started: number,
    signal: AbortSignal | undefined,
  ): Promise<SeriesRef[]> {
    const refs = new Array<SeriesRef>(points.length);
    const now = Date.now();
    const missing = new Map<string, { tenant: string; metric: string; key: string; idx: number[] }>();
    let prevMetric: string | undefined;
    let prevTags: Record<string, string> | undefined;
    let prevTenant: string | undefined;
    let prevRef: SeriesRef | undefined;
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as { metric: string; tags?: Record<string, string>; tenant?: string };
      if (
        prevRef !== undefined &&
        p.metric === prevMetric &&
        p.tags === prevTags &&
        p.tenant === prevTenant
      ) {
        refs[i] = prevRef;
        continue;
      }
      const tenant = p.tenant ?? DEFAULT_TENANT;
      const key = seriesKey(p.metric, p.tags);
      const ck = `${tenant}\u0000${key}`;
      const cached = this.#series.get(ck);
      const ref =
        cached !== undefined && now - (cached.registeredAt ?? 0) < INDEX_REFRESH_MS ? cached : undefined;
      prevMetric = p.metric;
      prevTags = p.tags;
      prevTenant = p.tenant;
      prevRef = ref;
      if (ref !== undefined) {
        refs[i] = ref;
        continue;
      }
      let m = missing.get(ck);
      if (m === undefined) {
        m = { tenant, metric: p.metric, key, idx: [] };
        missing.set(ck, m);
      }
      m.idx.push(i);
    }
    if (missing.size === 0) return refs;
    if (this.#series.size > CACHE_LIMIT) this.#series.clear();
    const q = this.#cql.q;
    await mapLimit([...missing.entries()], 32, async ([ck, m]) => {
      const id = seriesId(m.key);
      const ishard = indexShardOf(id);
      const ttl = this.#indexTtl;
      const recorded = await this.#retrying(started, signal, async () => {
        const mk = `${m.tenant}\u0000${m.metric}`;
        if (now - (this.#metrics.get(mk) ?? 0) >= INDEX_REFRESH_MS) {
          await this.#cql.exec(q.insertMetric, [m.tenant, m.metric, ttl]);
          this.#metrics.set(mk, now);
        }
        const existing = await this.#cql.select(q.selectSeriesOne, [m.tenant, m.metric, ishard, id]);
        const known = existing[0]?.get('combine') as CombinePolicy | null | undefined;
        let recorded: CombinePolicy;
        if (known !== undefined && known !== null) {
          // refresh the index row's TTL (a series written to stays listed)
          await this.#cql.exec(q.refreshSeries, [ttl, m.key, known, m.tenant, m.metric, ishard, id]);
          recorded = known;
        } else {
          const rs = await this.#cql.exec(
            q.insertSeries,
            [m.tenant, m.metric, ishard, id, m.key, combine, new Date(), ttl],
            true,
          );
          recorded = rs.wasApplied()
            ? combine
            : ((rs.first()?.get('combine') as CombinePolicy | null) ?? 'last');
        }
        // the tag index (one partition per tag key), written with the series and the same TTL
        const tags = Object.entries(parseSeriesKey(m.key).tags);
        await mapLimit(tags, 8, ([k, v]) =>
          this.#cql.exec(q.insertSeriesTag, [m.tenant, m.metric, k, v, id, m.key, recorded, ttl]),
        );
        return recorded;
      });
      // keep one object per series: the in-process dirty-slot tracker is keyed by it
      let ref = this.#series.get(ck);
      if (ref === undefined) {
        ref = { tenant: m.tenant, metric: m.metric, key: m.key, id, shard: shardOf(id), combine: recorded };
        this.#series.set(ck, ref);
      }
      ref.combine = recorded;
      ref.registeredAt = now;
      for (const i of m.idx) refs[i] = ref;
    });
    return refs;
  }

  /**
   * Check each series' sketches against the bucket base recorded at its first sketch write (recording
   * it with an LWT when there is none yet); a different relative accuracy is `E_VALIDATION`, while
   * sketches with a scale of any two scales are accepted (merging downscales to the coarser).
   */
  async recordSketchBases(
    points: readonly SketchPoint[],
    refs: readonly SeriesRef[],
    started: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const firsts = new Map<SeriesRef, number>();
    refs.forEach((ref, i) => {
      if (!firsts.has(ref)) firsts.set(ref, i);
    });
    const q = this.#cql.q;
    await mapLimit([...firsts], 32, async ([ref, i]) => {
      const base = decodeSketchAt((points[i] as SketchPoint).sketch, `points[${i}].sketch`).base;
      if (ref.sketchBase === undefined) {
        ref.sketchBase = await this.#retrying(started, signal, async () => {
          const rows = await this.#cql.select(q.selectSketchBase, [
            ref.tenant,
            ref.metric,
            indexShardOf(ref.id),
            ref.id,
          ]);
          const stored = rows[0]?.get('sketch_base') as number | null | undefined;
          if (stored !== null && stored !== undefined) return stored;
          const rs = await this.#cql.exec(
            q.recordSketchBase,
            [base, ref.tenant, ref.metric, indexShardOf(ref.id), ref.id],
            true,
          );
          return rs.wasApplied() ? base : ((rs.first()?.get('sketch_base') as number | null) ?? base);
        });
      }
      checkSketchBase(i, ref.sketchBase, base);
    });
  }

  /** Retry a transient failure with backoff until `timeoutMs` after `started`. */
  async #retrying<T>(started: number, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const left = this.#timeoutMs - (Date.now() - started);
        if (!isTransientDriverError(err) || left <= 0) throw toStoreError(err, 'write');
        await sleep(Math.min(left, 25 * 2 ** Math.min(attempt, 6)), signal);
      }
    }
  }

  /**
   * Series of a metric matching the exact `filter` and the `where` selection. With a positive
   * `tag:k=v` (or `tag:k=prefix*`) conjunct in `where`, candidates come from one slice of the tag
   * index (exact terms preferred); otherwise from the 8 series-list partitions. Every candidate is
   * re-checked against the whole selection.
   */
  async matching(
    tenant: string,
    metric: string,
    filter: Record<string, string> | undefined,
    signal?: AbortSignal,
    fleet?: FleetOptions,
  ): Promise<Matched> {
    const where = fleet?.where;
    const term =
      where?.required.find((t) => t.value !== undefined) ??
      where?.required.find((t) => t.prefix !== undefined && prefixEnd(t.prefix) !== undefined);
    let rows: Awaited<ReturnType<MetricsCql['select']>>;
    if (term !== undefined) {
      const q = this.#cql.q;
      rows =
        term.value !== undefined
          ? await this.#cql.select(q.selectSeriesByTag, [tenant, metric, term.key, term.value], signal)
          : await this.#cql.select(
              q.selectSeriesByTagRange,
              [tenant, metric, term.key, term.prefix, prefixEnd(term.prefix as string)],
              signal,
            );
    } else {
      const shards = Array.from({ length: INDEX_SHARDS }, (_, i) => i);
      const parts = await mapLimit(
        shards,
        INDEX_SHARDS,
        (shard) => this.#cql.select(this.#cql.q.selectSeries, [tenant, metric, shard], signal),
        signal,
      );
      rows = parts.flat();
    }
    const out: SeriesRef[] = [];
    const candidateTags: Record<string, string>[] = [];
    for (const r of rows) {
      const key = r.get('series_key') as string;
      const ck = `${tenant}\u0000${key}`;
      let ref = this.#series.get(ck);
      if (ref === undefined) {
        const id = r.get('series_id') as string;
        ref = {
          tenant,
          metric,
          key,
          id,
          shard: shardOf(id),
          combine: (r.get('combine') as CombinePolicy | null) ?? 'last',
        };
      }
      const tags = parseSeriesKey(key).tags;
      candidateTags.push(tags);
      if (filter !== undefined || where !== undefined) {
        if (!tagsMatch(tags, filter) || (where !== undefined && !where.matches(tags))) continue;
      }
      out.push(ref);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const from: CandidateSource['from'] =
      term === undefined
        ? { kind: 'all' }
        : term.value !== undefined
          ? { kind: 'tag', key: term.key, value: term.value }
          : { kind: 'other' };
    return { selected: out, source: { metric, tags: candidateTags, from } };
  }
}

/**
 * `${prefix}|${tenant}|${id}|${n}` for a series: a write-buffer key (partition `n`) or a dirty-mark id
 * (slot `n`). The string of a series' latest `n` per prefix is kept on the series and reused, so the
 * buffer's map lookups hash it once rather than once per point.
 */
export function seriesBufferKey(ref: SeriesRef, prefix: BufferKeyPrefix, n: number): string {
  let keys = ref.bufferKeys;
  if (keys === undefined) {
    keys = { r: undefined, s: undefined, mp: undefined, ms: undefined };
    ref.bufferKeys = keys;
  }
  const hit = keys[prefix];
  if (hit !== undefined && hit.n === n) return hit.key;
  const key = `${prefix}|${ref.tenant}|${ref.id}|${n}`;
  keys[prefix] = { n, key };
  return key;
}

/**
 * The exclusive upper bound of values starting with `prefix` (its last code point plus one; UTF-8
 * byte order is code point order), or undefined when there is none to take.
 */
function prefixEnd(prefix: string): string | undefined {
  const cps = [...prefix];
  const last = cps.pop();
  if (last === undefined) return undefined;
  const cp = last.codePointAt(0) as number;
  if (cp === 0x10ffff || cp === 0xd7ff) return undefined;
  return cps.join('') + String.fromCodePoint(cp + 1);
}

/**
 * Every sketch of a batch must decode, and one series keeps one bucket base (relative accuracy)
 * within the batch, except that sketches with a scale (exponential mapping) of any two scales merge.
 *
 * @throws FleetwatchError `E_VALIDATION` at `points[i].sketch`.
 */
export function checkBatchSketchBases(points: readonly SketchPoint[]): void {
  const bases = new Map<string, number>();
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as SketchPoint;
    const base = decodeSketchAt(p.sketch, `points[${i}].sketch`).base;
    const k = `${p.tenant ?? DEFAULT_TENANT}\u0000${seriesKey(p.metric, p.tags)}`;
    const seen = bases.get(k);
    if (seen !== undefined) checkSketchBase(i, seen, base);
    else bases.set(k, base);
  }
}
