import { type Clock, type Logger, rejectUnknownKeys, silentLogger, systemClock } from '../core.js';
import { validationError } from '../errors.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from './fleet.js';
import { DEFAULT_RAW_INTERVAL_MS } from './resolution.js';
import type { Retention } from './types.js';
import { DEFAULT_RETENTION } from './types.js';
import { normalizeRetention } from './validate.js';

/** Options of {@link MemoryMetricsStore}. */
export interface MemoryMetricsStoreOptions {
  /** Retention per resolution, merged over the defaults. @default raw 7 d, 5m 30 d, 1h 400 d, 1d 5 y */
  retention?: Partial<Retention>;
  /** The clock for validation windows, closed slots, retention and `auto`. @default systemClock */
  clock?: Clock;
  /** Where background maintenance failures are logged. @default silentLogger */
  logger?: Logger;
  /** Most series (all tenants together). A write that would add more fails. @default 100000 */
  maxSeries?: number;
  /**
   * Most stored raw points (all series; resends count until their slot is compacted). At 25–40 B a point
   * (1–10 s intervals) the default is ~250–400 MB. @default 10000000
   */
  maxPoints?: number;
  /**
   * Most stored numeric rollup points (all resolutions). Rollups are made by the store, so this is
   * checked when points are written: once reached, writes fail until retention frees some. About
   * 200 B each: the default is ~400 MB. @default 2000000
   */
  maxRollups?: number;
  /** Most bytes of stored sketches (raw rows and rollups, encoded size). @default 268435456 (256 MiB) */
  maxSketchBytes?: number;
  /**
   * How often rollups of closed slots are computed and expired data dropped, in ms; 0 turns the timer
   * off (reads, `flush()` and `sweep()` still do both). The timer is `unref`'d. @default 60000
   */
  maintenanceIntervalMs?: number;
  /** Raw interval `auto` assumes. @default 30000 */
  rawIntervalMs?: number;
  /** Most series one query may select; more is `E_QUERY_TOO_LARGE`. @default 10000 */
  maxQuerySeries?: number;
  /**
   * Most stored points (rollup slots, sketch rows) one fleet query may read, estimated before reading;
   * more is `E_QUERY_TOO_LARGE`. @default 5000000
   */
  maxQueryPoints?: number;
}

/** What {@link MemoryMetricsStore.stats} reports. */
export interface MemoryStoreStats {
  series: number;
  /** Stored raw point rows. */
  points: number;
  /** Stored rollup points, all resolutions. */
  rollups: number;
  /** Stored raw sketch rows. */
  sketches: number;
  /** Stored rollup sketches. */
  sketchRollups: number;
  /** Encoded bytes of every stored sketch (raw and rollups). */
  sketchBytes: number;
  /** Dirty slots waiting to be rolled. */
  dirtySlots: number;
}

/** The bounds a memory store enforces on writes. @internal */
export interface MemoryBounds {
  maxSeries: number;
  maxPoints: number;
  maxRollups: number;
  maxSketchBytes: number;
}

/** {@link MemoryMetricsStoreOptions} checked, with every default applied. @internal */
export interface ResolvedMemoryOptions {
  retention: Readonly<Retention>;
  clock: Clock;
  logger: Logger;
  bounds: MemoryBounds;
  rawIntervalMs: number;
  limits: QueryLimits;
  maintenanceIntervalMs: number;
}

const OPTION_KEYS = [
  'retention',
  'clock',
  'logger',
  'maxSeries',
  'maxPoints',
  'maxRollups',
  'maxSketchBytes',
  'maintenanceIntervalMs',
  'rawIntervalMs',
  'maxQuerySeries',
  'maxQueryPoints',
] as const;

/**
 * Check the options of a {@link MemoryMetricsStore} and apply the defaults; a bad option is
 * `E_VALIDATION` naming it.
 *
 * @example
 * ```ts
 * const { bounds } = resolveMemoryOptions({ maxSeries: 10 }); // bounds.maxSeries === 10
 * ```
 */
export function resolveMemoryOptions(options: MemoryMetricsStoreOptions): ResolvedMemoryOptions {
  if (options === null || typeof options !== 'object')
    throw validationError('options', 'an options object', options);
  rejectUnknownKeys(options, OPTION_KEYS);
  const retention = normalizeRetention(options.retention, DEFAULT_RETENTION);
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function') throw validationError('options.clock', 'a Clock', clock);
  const bounds: MemoryBounds = {
    maxSeries: positiveInt(options.maxSeries, 100_000, 'options.maxSeries'),
    maxPoints: positiveInt(options.maxPoints, 10_000_000, 'options.maxPoints'),
    maxRollups: positiveInt(options.maxRollups, 2_000_000, 'options.maxRollups'),
    maxSketchBytes: positiveInt(options.maxSketchBytes, 256 * 1024 * 1024, 'options.maxSketchBytes'),
  };
  const rawIntervalMs = positiveInt(options.rawIntervalMs, DEFAULT_RAW_INTERVAL_MS, 'options.rawIntervalMs');
  const limits: QueryLimits = {
    maxSeries: positiveInt(options.maxQuerySeries, DEFAULT_QUERY_LIMITS.maxSeries, 'options.maxQuerySeries'),
    maxPoints: positiveInt(options.maxQueryPoints, DEFAULT_QUERY_LIMITS.maxPoints, 'options.maxQueryPoints'),
  };
  const interval = options.maintenanceIntervalMs ?? 60_000;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
    throw validationError('options.maintenanceIntervalMs', 'a number >= 0', interval);
  }
  return {
    retention,
    clock,
    logger: options.logger ?? silentLogger,
    bounds,
    rawIntervalMs,
    limits,
    maintenanceIntervalMs: interval,
  };
}

function positiveInt(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw validationError(path, 'a positive integer', value);
  }
  return value;
}
