import type { IngestItem } from './ingest.js';
import { wireSeriesKey } from './protocol.js';
import type { StatsdLine } from './statsd.js';

/**
 * StatsD lines as ingest items: counters scaled by their sample rate, gauges resolved against the
 * last value the broker accepted for the series (a `+`/`-` value is a change), sets as members,
 * timers and histograms as weighted samples. Holds one number per gauge series accepted (as many
 * as the broker's series dictionary takes).
 *
 * @internal
 * @example
 * ```ts
 * const items = new StatsdItems();
 * const item = items.item(line);
 * if (item !== undefined && !('reason' in broker.ingest({ source: 'statsd', items: [item] }))) items.accepted(item);
 * ```
 */
export class StatsdItems {
  readonly #gauges = new Map<string, number>();
  /** The series key of the gauge {@link item} made last. */
  #gaugeKey = '';

  /** The item of a line; undefined when its counter or gauge arithmetic overflows. */
  item(line: StatsdLine): IngestItem | undefined {
    const name = line.name;
    const tags = line.tags ?? {};
    switch (line.type) {
      case 'c': {
        let sum = 0;
        for (const v of line.values) sum += v / line.rate;
        return Number.isFinite(sum) ? { kind: 'counter', name, tags, value: sum } : undefined;
      }
      case 'g': {
        this.#gaugeKey = wireSeriesKey(name, tags);
        let v = this.#gauges.get(this.#gaugeKey) ?? 0;
        for (let i = 0; i < line.values.length; i++) {
          v = line.deltas[i] ? v + (line.values[i] as number) : (line.values[i] as number);
        }
        return Number.isFinite(v) ? { kind: 'gauge', name, tags, value: v } : undefined;
      }
      case 's':
        return { kind: 'set', name, tags, members: line.members };
      default:
        return { kind: 'samples', name, tags, values: line.values, weight: 1 / line.rate };
    }
  }

  /** The broker accepted `item`, the one {@link item} returned last: a gauge's value is its base now. */
  accepted(item: IngestItem): void {
    if (item.kind === 'gauge') this.#gauges.set(this.#gaugeKey, item.value);
  }
}
