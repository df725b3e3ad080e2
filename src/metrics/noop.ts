/**
 * Instruments that keep nothing: the shared no-ops of a disabled registry
 * (`new MetricsRegistry({ enabled: false })`: recording costs one empty call, code that records
 * never checks for setup), and the dropping instruments a registry hands out for a tag set that
 * breaks the naming rules (every update is counted as a dropped value).
 */
import { Counter } from './counter.js';
import type { DropCounts } from './drops.js';
import { Gauge } from './gauge.js';
import { Histogram } from './histogram.js';
import { Meter, type MeterRates } from './meter.js';
import { Timer } from './timer.js';

const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});
const ZERO_CLOCK = { now: () => 0 };
const ZERO_RATES: Readonly<MeterRates> = Object.freeze({
  count: 0,
  meanRate: 0,
  m1Rate: 0,
  m5Rate: 0,
  m15Rate: 0,
});

class NoopCounter extends Counter {
  override inc(): void {}
}

class NoopGauge extends Gauge {
  override set(): void {}
  override inc(): void {}
  override dec(): void {}
}

class NoopMeter extends Meter {
  override mark(): void {}
  override rates(): MeterRates {
    return { ...ZERO_RATES };
  }
}

class NoopHistogram extends Histogram {
  override record(): void {}
}

class NoopTimer extends Timer {
  override record(): void {}
}

/** The shared no-op instruments. */
export const NOOP_INSTRUMENTS = Object.freeze({
  counter: new NoopCounter('noop', NO_TAGS),
  gauge: new NoopGauge('noop', NO_TAGS, 'last'),
  meter: new NoopMeter('noop', NO_TAGS, ZERO_CLOCK),
  histogram: new NoopHistogram('noop', NO_TAGS, {}),
  timer: new NoopTimer('noop', NO_TAGS, {}, () => 0),
});

/** One dropping instrument of each kind. */
export type DroppingInstruments = {
  readonly counter: Counter;
  readonly gauge: Gauge;
  readonly meter: Meter;
  readonly histogram: Histogram;
  readonly timer: Timer;
};

/**
 * Instruments whose every update is dropped and counted in `drops.values`: what a registry hands
 * out for a tag set the store would refuse. They never reach a snapshot, a window or the broker.
 */
export function droppingInstruments(drops: DropCounts, monotonicNow: () => number): DroppingInstruments {
  class DroppingCounter extends Counter {
    override inc(): void {
      drops.values++;
    }
  }
  class DroppingGauge extends Gauge {
    override set(): void {
      drops.values++;
    }
    override inc(): void {
      drops.values++;
    }
    override dec(): void {
      drops.values++;
    }
  }
  class DroppingMeter extends Meter {
    override mark(): void {
      drops.values++;
    }
    override rates(): MeterRates {
      return { ...ZERO_RATES };
    }
  }
  class DroppingHistogram extends Histogram {
    override record(): void {
      drops.values++;
    }
  }
  class DroppingTimer extends Timer {
    override record(): void {
      drops.values++;
    }
  }
  return Object.freeze({
    counter: new DroppingCounter('dropped', NO_TAGS),
    gauge: new DroppingGauge('dropped', NO_TAGS, 'last'),
    meter: new DroppingMeter('dropped', NO_TAGS, ZERO_CLOCK),
    histogram: new DroppingHistogram('dropped', NO_TAGS, {}),
    timer: new DroppingTimer('dropped', NO_TAGS, {}, monotonicNow),
  });
}
