/**
 * Options of {@link CassandraMetricsStore.connect}, their defaults and their validation.
 */

import { type Clock, type Logger, rejectUnknownKeys, silentLogger, systemClock } from '../core.js';
import { validationError } from '../errors.js';
import { DEFAULT_QUERY_LIMITS } from '../metrics-store/fleet.js';
import { DEFAULT_RAW_INTERVAL_MS } from '../metrics-store/resolution.js';
import type { Retention } from '../metrics-store/types.js';
import { DEFAULT_RETENTION } from '../metrics-store/types.js';
import { MAX_TAGS, normalizeRetention, TAG_KEY_RE } from '../metrics-store/validate.js';
import {
  type CassandraConnectionOptions,
  CONNECTION_OPTION_KEYS,
  DEFAULT_REPLICATION,
  validateConnectionOptions,
} from './connection.js';
import { cassandra } from './driver.js';
import { DEFAULT_RAW_ROW_RETENTION_MS, MIN_RAW_ROW_RETENTION_MS } from './metrics-blocks.js';
import { maxReplicationFactor, type ReplicationOptions, replicationCql } from './schema.js';

/** Consistency levels a store may read or write at. */
export type ConsistencyName = 'one' | 'localOne' | 'quorum' | 'localQuorum' | 'eachQuorum' | 'all';

const CONSISTENCY_NAMES: readonly ConsistencyName[] = [
  'one',
  'localOne',
  'quorum',
  'localQuorum',
  'eachQuorum',
  'all',
];

/** Write-buffer tuning. */
export interface WriteBufferSettings {
  /** Most points (plus index/dirty rows) buffered before `write()` waits. @default 100000 */
  maxPoints?: number;
  /**
   * How long a `write()` may wait (for room, then for Cassandra) before it fails with
   * `E_STORE_UNAVAILABLE`. @default 30000
   */
  timeoutMs?: number;
  /** Requests in flight at once. @default 64 */
  concurrency?: number;
  /** Most rows of one partition per unlogged batch. @default 50 */
  maxBatchRows?: number;
}

/** Options of {@link CassandraMetricsStore.connect}: the connection options and these. */
export interface CassandraMetricsStoreOptions extends CassandraConnectionOptions {
  /** Retention per resolution, merged over the defaults (raw 7 d, 5m 30 d, 1h 400 d, 1d 5 y). */
  retention?: Partial<Retention>;
  /**
   * Consistency levels. @default `localOne` for both when the largest replication factor is 1,
   * else `localQuorum` for both (reads see every acknowledged write).
   */
  consistency?: { read?: ConsistencyName; write?: ConsistencyName };
  /** The write buffer. */
  writeBuffer?: WriteBufferSettings;
  /**
   * How often closed dirty slots are rolled up in the background, in ms; 0 turns the loop off
   * (`flush()` and rollup queries still roll; call `flush()` now and then, since the in-process list
   * of slots to roll is trimmed by a roll). The timer is `unref`'d. @default 60000
   */
  rollupIntervalMs?: number;
  /**
   * How long a raw point row lives after its hour ends (or after it is written, when later), in ms;
   * at most the raw retention. Rolling an hour writes the series' points of that hour as one
   * compressed `points_block` row kept for the whole raw retention, so raw queries still see every
   * point; raw rows only hold the newest points. Some process must roll (the background loop, or
   * `flush()`) within this time of an hour's end, or that hour's raw points are lost. Use the same
   * value on every process. Minimum: 3600000 (an hour). @default 86400000 (a day)
   */
  rawRowRetentionMs?: number;
  /** Raw interval `auto` resolution assumes. @default 30000 */
  rawIntervalMs?: number;
  /** Clock for validation windows, closed slots, retention and TTLs. @default systemClock */
  clock?: Clock;
  /** Logger (errors of the background rollup loop go here). @default silentLogger */
  logger?: Logger;
  /** Abort connecting and migrating. */
  signal?: AbortSignal;
  /** The query-cost guard and read fan-out. */
  queries?: QuerySettings;
  /**
   * Turns on pre-aggregated group rollups: each metric's whole-fleet group, plus one group per
   * value of each listed tag key (`[]`: the whole-fleet groups only). A fleet query whose group is
   * exactly such a group (`groupBy: []` or `groupBy: [key]` over all series, or a `where` of one
   * `tag:key=value`) then reads one partition per group instead of one per series. Each group a series
   * feeds adds one row per series and 5m slot, and the group's own rolls, at roll time: pick
   * low-cardinality keys (region, service, env), and configure the same keys on every process that
   * writes or rolls (see docs/fleet-queries.md).
   * @default undefined (off)
   */
  groupRollupTags?: readonly string[];
}

/** Per-query limits and read concurrency. */
export interface QuerySettings {
  /** Most series one query may select; more is `E_QUERY_TOO_LARGE`. @default 10000 */
  maxSeries?: number;
  /**
   * Most stored points (rollup slots, sketch rows) one fleet query may read, estimated before any
   * data is read; more is `E_QUERY_TOO_LARGE`. @default 5000000
   */
  maxPoints?: number;
  /** Partition reads in flight at once for one query (through p-queue). @default 32 */
  concurrency?: number;
}

/** Options after defaults and validation. */
export interface NormalizedStoreOptions {
  keyspace: string;
  replication: ReplicationOptions;
  retention: Readonly<Retention>;
  readConsistency: number;
  writeConsistency: number;
  maxRows: number;
  timeoutMs: number;
  concurrency: number;
  maxBatchRows: number;
  rollupIntervalMs: number;
  rawIntervalMs: number;
  /** Raw row lifetime after its hour, at most the raw retention. */
  rawRowRetentionMs: number;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal | undefined;
  maxQuerySeries: number;
  maxQueryPoints: number;
  queryConcurrency: number;
  groupRollupTags: readonly string[] | undefined;
}

const KEYS = [
  ...CONNECTION_OPTION_KEYS,
  'retention',
  'consistency',
  'writeBuffer',
  'rollupIntervalMs',
  'rawIntervalMs',
  'rawRowRetentionMs',
  'clock',
  'logger',
  'signal',
  'queries',
  'groupRollupTags',
] as const;

function int(value: unknown, fallback: number, path: string, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw validationError(path, `an integer >= ${min}`, value);
  }
  return value;
}

function consistency(value: unknown, fallback: ConsistencyName, path: string): number {
  const name = value ?? fallback;
  if (!CONSISTENCY_NAMES.includes(name as ConsistencyName)) {
    throw validationError(path, `one of ${CONSISTENCY_NAMES.join(', ')}`, value);
  }
  return cassandra.types.consistencies[name as ConsistencyName];
}

/** Validate the options (throws `E_VALIDATION` naming the field) and apply defaults. */
export function normalizeStoreOptions(options: CassandraMetricsStoreOptions): NormalizedStoreOptions {
  if (options === null || typeof options !== 'object')
    throw validationError('options', 'an options object', options);
  rejectUnknownKeys(options, KEYS);
  const keyspace = validateConnectionOptions(options);
  const replication = options.replication ?? DEFAULT_REPLICATION;
  replicationCql(replication, 'options.replication');
  const rf = maxReplicationFactor(replication);
  const defaultCl: ConsistencyName = rf > 1 ? 'localQuorum' : 'localOne';
  const c = options.consistency ?? {};
  if (typeof c !== 'object' || c === null) throw validationError('options.consistency', 'an object', c);
  rejectUnknownKeys(c, ['read', 'write'], 'options.consistency');
  const wb = options.writeBuffer ?? {};
  if (typeof wb !== 'object' || wb === null) throw validationError('options.writeBuffer', 'an object', wb);
  rejectUnknownKeys(wb, ['maxPoints', 'timeoutMs', 'concurrency', 'maxBatchRows'], 'options.writeBuffer');
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'object' || typeof clock.now !== 'function')
    throw validationError('options.clock', 'a Clock', clock);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw validationError('options.signal', 'an AbortSignal', signal);
  }
  const qs = options.queries ?? {};
  if (typeof qs !== 'object' || qs === null) throw validationError('options.queries', 'an object', qs);
  rejectUnknownKeys(qs, ['maxSeries', 'maxPoints', 'concurrency'], 'options.queries');
  const retention = normalizeRetention(options.retention, DEFAULT_RETENTION);
  const rowRetention = int(
    options.rawRowRetentionMs,
    DEFAULT_RAW_ROW_RETENTION_MS,
    'options.rawRowRetentionMs',
    MIN_RAW_ROW_RETENTION_MS,
  );
  return {
    rawRowRetentionMs: Math.min(rowRetention, retention.raw),
    maxQuerySeries: int(qs.maxSeries, DEFAULT_QUERY_LIMITS.maxSeries, 'options.queries.maxSeries', 1),
    maxQueryPoints: int(qs.maxPoints, DEFAULT_QUERY_LIMITS.maxPoints, 'options.queries.maxPoints', 1),
    queryConcurrency: int(qs.concurrency, 32, 'options.queries.concurrency', 1),
    keyspace,
    replication,
    retention,
    readConsistency: consistency(c.read, defaultCl, 'options.consistency.read'),
    writeConsistency: consistency(c.write, defaultCl, 'options.consistency.write'),
    maxRows: int(wb.maxPoints, 100_000, 'options.writeBuffer.maxPoints', 1),
    timeoutMs: int(wb.timeoutMs, 30_000, 'options.writeBuffer.timeoutMs', 1),
    concurrency: int(wb.concurrency, 64, 'options.writeBuffer.concurrency', 1),
    maxBatchRows: int(wb.maxBatchRows, 50, 'options.writeBuffer.maxBatchRows', 1),
    rollupIntervalMs: int(options.rollupIntervalMs, 60_000, 'options.rollupIntervalMs', 0),
    rawIntervalMs: int(options.rawIntervalMs, DEFAULT_RAW_INTERVAL_MS, 'options.rawIntervalMs', 1),
    clock,
    logger: options.logger ?? silentLogger,
    signal,
    groupRollupTags: tagKeys(options.groupRollupTags, 'options.groupRollupTags'),
  };
}

function tagKeys(value: unknown, path: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > MAX_TAGS)
    throw validationError(path, `an array of at most ${MAX_TAGS} tag keys`, value);
  const seen = new Set<string>();
  value.forEach((k: unknown, i) => {
    if (typeof k !== 'string' || !TAG_KEY_RE.test(k) || seen.has(k))
      throw validationError(`${path}[${i}]`, 'a distinct tag key of [A-Za-z0-9_.:/-]', k);
    seen.add(k);
  });
  return Object.freeze([...(value as string[])]);
}
