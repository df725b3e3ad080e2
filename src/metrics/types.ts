/**
 * The data that leaves a process: what a {@link MetricsRegistry} collects for one window and what the
 * broker merges. Kept apart from the instruments so the broker depends on data, not on the registry.
 */

import type { CombinePolicy } from '../metrics-store/types.js';

/** The kinds of instrument. A timer is a histogram of durations in ms; a meter is a counter with rates. */
export type MetricKind = 'counter' | 'gauge' | 'meter' | 'histogram';

/**
 * A mergeable quantile sketch (DDSketch-style), as implemented in `sketch.ts`. The broker and the
 * stores use only this surface.
 */
export interface QuantileSketch {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** Record one value (any finite number, negative included). */
  add(value: number): void;
  /** Merge another sketch with the same accuracy into this one, exactly. */
  merge(other: QuantileSketch): void;
  /** The q-quantile, q in [0, 1], within the sketch's relative accuracy; NaN when empty. */
  quantile(q: number): number;
  /** Compact binary form; `DDSketch.decode` reads it back. */
  encode(): Uint8Array;
}

/** One series' change over one window, as collected from a registry. */
export interface SeriesDelta {
  name: string;
  kind: MetricKind;
  /** The registry's default tags merged with the instrument's tags. */
  tags: Record<string, string>;
  /** counter/meter: the increase in the window; gauge: the current value. */
  value?: number;
  /** For gauges: how they combine across processes. */
  policy?: CombinePolicy;
  /** For histograms (and timers): everything recorded in the window. */
  sketch?: QuantileSketch;
}

/** What one process sends for one window. */
export interface WindowSnapshot {
  /** Start of the window, epoch ms, a multiple of the interval. */
  windowStart: number;
  /** The window length in ms. */
  intervalMs: number;
  /** Every series with activity in the window: counter and meter deltas, gauge values, histogram sketches. */
  series: SeriesDelta[];
}

/**
 * Where `registry.reportTo(sink)` sends each collected window: the broker client implements it.
 * `send` may be async; the registry never sends two windows at once from one report loop, and a
 * rejected or thrown send is logged, not retried (the client keeps unsent windows itself).
 */
export interface MetricsSink {
  /**
   * Take one closed window. Sends are serialised: a returned promise is awaited before the next send,
   * and by `report.stop()`; a rejection is counted and logged by the registry, never thrown.
   */
  send(snapshot: WindowSnapshot): void | Promise<void>;
  /** The window length the sink expects, in ms; the registry's windows align to its multiples. */
  readonly intervalMs: number;
}
