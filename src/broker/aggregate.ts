/**
 * The broker's merge state: series identities (validated once), open windows of merged deltas, and
 * the cumulative totals. Pure data and arithmetic; the broker decides when windows close and where
 * their points go.
 */
import { DDSketch, decodeSketch } from '../metrics/sketch.js';
import type { MetricKind } from '../metrics/types.js';
import type { CombinePolicy, Point, SketchPoint } from '../metrics-store/types.js';
import { MAX_METRIC_LENGTH, validateMetricName, validateTags } from '../metrics-store/validate.js';
import { FrameLedger } from './ledger.js';
import { parseWireSeriesKey } from './protocol.js';

/** Kinds the broker aggregates: the registry's kinds plus StatsD sets. */
export type AggregateKind = MetricKind | 'set';

/** A series identity, parsed and validated once per broker. */
export interface SeriesIdentity {
  name: string;
  tags: Record<string, string>;
}

/** The merged state of one series in one window. */
export interface SeriesWindow {
  id: SeriesIdentity;
  kind: AggregateKind;
  policy: CombinePolicy;
  /** counter/meter: the summed increase. gauge `last`: the latest value received. */
  value: number;
  /** Gauges with a cross-source policy: each source's latest value. */
  bySource: Map<string, number> | undefined;
  sketch: DDSketch | undefined;
  members: Set<string> | undefined;
}

/** The longest suffix added to histogram names (`.p9999`), kept free in the name's length budget. */
const SUFFIX_BUDGET = 8;

/** Why a series or batch item was refused: the name of the `BrokerStats` counter it is counted in. */
export type SeriesReject =
  | 'badNames'
  | 'nonFiniteValues'
  | 'badSketches'
  | 'kindConflicts'
  | 'seriesOverflow';

/** Validates series keys once and remembers the result (bounded). */
export class SeriesDictionary {
  readonly #known = new Map<string, SeriesIdentity | null>();
  constructor(readonly maxSeries: number) {}

  get size(): number {
    return this.#known.size;
  }

  /**
   * The identity of a wire key, or why there is none: `badNames` when it is malformed or fails the
   * store's name and tag rules, `seriesOverflow` when it is new while the dictionary is full.
   */
  lookup(key: string): SeriesIdentity | SeriesReject {
    const hit = this.#known.get(key);
    if (hit !== undefined) return hit ?? 'badNames';
    if (this.#known.size >= this.maxSeries) return 'seriesOverflow';
    const parsed = parseWireSeriesKey(key);
    let id: SeriesIdentity | null = null;
    if (parsed !== undefined && parsed.name.length <= MAX_METRIC_LENGTH - SUFFIX_BUDGET) {
      try {
        validateMetricName(parsed.name, 'name');
        validateTags(parsed.tags, 'tags');
        id = parsed;
      } catch {
        id = null;
      }
    }
    this.#known.set(key, id);
    return id ?? 'badNames';
  }
}

/** One open window: its series and the frames to acknowledge once it is durable. */
export class WindowState {
  readonly series = new Map<string, SeriesWindow>();
  /** The frames merged into this window, to release and acknowledge once it is durable. */
  readonly frames = new FrameLedger();
  constructor(readonly start: number) {}

  /**
   * Why `key` cannot take a value of `kind` in this window (its identity is refused, or it already
   * holds another kind: the first wins), or undefined when it can. Changes nothing but the dictionary.
   */
  check(key: string, dict: SeriesDictionary, kind: AggregateKind): SeriesReject | undefined {
    const s = this.series.get(key);
    if (s !== undefined) return s.kind === kind ? undefined : 'kindConflicts';
    const id = dict.lookup(key);
    return typeof id === 'string' ? id : undefined;
  }

  /** The series slot of `key`, created on first use; or why it is refused. */
  #slot(
    key: string,
    dict: SeriesDictionary,
    kind: AggregateKind,
    policy: CombinePolicy,
  ): SeriesWindow | SeriesReject {
    let s = this.series.get(key);
    if (s === undefined) {
      const id = dict.lookup(key);
      if (typeof id === 'string') return id;
      s = { id, kind, policy, value: 0, bySource: undefined, sketch: undefined, members: undefined };
      this.series.set(key, s);
    } else if (s.kind !== kind) return 'kindConflicts';
    return s;
  }

  /** Add to a counter or meter. */
  addCount(
    key: string,
    dict: SeriesDictionary,
    kind: 'counter' | 'meter',
    delta: number,
  ): SeriesReject | undefined {
    if (!Number.isFinite(delta)) return 'nonFiniteValues';
    const s = this.#slot(key, dict, kind, 'last');
    if (typeof s === 'string') return s;
    s.value += delta;
    return undefined;
  }

  /** Set a gauge value from one source. */
  setGauge(
    key: string,
    dict: SeriesDictionary,
    policy: CombinePolicy,
    source: string,
    value: number,
  ): SeriesReject | undefined {
    if (!Number.isFinite(value)) return 'nonFiniteValues';
    const s = this.#slot(key, dict, 'gauge', policy);
    if (typeof s === 'string') return s;
    s.value = value;
    if (s.policy !== 'last') {
      s.bySource ??= new Map();
      s.bySource.set(source, value);
    }
    return undefined;
  }

  /** Why `sketch` cannot merge into `key` (sum not finite, or another accuracy), else undefined. */
  checkSketch(key: string, sketch: DDSketch): SeriesReject | undefined {
    if (!Number.isFinite(sketch.sum) || !Number.isFinite(sketch.count)) return 'nonFiniteValues';
    const prev = this.series.get(key)?.sketch;
    return prev !== undefined && prev.base !== sketch.base ? 'badSketches' : undefined;
  }

  /** Merge a decoded sketch (checked with {@link checkSketch} here). */
  mergeSketch(key: string, dict: SeriesDictionary, sketch: DDSketch): SeriesReject | undefined {
    const bad = this.checkSketch(key, sketch);
    if (bad !== undefined) return bad;
    const s = this.#slot(key, dict, 'histogram', 'last');
    if (typeof s === 'string') return s;
    if (s.sketch === undefined) s.sketch = sketch;
    else s.sketch.merge(sketch);
    return undefined;
  }

  /** Merge an encoded sketch from a frame. */
  mergeEncodedSketch(key: string, dict: SeriesDictionary, bytes: Uint8Array): SeriesReject | undefined {
    let decoded: DDSketch;
    try {
      decoded = decodeSketch(bytes);
    } catch {
      return 'badSketches';
    }
    return this.mergeSketch(key, dict, decoded);
  }

  /** Record StatsD samples (`weight` = 1/sample rate). */
  addSamples(
    key: string,
    dict: SeriesDictionary,
    values: readonly number[],
    weight: number,
    accuracy: number,
  ): SeriesReject | undefined {
    const s = this.#slot(key, dict, 'histogram', 'last');
    if (typeof s === 'string') return s;
    s.sketch ??= new DDSketch({ relativeAccuracy: accuracy });
    for (const v of values) s.sketch.add(v, weight);
    return undefined;
  }

  /** Add StatsD set members (at most `cap` kept per window). */
  addMembers(
    key: string,
    dict: SeriesDictionary,
    members: readonly string[],
    cap: number,
  ): SeriesReject | undefined {
    const s = this.#slot(key, dict, 'set', 'last');
    if (typeof s === 'string') return s;
    s.members ??= new Set();
    for (const m of members) if (s.members.size < cap) s.members.add(m);
    return undefined;
  }
}

/** The combined value of a gauge over its sources, per its policy. */
export function gaugeValue(s: SeriesWindow): number {
  if (s.bySource === undefined || s.policy === 'last') return s.value;
  let acc = s.policy === 'min' ? Number.POSITIVE_INFINITY : s.policy === 'max' ? Number.NEGATIVE_INFINITY : 0;
  for (const v of s.bySource.values()) {
    if (s.policy === 'min') acc = Math.min(acc, v);
    else if (s.policy === 'max') acc = Math.max(acc, v);
    else acc += v;
  }
  return s.policy === 'avg' ? acc / s.bySource.size : acc;
}

/** The series-name suffix of a quantile: 0.5 → `p50`, 0.999 → `p999`, 0.75 → `p75`. */
export function percentileSuffix(q: number): string {
  const pct = Number((q * 100).toPrecision(6));
  return `p${String(pct).replace('.', '')}`;
}

/** Points of one closed window, grouped by how they combine across brokers. */
export class WindowPoints {
  readonly byCombine: Record<CombinePolicy, Point[]> = { last: [], sum: [], min: [], max: [], avg: [] };
  readonly sketches: SketchPoint[] = [];
  /** Number of points in {@link byCombine}. */
  get size(): number {
    let n = 0;
    for (const list of Object.values(this.byCombine)) n += list.length;
    return n;
  }

  /**
   * Append the points of one series (histograms expand to count/sum/min/max/percentiles + sketch).
   * False, adding nothing, when any of its values is not finite (an aggregate that overflowed).
   */
  add(s: SeriesWindow, ts: number, quantiles: readonly number[], tenant: string | undefined): boolean {
    const { name, tags } = s.id;
    const staged: Array<[CombinePolicy, Point]> = [];
    let finite = true;
    const push = (combine: CombinePolicy, metric: string, value: number) => {
      if (!Number.isFinite(value)) finite = false;
      const p: Point = { metric, tags, ts, value };
      if (tenant !== undefined) p.tenant = tenant;
      staged.push([combine, p]);
    };
    switch (s.kind) {
      case 'counter':
      case 'meter':
        push('sum', name, s.value);
        break;
      case 'gauge':
        push(s.policy, name, gaugeValue(s));
        break;
      case 'set':
        push('max', name, s.members?.size ?? 0);
        break;
      case 'histogram': {
        const k = s.sketch;
        if (k === undefined || k.count === 0) break;
        push('sum', `${name}.count`, k.count);
        push('sum', `${name}.sum`, k.sum);
        push('min', `${name}.min`, k.min);
        push('max', `${name}.max`, k.max);
        for (const q of quantiles) push('max', `${name}.${percentileSuffix(q)}`, k.quantile(q));
        if (!finite) return false;
        const sp: SketchPoint = { metric: name, tags, ts, sketch: k.encode() };
        if (tenant !== undefined) sp.tenant = tenant;
        this.sketches.push(sp);
        break;
      }
    }
    if (!finite) return false;
    for (const [combine, p] of staged) this.byCombine[combine].push(p);
    return true;
  }
}

/** A series' total since the broker started: what Prometheus scrapes. */
export interface CumulativeSeries {
  name: string;
  tags: Record<string, string>;
  kind: AggregateKind;
  /** counter/meter: the running total; gauge: the latest combined value; set: the last window's size. */
  value: number;
  /** Histograms: every value since start, merged. */
  sketch?: DDSketch;
}

/** Running totals: monotonic for counters whatever happens to the processes that report them. */
export class CumulativeTotals {
  readonly series = new Map<string, CumulativeSeries>();

  /** Fold one closed window's series in. */
  add(key: string, s: SeriesWindow): void {
    let c = this.series.get(key);
    if (c === undefined) {
      c = { name: s.id.name, tags: s.id.tags, kind: s.kind, value: 0 };
      this.series.set(key, c);
    } else if (c.kind !== s.kind) return;
    switch (s.kind) {
      case 'counter':
      case 'meter':
        c.value += s.value;
        break;
      case 'gauge':
        c.value = gaugeValue(s);
        break;
      case 'set':
        c.value = s.members?.size ?? 0;
        break;
      case 'histogram':
        if (s.sketch === undefined) break;
        if (c.sketch === undefined) c.sketch = s.sketch.clone();
        else c.sketch.merge(s.sketch);
        break;
    }
  }
}
