import type { Group } from '../metrics-store/fleet.js';
import { type RollupResolution, slotStart } from '../metrics-store/rollup-slots.js';
import { parseSeriesKey, seriesId } from '../metrics-store/series-key.js';
import { RESOLUTION_MS } from '../metrics-store/types.js';
import { type MetricsCql, toMillis } from './metrics-cql.js';

/** The `group_features` partition of the metrics store. */
const COMPONENT = 'metrics';
/** The feature name of the whole-metric group (every series of a metric). */
const WHOLE_METRIC = '';

/**
 * The id of a group, in the same id space as series ids (its rollups share their tables): the whole
 * metric (`tag` undefined) or the series of a metric having `tag[0] = tag[1]`. The `\0` prefix keeps
 * it apart from every series key.
 *
 * @example
 * ```ts
 * const id = groupId('rps', ['region', 'eu']);
 * ```
 */
export function groupId(metric: string, tag?: readonly [string, string]): string {
  return seriesId(JSON.stringify(['\u0000group', metric, ...(tag ?? [])]));
}

/** Where a query's candidate series came from (before its tag filters narrowed them). */
export interface CandidateSource {
  metric: string;
  /** Every candidate's tags, in candidate order. */
  tags: ReadonlyArray<Readonly<Record<string, string>>>;
  /** `all`: every series of the metric; `tag`: every series with `key = value`; `other`: neither. */
  from: { kind: 'all' } | { kind: 'tag'; key: string; value: string } | { kind: 'other' };
}

/** A group's pre-aggregate: its id and the feature that says since when it is complete. */
export interface GroupTarget {
  id: string;
  feature: string;
}

/**
 * The pre-aggregated group rollups of a store: which groups each series feeds (the whole metric, and
 * one group per configured tag key it has), since when each kind is complete (recorded in
 * `group_features` the first time a process configured it; a fresh keyspace records the epoch), and
 * which query groups they can answer exactly.
 *
 * @example
 * ```ts
 * const groups = await GroupRollups.load(cql, ['region'], Date.now(), false);
 * groups.groupsOf('["rps",["region","eu"]]'); // [whole metric, region=eu]
 * ```
 */
export class GroupRollups {
  /** The tag keys pre-aggregated per value (with the whole metric); undefined when groups are off. */
  readonly tags: readonly string[] | undefined;
  readonly #since: ReadonlyMap<string, number>;

  private constructor(tags: readonly string[] | undefined, since: ReadonlyMap<string, number>) {
    this.tags = tags;
    this.#since = since;
  }

  /**
   * Record this process's group kinds (since `now`, or since the epoch when `fresh`: no data is older
   * than the schema) unless already recorded, then read every recorded one.
   */
  static async load(
    cql: MetricsCql,
    tags: readonly string[] | undefined,
    now: number,
    fresh: boolean,
  ): Promise<GroupRollups> {
    if (tags === undefined) return new GroupRollups(undefined, new Map());
    const q = cql.q;
    for (const feature of [WHOLE_METRIC, ...tags]) {
      if (fresh) await cql.exec(q.resetGroupFeature, [0, COMPONENT, feature]);
      else await cql.exec(q.insertGroupFeature, [COMPONENT, feature, now], true);
    }
    const since = new Map<string, number>();
    for (const r of await cql.select(q.selectGroupFeatures, [COMPONENT])) {
      since.set(r.get('feature') as string, toMillis(r.get('since')));
    }
    return new GroupRollups(Object.freeze([...tags]), since);
  }

  /** The ids of the groups a series (by its key) contributes to. */
  groupsOf(key: string): string[] {
    if (this.tags === undefined) return [];
    const { metric, tags } = parseSeriesKey(key);
    const out = [groupId(metric)];
    for (const k of this.tags) {
      const v = tags[k];
      if (v !== undefined) out.push(groupId(metric, [k, v]));
    }
    return out;
  }

  /** First slot start at `res` from which the group kind `feature` is complete, if it is kept at all. */
  validFrom(feature: string, res: RollupResolution): number | undefined {
    if (this.tags === undefined || (feature !== WHOLE_METRIC && !this.tags.includes(feature)))
      return undefined;
    const since = this.#since.get(feature);
    if (since === undefined) return undefined;
    const w = RESOLUTION_MS[res];
    return Math.ceil(slotStart(since, '5m') / w) * w;
  }

  /**
   * The pre-aggregate holding exactly the members of `group`, if any: the whole metric or a
   * `key = value` group whose every series is selected (counted against the candidates, which are
   * every series of the metric or of one tag value). Returns a function so counts are built once.
   */
  planner<S>(source: CandidateSource, groupBy: readonly string[]): (g: Group<S>) => GroupTarget | undefined {
    const kept = this.tags ?? [];
    const n = source.tags.length;
    const from = source.from;
    const key = groupBy.length === 1 ? (groupBy[0] as string) : undefined;
    let counts: Map<string, number> | undefined;
    return (g) => {
      if (g.members.length === n) {
        if (from.kind === 'all') return { id: groupId(source.metric), feature: WHOLE_METRIC };
        if (from.kind === 'tag' && kept.includes(from.key))
          return { id: groupId(source.metric, [from.key, from.value]), feature: from.key };
      }
      if (from.kind !== 'all' || key === undefined || !kept.includes(key)) return undefined;
      const v = g.tags[key];
      if (v === undefined) return undefined;
      if (counts === undefined) {
        counts = new Map();
        for (const t of source.tags) {
          const tv = t[key];
          if (tv !== undefined) counts.set(tv, (counts.get(tv) ?? 0) + 1);
        }
      }
      return counts.get(v) === g.members.length
        ? { id: groupId(source.metric, [key, v]), feature: key }
        : undefined;
    };
  }
}
