/**
 * The CQL of {@link CassandraMetricsStore}: every statement text (all prepared, all restricted by a
 * full partition key, never `ALLOW FILTERING`), and the execution helpers with the store's
 * consistency levels, paging and error translation.
 */

import type { RollupResolution } from '../metrics-store/rollup-slots.js';
import { type Client, cassandra, type types } from './driver.js';
import { toStoreError } from './driver-errors.js';
import { POINT_TABLES, SKETCH_TABLES } from './metrics-schema.js';
import { selectAll, sendPartition } from './statements.js';
import type { BufferedStatement } from './write-buffer.js';

/**
 * Column subsets of a rollup read for fleet aggregates: only what the aggregate needs crosses the
 * wire and is decoded (`sum` also serves `count` and `avg`; `last` serves `last`, `rate`, `delta`).
 */
export type RollupColumns = 'sum' | 'min' | 'max' | 'last';

const ROLLUP_COLUMN_SETS: Readonly<Record<RollupColumns, string>> = {
  sum: 'ts, count, sum',
  min: 'ts, count, min',
  max: 'ts, count, max',
  last: 'ts, count, min, last',
};

/** Statement texts for one keyspace. */
export function metricsStatements(ks: string) {
  const rollupInsert = (res: RollupResolution) =>
    `INSERT INTO ${ks}.${POINT_TABLES[res]} (tenant, series_id, bucket, ts, count, sum, min, max, mean, m2, last)` +
    ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?';
  const rollupSelect = (res: RollupResolution) =>
    `SELECT ts, count, sum, min, max, mean, m2, last FROM ${ks}.${POINT_TABLES[res]}` +
    ' WHERE tenant = ? AND series_id = ? AND bucket = ? AND ts >= ? AND ts < ?';
  const rollupColumns = (res: RollupResolution, cols: RollupColumns) =>
    `SELECT ${ROLLUP_COLUMN_SETS[cols]} FROM ${ks}.${POINT_TABLES[res]}` +
    ' WHERE tenant = ? AND series_id = ? AND bucket = ? AND ts >= ? AND ts < ?';
  const columnsBy = (res: RollupResolution) => ({
    sum: rollupColumns(res, 'sum'),
    min: rollupColumns(res, 'min'),
    max: rollupColumns(res, 'max'),
    last: rollupColumns(res, 'last'),
  });
  const sketchInsert = (res: RollupResolution) =>
    `INSERT INTO ${ks}.${SKETCH_TABLES[res]} (tenant, series_id, bucket, ts, sketch) VALUES (?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?`;
  const sketchSelect = (res: RollupResolution) =>
    `SELECT ts, sketch FROM ${ks}.${SKETCH_TABLES[res]} WHERE tenant = ? AND series_id = ? AND bucket = ? AND ts >= ? AND ts < ?`;
  return {
    insertMetric: `INSERT INTO ${ks}.metric_names (tenant, metric) VALUES (?, ?) USING TTL ?`,
    selectMetrics: `SELECT metric FROM ${ks}.metric_names WHERE tenant = ?`,
    selectSeriesOne: `SELECT combine FROM ${ks}.series_index WHERE tenant = ? AND metric = ? AND shard = ? AND series_id = ?`,
    selectSketchBase: `SELECT sketch_base FROM ${ks}.series_index WHERE tenant = ? AND metric = ? AND shard = ? AND series_id = ?`,
    recordSketchBase:
      `UPDATE ${ks}.series_index SET sketch_base = ? WHERE tenant = ? AND metric = ? AND shard = ? AND series_id = ?` +
      ' IF sketch_base = null',
    insertSeries:
      `INSERT INTO ${ks}.series_index (tenant, metric, shard, series_id, series_key, combine, created_at)` +
      ' VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?',
    refreshSeries:
      `UPDATE ${ks}.series_index USING TTL ? SET series_key = ?, combine = ?` +
      ' WHERE tenant = ? AND metric = ? AND shard = ? AND series_id = ?',
    insertSeriesTag:
      `INSERT INTO ${ks}.series_tags (tenant, metric, tag_key, tag_value, series_id, series_key, combine)` +
      ' VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?',
    selectSeriesByTag:
      `SELECT series_id, series_key, combine FROM ${ks}.series_tags` +
      ' WHERE tenant = ? AND metric = ? AND tag_key = ? AND tag_value = ?',
    selectSeriesByTagRange:
      `SELECT series_id, series_key, combine FROM ${ks}.series_tags` +
      ' WHERE tenant = ? AND metric = ? AND tag_key = ? AND tag_value >= ? AND tag_value < ?',
    selectSeries: `SELECT series_id, series_key, combine FROM ${ks}.series_index WHERE tenant = ? AND metric = ? AND shard = ?`,
    insertRaw:
      `INSERT INTO ${ks}.points_raw (tenant, series_id, bucket, ts, source, value) VALUES (?, ?, ?, ?, ?, ?)` +
      ' USING TTL ? AND TIMESTAMP ?',
    selectRawFast:
      `SELECT ts, source, value FROM ${ks}.points_raw` +
      ' WHERE tenant = ? AND series_id = ? AND bucket = ? AND ts >= ? AND ts < ?',
    selectRaw:
      `SELECT ts, source, value, WRITETIME(value) AS wt FROM ${ks}.points_raw` +
      ' WHERE tenant = ? AND series_id = ? AND bucket = ? AND ts >= ? AND ts < ?',
    insertBlock:
      `INSERT INTO ${ks}.points_block (tenant, series_id, bucket, block_start, data) VALUES (?, ?, ?, ?, ?)` +
      ' USING TTL ? AND TIMESTAMP ?',
    selectBlocks:
      `SELECT block_start, data FROM ${ks}.points_block` +
      ' WHERE tenant = ? AND series_id = ? AND bucket = ? AND block_start >= ? AND block_start < ?',
    insertSketchRaw:
      `INSERT INTO ${ks}.sketches_raw (tenant, series_id, bucket, ts, source, sketch) VALUES (?, ?, ?, ?, ?, ?)` +
      ' USING TTL ? AND TIMESTAMP ?',
    selectSketchRaw:
      `SELECT ts, source, sketch FROM ${ks}.sketches_raw` +
      ' WHERE tenant = ? AND series_id = ? AND bucket = ? AND ts >= ? AND ts < ?',
    insertRollup: { '5m': rollupInsert('5m'), '1h': rollupInsert('1h'), '1d': rollupInsert('1d') },
    selectRollup: { '5m': rollupSelect('5m'), '1h': rollupSelect('1h'), '1d': rollupSelect('1d') },
    selectRollupColumns: { '5m': columnsBy('5m'), '1h': columnsBy('1h'), '1d': columnsBy('1d') },
    insertSketchRollup: { '5m': sketchInsert('5m'), '1h': sketchInsert('1h'), '1d': sketchInsert('1d') },
    selectSketchRollup: { '5m': sketchSelect('5m'), '1h': sketchSelect('1h'), '1d': sketchSelect('1d') },
    insertDirty:
      `INSERT INTO ${ks}.dirty_slots (resolution, bucket, shard, slot_start, tenant, series_id, kind, combine, at, series_key)` +
      ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?',
    selectDirty:
      `SELECT slot_start, tenant, series_id, kind, combine, series_key, WRITETIME(at) AS wt FROM ${ks}.dirty_slots` +
      ' WHERE resolution = ? AND bucket = ? AND shard = ?',
    deleteDirty:
      `DELETE FROM ${ks}.dirty_slots USING TIMESTAMP ? WHERE resolution = ? AND bucket = ? AND shard = ?` +
      ' AND slot_start = ? AND tenant = ? AND series_id = ? AND kind = ?',
    insertGroupMember:
      `INSERT INTO ${ks}.group_members (tenant, group_id, slot_start, series_id, count, sum, min, max, mean, m2, last)` +
      ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?',
    selectGroupMembers:
      `SELECT count, sum, min, max, mean, m2, last FROM ${ks}.group_members` +
      ' WHERE tenant = ? AND group_id = ? AND slot_start = ?',
    insertGroupSketchMember:
      `INSERT INTO ${ks}.group_sketch_members (tenant, group_id, slot_start, series_id, sketch)` +
      ' VALUES (?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?',
    selectGroupSketchMembers: `SELECT sketch FROM ${ks}.group_sketch_members WHERE tenant = ? AND group_id = ? AND slot_start = ?`,
    insertGroupFeature: `INSERT INTO ${ks}.group_features (component, feature, since) VALUES (?, ?, ?) IF NOT EXISTS`,
    resetGroupFeature: `UPDATE ${ks}.group_features SET since = ? WHERE component = ? AND feature = ?`,
    selectGroupFeatures: `SELECT feature, since FROM ${ks}.group_features WHERE component = ?`,
    insertDirtyBucket: `INSERT INTO ${ks}.dirty_buckets (resolution, bucket, shard, at) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`,
    selectDirtyBuckets: `SELECT bucket, shard, WRITETIME(at) AS wt FROM ${ks}.dirty_buckets WHERE resolution = ?`,
    deleteDirtyBucket: `DELETE FROM ${ks}.dirty_buckets USING TIMESTAMP ? WHERE resolution = ? AND bucket = ? AND shard = ?`,
  };
}

/** The statement texts of a keyspace. */
export type MetricsStatements = ReturnType<typeof metricsStatements>;

/** A number from a driver bigint (`Long`, `bigint` or number). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object' && 'toNumber' in v) return (v as types.Long).toNumber();
  return Number.NaN;
}

/** Epoch ms of a driver timestamp (`Date`). */
export function toMillis(v: unknown): number {
  return v instanceof Date ? v.getTime() : toNumber(v);
}

let lastMicros = 0;

/**
 * A write timestamp in microseconds, strictly increasing within this process: the same source's
 * later write of a timestamp wins, and `last` picks the latest write across sources.
 */
export function nextWriteTimestamp(): number {
  const m = Date.now() * 1000;
  lastMicros = m > lastMicros ? m : lastMicros + 1;
  return lastMicros;
}

/** Reads done by a store since it was created (every SELECT reads one partition). */
export interface ReadStats {
  /** Partition reads (SELECT statements, each page counted once per statement). */
  partitions: number;
  /** Rows returned. */
  rows: number;
}

/** Executes the store's statements with its consistency levels. */
export class MetricsCql {
  readonly q: MetricsStatements;
  /** Cumulative read counts (for benchmarks and monitoring). */
  readonly stats: ReadStats = { partitions: 0, rows: 0 };

  constructor(
    readonly client: Client,
    keyspace: string,
    readonly readConsistency: number,
    readonly writeConsistency: number,
  ) {
    this.q = metricsStatements(keyspace);
  }

  /** Every row of a (paged) SELECT. */
  async select(query: string, params: unknown[], signal?: AbortSignal): Promise<types.Row[]> {
    this.stats.partitions++;
    return selectAll(this.client, query, params, {
      consistency: this.readConsistency,
      fetchSize: 5000,
      signal,
      what: 'read',
      onPage: (rows) => {
        this.stats.rows += rows;
      },
    });
  }

  /** One idempotent write (or an LWT when `lwt`), with translation of failures. */
  async exec(query: string, params: unknown[], lwt = false): Promise<types.ResultSet> {
    try {
      return await this.client.execute(query, params, {
        prepare: true,
        isIdempotent: true,
        consistency: this.writeConsistency,
        ...(lwt ? { serialConsistency: cassandra.types.consistencies.localSerial } : {}),
      });
    } catch (err) {
      throw toStoreError(err, 'write');
    }
  }

  /**
   * Send statements of one partition: alone, or as an unlogged batch (one mutation). Raw driver
   * errors propagate so the write buffer can tell transient ones apart.
   */
  readonly send = (stmts: readonly BufferedStatement[]): Promise<void> =>
    sendPartition(this.client, stmts, this.writeConsistency);
}
