/**
 * The Cassandra tables of {@link CassandraMetricsStore}, as versioned migrations, plus the partition
 * bucketing and TTL/compaction arithmetic they rely on.
 *
 * Partition sizing (rows per partition, one source, kept well under the 100k-row rule):
 * - `points_raw`, `sketches_raw`: one partition per series per 6 h → 2,160 rows at 10 s, 21,600 at 1 s.
 * - `rollup_5m`, `sketch_5m`: per 10 days → 2,880 rows.
 * - `rollup_1h`, `sketch_1h`: per 360 days → 8,640 rows.
 * - `rollup_1d`, `sketch_1d`: per 3,600 days → 3,600 rows.
 * - `points_block`: per 10 days → 240 rows (one per hour, each a compressed block of raw points).
 * - `series_index`: per tenant × metric × shard (8): one row per series.
 * - `series_tags`: per tenant × metric × tag key: one row per series having that key, clustered by
 *   value (exact and prefix lookups are one slice).
 * - `dirty_slots`: per resolution × hour (5m marks), 6 h (1h marks) or day (1d marks) × shard (32).
 */
import type { RollupResolution } from '../metrics-store/rollup-slots.js';
import type { Resolution, Retention } from '../metrics-store/types.js';
import type { Migration } from './schema.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Width of one partition's time bucket per resolution, in ms (epoch-aligned). */
export const BUCKET_MS: Readonly<Record<Resolution, number>> = {
  raw: 6 * HOUR,
  '5m': 10 * DAY,
  '1h': 360 * DAY,
  '1d': 3600 * DAY,
};

/**
 * Width of a dirty-slot partition per resolution of the marks it holds. Rolled marks are deleted, so
 * a partition collects tombstones until compaction purges them (after gc_grace); small partitions keep
 * that count far under the tombstone thresholds: 10k series give 12 × 10k / 32 ≈ 3,750 rows per
 * 5m partition (one hour), 1,875 per 1h partition (6 hours), 312 per 1d partition (one day).
 */
export const DIRTY_BUCKET_MS: Readonly<Record<RollupResolution, number>> = {
  '5m': HOUR,
  '1h': 6 * HOUR,
  '1d': DAY,
};

/** Number of shards the dirty-slot table is spread over (per resolution and bucket). */
export const DIRTY_SHARDS = 32;

/** The dirty-slot partition bucket of a slot of `res` starting at `start`. */
export function dirtyBucketOf(start: number, res: RollupResolution): number {
  return Math.floor(start / DIRTY_BUCKET_MS[res]);
}

/** The bucket number of `ts` at `res`. */
export function bucketOf(ts: number, res: Resolution): number {
  return Math.floor(ts / BUCKET_MS[res]);
}

/** The dirty-table shard of a series id (hex). */
export function shardOf(seriesId: string): number {
  return Number.parseInt(seriesId.slice(0, 4), 16) % DIRTY_SHARDS;
}

/**
 * Partitions the series index of one metric is spread over: 8 × the 100k-row rule of thumb lets a
 * metric of one tenant hold several hundred thousand series; listing reads the 8 in parallel.
 */
export const INDEX_SHARDS = 8;

/** The series-index shard of a series id (hex). */
export function indexShardOf(seriesId: string): number {
  return Number.parseInt(seriesId.slice(4, 8), 16) % INDEX_SHARDS;
}

/** Maximum TTL Cassandra accepts (20 years), in seconds. */
export const MAX_TTL_SECONDS = 630_720_000;

/** A Cassandra TTL in seconds for a retention in ms (at least 1 s, at most 20 years). */
export function ttlSeconds(ms: number): number {
  return Math.min(MAX_TTL_SECONDS, Math.max(1, Math.ceil(ms / 1000)));
}

/**
 * TWCS window for a TTL: about 24 windows over the retention (TWCS's guidance is 20–30, under 50),
 * in whole hours below a day and whole days above.
 */
export function twcsWindow(retentionMs: number): { unit: 'HOURS' | 'DAYS'; size: number } {
  const hours = Math.max(1, Math.round(retentionMs / HOUR / 24));
  if (hours < 24) return { unit: 'HOURS', size: hours };
  return { unit: 'DAYS', size: Math.max(1, Math.round(hours / 24)) };
}

/** Table names per resolution. */
export const POINT_TABLES: Readonly<Record<Resolution, string>> = {
  raw: 'points_raw',
  '5m': 'rollup_5m',
  '1h': 'rollup_1h',
  '1d': 'rollup_1d',
};

/** Sketch table names per resolution. */
export const SKETCH_TABLES: Readonly<Record<Resolution, string>> = {
  raw: 'sketches_raw',
  '5m': 'sketch_5m',
  '1h': 'sketch_1h',
  '1d': 'sketch_1d',
};

/** The rollup resolutions, finest first. */
export const ROLLUP_ORDER: readonly RollupResolution[] = ['5m', '1h', '1d'];

function ttlTableOptions(retentionMs: number): string {
  const w = twcsWindow(retentionMs);
  return (
    ` WITH default_time_to_live = ${ttlSeconds(retentionMs)} AND gc_grace_seconds = 10800` +
    ` AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': '${w.unit}',` +
    ` 'compaction_window_size': ${w.size}}`
  );
}

/**
 * The migrations of the `metrics` component. Table defaults (`default_time_to_live`, TWCS window)
 * come from the retention of the first process that creates them; every write also carries its own
 * TTL, so later retention changes apply to new data without a migration.
 */
export function metricsMigrations(retention: Readonly<Retention>): Migration[] {
  return [
    {
      version: 1,
      description: 'series index, raw points, rollups, sketches, dirty slots',
      statements: (ks) => {
        const rawOpts = `${ttlTableOptions(retention.raw)} AND CLUSTERING ORDER BY (ts ASC, source ASC)`;
        const out = [
          `CREATE TABLE IF NOT EXISTS ${ks}.metric_names (tenant text, metric text, PRIMARY KEY ((tenant), metric))`,
          `CREATE TABLE IF NOT EXISTS ${ks}.series_by_metric (tenant text, metric text, series_id text, series_key text,` +
            ' combine text, created_at timestamp, PRIMARY KEY ((tenant, metric), series_id))',
          `CREATE TABLE IF NOT EXISTS ${ks}.points_raw (tenant text, series_id text, bucket int, ts timestamp,` +
            ` source text, value double, PRIMARY KEY ((tenant, series_id, bucket), ts, source))${rawOpts}`,
          `CREATE TABLE IF NOT EXISTS ${ks}.sketches_raw (tenant text, series_id text, bucket int, ts timestamp,` +
            ` source text, sketch blob, PRIMARY KEY ((tenant, series_id, bucket), ts, source))${rawOpts}`,
          `CREATE TABLE IF NOT EXISTS ${ks}.dirty_slots (resolution text, bucket int, shard int, slot_start timestamp,` +
            ' tenant text, series_id text, kind text, combine text, at timestamp,' +
            ' PRIMARY KEY ((resolution, bucket, shard), slot_start, tenant, series_id, kind))' +
            ` WITH default_time_to_live = ${ttlSeconds(retention.raw + 2 * DAY)} AND gc_grace_seconds = 3600`,
          `CREATE TABLE IF NOT EXISTS ${ks}.dirty_buckets (resolution text, bucket int, shard int, at timestamp,` +
            ' PRIMARY KEY ((resolution), bucket, shard))' +
            ` WITH default_time_to_live = ${ttlSeconds(retention.raw + 2 * DAY)} AND gc_grace_seconds = 3600`,
        ];
        for (const res of ROLLUP_ORDER) {
          const opts = `${ttlTableOptions(retention[res])} AND CLUSTERING ORDER BY (ts ASC)`;
          out.push(
            `CREATE TABLE IF NOT EXISTS ${ks}.${POINT_TABLES[res]} (tenant text, series_id text, bucket int, ts timestamp,` +
              ' count bigint, sum double, min double, max double, mean double, m2 double, last double,' +
              ` PRIMARY KEY ((tenant, series_id, bucket), ts))${opts}`,
            `CREATE TABLE IF NOT EXISTS ${ks}.${SKETCH_TABLES[res]} (tenant text, series_id text, bucket int, ts timestamp,` +
              ` sketch blob, PRIMARY KEY ((tenant, series_id, bucket), ts))${opts}`,
          );
        }
        return out;
      },
    },
    {
      version: 2,
      description: "series_by_metric.sketch_base: the relative accuracy of a series' sketches",
      statements: (ks) => [`ALTER TABLE ${ks}.series_by_metric ADD sketch_base double`],
    },
    {
      version: 3,
      description:
        'series_index: the series index split over 8 partitions per metric (replaces series_by_metric)',
      statements: (ks) => [
        `CREATE TABLE IF NOT EXISTS ${ks}.series_index (tenant text, metric text, shard int, series_id text,` +
          ' series_key text, combine text, created_at timestamp, sketch_base double,' +
          ' PRIMARY KEY ((tenant, metric, shard), series_id))',
      ],
    },
    {
      version: 4,
      description: 'series_tags: series of a metric by tag key and value (fleet queries select through it)',
      statements: (ks) => [
        `CREATE TABLE IF NOT EXISTS ${ks}.series_tags (tenant text, metric text, tag_key text, tag_value text,` +
          ' series_id text, series_key text, combine text,' +
          ' PRIMARY KEY ((tenant, metric, tag_key), tag_value, series_id))',
      ],
    },
    groupRollupsMigration(retention),
    {
      version: 6,
      description: 'time-series tables: Zstd compression (measured in bench/cassandra-capacity.ts)',
      statements: (ks) =>
        timeSeriesTables().map((t) => `ALTER TABLE ${ks}.${t} WITH compression = ${TIME_SERIES_COMPRESSION}`),
    },
    {
      version: 7,
      description:
        'points_block: raw points of a series, one compressed row per hour (see metrics-blocks.ts)',
      statements: (ks) => [
        `CREATE TABLE IF NOT EXISTS ${ks}.points_block (tenant text, series_id text, bucket int,` +
          ' block_start timestamp, data blob, PRIMARY KEY ((tenant, series_id, bucket), block_start))' +
          `${ttlTableOptions(retention.raw)} AND CLUSTERING ORDER BY (block_start ASC)` +
          ` AND compression = ${TIME_SERIES_COMPRESSION}`,
      ],
    },
  ];
}

/** Span of one points block (one `points_block` row per series), in ms (epoch-aligned). */
export const BLOCK_MS = HOUR;

/** Width of one `points_block` partition's time bucket: 10 days → 240 rows of one hour. */
export const BLOCK_BUCKET_MS = 10 * DAY;

/**
 * Compression of the time-series tables (raw points, rollups, sketches), from migration 6 on:
 * Zstd level 3 in 64 KiB chunks, measured by `npm run bench:capacity` (docs/operations.md,
 * "Capacity"). Existing SSTables keep their old compression until compacted (or
 * `nodetool upgradesstables -a`): a closed TWCS window is not compacted again, so old data keeps LZ4
 * until it expires.
 */
export const TIME_SERIES_COMPRESSION =
  "{'class': 'ZstdCompressor', 'chunk_length_in_kb': 64, 'compression_level': 3}";

/** Every raw, rollup and sketch table. */
function timeSeriesTables(): string[] {
  return [...Object.values(POINT_TABLES), ...Object.values(SKETCH_TABLES)];
}

// ---------------------------------------------------------------------------------------------
// Version 5 (fleetbench): group rollups. Kept in its own block, apart from the table options above.

/**
 * Migration 5: pre-aggregated group rollups (see metrics-groups.ts). A 5m rollup of a series is also
 * written as its contribution to each of its groups (`group_members`, `group_sketch_members`: one
 * partition per group and slot, one row per member); the group's own rollups live in the rollup and
 * sketch tables under the group's id. Dirty marks carry the series key (its groups); the group
 * features record since when each kind of group is complete.
 */
function groupRollupsMigration(retention: Readonly<Retention>): Migration {
  const ttl = ttlSeconds(retention.raw + 2 * DAY);
  return {
    version: 5,
    description: 'group rollups: group_members, group_sketch_members, group_features, dirty_slots.series_key',
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.group_members (tenant text, group_id text, slot_start timestamp,` +
        ' series_id text, count bigint, sum double, min double, max double, mean double, m2 double, last double,' +
        ` PRIMARY KEY ((tenant, group_id, slot_start), series_id)) WITH default_time_to_live = ${ttl}`,
      `CREATE TABLE IF NOT EXISTS ${ks}.group_sketch_members (tenant text, group_id text, slot_start timestamp,` +
        ' series_id text, sketch blob,' +
        ` PRIMARY KEY ((tenant, group_id, slot_start), series_id)) WITH default_time_to_live = ${ttl}`,
      `CREATE TABLE IF NOT EXISTS ${ks}.group_features (component text, feature text, since timestamp,` +
        ' PRIMARY KEY ((component), feature))',
      `ALTER TABLE ${ks}.dirty_slots ADD series_key text`,
    ],
  };
}
