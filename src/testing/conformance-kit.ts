/**
 * What the MetricsStore conformance cases share: time constants, a settable clock, exact oracles
 * (statistics, quantiles) and assertions. Internal to `@fleetwatch/sdk/testing`, except the names
 * `metrics-store-conformance.ts` re-exports.
 */
import { expect } from 'vitest';
import type { Clock } from '../core.js';
import { FleetwatchError } from '../errors.js';
import { DDSketch } from '../metrics/sketch.js';
import type { MetricsStore, RawPoint, Retention, RollupPoint, Series } from '../metrics-store/types.js';

/** What the cases need from the suite: a fresh store (at a time, with optional retention and query limits) and a tenant. */
export type OpenStore = (opts?: {
  retention?: Partial<Retention>;
  at?: number;
  queryLimits?: { maxSeries?: number; maxPoints?: number };
}) => Promise<{ store: MetricsStore; clock: FakeClock; tenant: string }>;

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const M5 = 5 * MIN;

/**
 * A settable clock for stores and schedulers under test: time moves only when the test moves it.
 *
 * @example
 * ```ts
 * const clock = new FakeClock(Date.UTC(2026, 0, 1));
 * const store = new MemoryMetricsStore({ clock });
 * clock.advance(5 * 60_000); // five minutes later
 * await store.flush();
 * ```
 */
export class FakeClock implements Clock {
  /** Start at `t` (epoch ms). */
  constructor(t: number) {
    this.t = t;
  }
  /** The current fake time, epoch ms; tests may also assign it. */
  t: number;
  /** The current fake time, epoch ms. */
  now(): number {
    return this.t;
  }
  /** Jump to `t` (epoch ms), forwards or back. */
  set(t: number): void {
    this.t = t;
  }
  /** Move the time forward by `ms`. */
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Independent, straightforward two-pass statistics of values given in ts order. */
export function exactStats(values: readonly number[]): Omit<RollupPoint, 'ts'> {
  const count = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / count;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return {
    count,
    sum,
    min: Math.min(...values),
    max: Math.max(...values),
    mean,
    variance: sq / count,
    last: values[values.length - 1] as number,
  };
}

/** Fail unless `actual` is within a relative `rel` (at least 1e-9 absolute) of `expected`. */
export function close(actual: number, expected: number, what: string, rel = 1e-9): void {
  const tol = Math.max(Math.abs(expected) * rel, 1e-9);
  if (!(Math.abs(actual - expected) <= tol)) {
    expect.fail(`${what}: expected ${expected} (±${tol}), got ${actual}`);
  }
}

/** Assert a rollup point equals exact statistics of `values` (ts-ordered). */
export function expectRollup(
  p: RollupPoint | undefined,
  ts: number,
  values: readonly number[],
  what = 'rollup',
): void {
  expect(p, `${what} at ${new Date(ts).toISOString()}`).toBeDefined();
  const e = exactStats(values);
  const r = p as RollupPoint;
  expect(r.ts, `${what}.ts`).toBe(ts);
  expect(r.count, `${what}.count`).toBe(e.count);
  close(r.sum, e.sum, `${what}.sum`);
  expect(r.min, `${what}.min`).toBe(e.min);
  expect(r.max, `${what}.max`).toBe(e.max);
  close(r.mean, e.mean, `${what}.mean`);
  close(r.variance, e.variance, `${what}.variance`, 1e-7);
  expect(r.last, `${what}.last`).toBe(e.last);
}

/** Points of the only series in `series` (fails when there is not exactly one, or at another resolution). */
export function only(series: Series[], res: 'raw'): RawPoint[];
export function only(series: Series[], res: '5m' | '1h' | '1d'): RollupPoint[];
export function only(series: Series[], res: Series['resolution']): RawPoint[] | RollupPoint[] {
  expect(series).toHaveLength(1);
  const s = series[0] as Series;
  expect(s.resolution).toBe(res);
  return s.points;
}

/** `series` sorted by their tags, for order-independent comparison. */
export function byTags(series: Series[]): Series[] {
  return [...series].sort((a, b) => JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)));
}

/** Assert `promise` rejects with a FleetwatchError of `code` (and `path`, when given); returns it. */
export async function expectError(
  promise: Promise<unknown>,
  code: string,
  path?: string,
): Promise<FleetwatchError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    const e = err as FleetwatchError;
    expect(e.code, e.message).toBe(code);
    if (path !== undefined) expect(e.path, e.message).toBe(path);
    return e;
  }
  return expect.fail(`expected a ${code} rejection${path ? ` at ${path}` : ''}`);
}

/** The exact q-quantile as DDSketch defines it: the value of rank ⌊q·(n−1)⌋ in sorted order. */
export function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

/** A standard-normal sample from two uniforms (Box–Muller). */
export function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** A sketch of `values` (default options, or those given) and its encoding. */
export function sketchOf(
  values: readonly number[],
  options?: { scale?: number; relativeAccuracy?: number },
): Uint8Array {
  const s = new DDSketch(options);
  for (const v of values) s.add(v);
  return s.encode();
}

let tenantSeq = 0;
/** A tenant name unique to this run and test. */
export function uniqueTenant(): string {
  tenantSeq++;
  return `cf_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9).toString(36)}_${tenantSeq}`;
}
