/**
 * Shared no-op instruments handed out by a disabled registry (`new MetricsRegistry({ enabled: false })`):
 * recording costs one empty call, nothing is kept, and code that records never checks for setup.
 */
import { Counter } from './counter.js';
import { Gauge } from './gauge.js';
import { Histogram } from './histogram.js';
import { Meter, type MeterRates } from './meter.js';
import { Timer } from './timer.js';

const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});
const ZERO_CLOCK = { now: () => 0 };

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
    return { count: 0, meanRate: 0, m1Rate: 0, m5Rate: 0, m15Rate: 0 };
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
