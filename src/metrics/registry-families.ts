import { validationError } from '../errors.js';
import type { CombinePolicy } from '../metrics-store/types.js';
import { MAX_INSTRUMENT_NAME_LENGTH, validateMetricName } from '../naming.js';
import { AliasIndex } from './alias-index.js';
import type { Counter } from './counter.js';
import type { Gauge } from './gauge.js';
import type { Histogram } from './histogram.js';
import type { Meter } from './meter.js';
import { PrometheusNameIndex } from './prometheus-names.js';
import { type HistogramSummary, type InstrumentKind, SNAPSHOT_QUANTILES } from './registry-types.js';
import type { DDSketch } from './sketch.js';
import type { TagSet } from './tag-set.js';

/** An instrument handle of a registry. @internal */
export type Handle = Counter | Gauge | Meter | Histogram;

/** One metric name of a registry: its kind, setting and series. @internal */
export interface Family {
  readonly name: string;
  readonly kind: InstrumentKind;
  /** policy or relative accuracy, fixed by the first registration. */
  readonly setting: CombinePolicy | number | undefined;
  readonly series: Map<string, Handle>;
  /** Raw tag objects → handle, for lookups that skip validation. Bounded. */
  readonly aliases: AliasIndex<Handle>;
  overflow: Handle | undefined;
  overflows: number;
  /** Lookups with a rejected tag set. */
  rejected: number;
}

/** Makes a handle of a family. @internal */
export type Create = (tags: TagSet, setting: CombinePolicy | number | undefined) => Handle;

/**
 * The metric families of a registry by name. A family is created once, when its name is first
 * registered: the name is checked (`E_VALIDATION` at `name`), and so is its Prometheus name, which
 * may not collide with another family's after sanitising (`a.b` vs `a_b`, a gauge `lat_count` beside
 * a histogram `lat`). Later registrations must keep the kind and setting.
 *
 * @example
 * ```ts
 * const families = new FamilyTable();
 * families.resolve('gauge', 'queue', undefined, 'last');
 * families.resolve('gauge', 'queue.depth', undefined, 'last'); // fine
 * families.resolve('counter', 'a.b', undefined, undefined);
 * families.resolve('counter', 'a_b', undefined, undefined); // throws E_VALIDATION
 * ```
 * @internal
 */
export class FamilyTable {
  readonly #families = new Map<string, Family>();
  readonly #names = new PrometheusNameIndex();

  get(name: string): Family | undefined {
    return this.#families.get(name);
  }

  values(): IterableIterator<Family> {
    return this.#families.values();
  }

  /** The family `name` of `kind`, created on first use; throws `E_VALIDATION` naming the field. */
  resolve(
    kind: InstrumentKind,
    name: string,
    setting: CombinePolicy | number | undefined,
    defaultSetting: CombinePolicy | number | undefined,
  ): Family {
    let family = this.#families.get(name);
    if (family === undefined) {
      validateMetricName(name, 'name', MAX_INSTRUMENT_NAME_LENGTH);
      this.#names.claimInstrument(name, kind, 'name');
      family = {
        name,
        kind,
        setting: setting ?? defaultSetting,
        series: new Map(),
        aliases: new AliasIndex<Handle>(),
        overflow: undefined,
        overflows: 0,
        rejected: 0,
      };
      this.#families.set(name, family);
      return family;
    }
    if (family.kind !== kind) {
      throw validationError('name', `a name not already used by a ${family.kind}`, name);
    }
    if (setting !== undefined && setting !== family.setting) {
      const path = kind === 'gauge' ? 'options.policy' : 'options.relativeAccuracy';
      throw validationError(path, `${String(family.setting)} (as first registered)`, setting);
    }
    return family;
  }
}

/** The handles of a family, the overflow one last. @internal */
export function* handlesOf(family: Family): Iterable<Handle> {
  yield* family.series.values();
  if (family.overflow !== undefined) yield family.overflow;
}

/** Percentile summary of a sketch. @internal */
export function summarize(s: DDSketch): HistogramSummary {
  const quantiles: Record<string, number> = {};
  for (const q of SNAPSHOT_QUANTILES) quantiles[String(q)] = s.quantile(q);
  return {
    count: s.count,
    sum: s.sum,
    min: s.min,
    max: s.max,
    mean: s.count > 0 ? s.sum / s.count : Number.NaN,
    quantiles,
  };
}
