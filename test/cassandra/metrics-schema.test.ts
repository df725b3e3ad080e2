/**
 * The partition and TTL arithmetic behind the Cassandra metrics tables (no Cassandra needed).
 */
import { describe, expect, it } from 'vitest';
import {
  BUCKET_MS,
  bucketOf,
  DIRTY_SHARDS,
  dirtyBucketOf,
  INDEX_SHARDS,
  indexShardOf,
  MAX_TTL_SECONDS,
  metricsMigrations,
  shardOf,
  ttlSeconds,
  twcsWindow,
} from '../../src/cassandra/metrics-schema.js';
import { DEFAULT_RETENTION } from '../../src/metrics-store/types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('metrics schema arithmetic', () => {
  it('twcsWindow() - about 24 windows over the retention, in hours below a day', () => {
    expect(twcsWindow(7 * DAY)).toEqual({ unit: 'HOURS', size: 7 });
    expect(twcsWindow(30 * DAY)).toEqual({ unit: 'DAYS', size: 1 });
    expect(twcsWindow(400 * DAY)).toEqual({ unit: 'DAYS', size: 17 });
    expect(twcsWindow(5 * 365 * DAY)).toEqual({ unit: 'DAYS', size: 76 });
    expect(twcsWindow(HOUR)).toEqual({ unit: 'HOURS', size: 1 });
  });

  it('ttlSeconds() - rounds up, at least 1 s, at most 20 years', () => {
    expect(ttlSeconds(1500)).toBe(2);
    expect(ttlSeconds(-5)).toBe(1);
    expect(ttlSeconds(0)).toBe(1);
    expect(ttlSeconds(100 * 365 * DAY)).toBe(MAX_TTL_SECONDS);
    expect(MAX_TTL_SECONDS).toBe(630_720_000); // Cassandra's Attributes.MAX_TTL
  });

  it('bucket widths keep partitions well under 100k rows', () => {
    expect(BUCKET_MS.raw / 10_000).toBe(2_160); // 10 s points
    expect(BUCKET_MS.raw / 1_000).toBe(21_600); // 1 s points
    expect(BUCKET_MS['5m'] / 300_000).toBe(2_880);
    expect(BUCKET_MS['1h'] / HOUR).toBe(8_640);
    expect(BUCKET_MS['1d'] / DAY).toBe(3_600);
    // each rollup slot lies in one bucket of its children (a roll reads one partition)
    expect(BUCKET_MS['5m'] % HOUR).toBe(0);
    expect(BUCKET_MS['1h'] % DAY).toBe(0);
    expect(BUCKET_MS.raw % 300_000).toBe(0);
  });

  it('bucketOf() / dirtyBucketOf() / shardOf() - epoch-aligned buckets and a stable shard', () => {
    const t = Date.UTC(2026, 0, 2, 7, 30);
    expect(bucketOf(t, 'raw')).toBe(Math.floor(t / (6 * HOUR)));
    expect(bucketOf(Date.UTC(2026, 0, 2, 6, 0), 'raw')).toBe(
      bucketOf(Date.UTC(2026, 0, 2, 11, 59, 59, 999), 'raw'),
    );
    expect(bucketOf(Date.UTC(2026, 0, 2, 12, 0), 'raw')).toBe(bucketOf(t, 'raw') + 1);
    expect(dirtyBucketOf(t, '5m')).toBe(Math.floor(t / HOUR));
    expect(dirtyBucketOf(t, '1d')).toBe(Math.floor(t / DAY));
    expect(shardOf('ffff0000000000000000000000000000')).toBe(0xffff % DIRTY_SHARDS);
    expect(shardOf('0003aaaa')).toBe(3);
    expect(indexShardOf('0000000b')).toBe(0xb % INDEX_SHARDS);
  });

  it('metricsMigrations() - idempotent DDL with TTLs and TWCS from the retention', () => {
    const [v1, v2, v3] = metricsMigrations({ ...DEFAULT_RETENTION, raw: 2 * DAY });
    const ddl = v1?.statements('ks') ?? [];
    for (const stmt of ddl) expect(stmt).toMatch(/^CREATE TABLE IF NOT EXISTS ks\./);
    const raw = ddl.find((s) => s.includes('ks.points_raw ')) ?? '';
    expect(raw).toContain(`default_time_to_live = ${2 * 86_400}`);
    expect(raw).toContain("'compaction_window_unit': 'HOURS', 'compaction_window_size': 2");
    expect(raw).toContain('PRIMARY KEY ((tenant, series_id, bucket), ts, source)');
    expect(v2?.statements('ks')).toEqual(['ALTER TABLE ks.series_by_metric ADD sketch_base double']);
    expect(v3?.statements('ks')[0]).toContain('PRIMARY KEY ((tenant, metric, shard), series_id)');
  });

  it('metricsMigrations() - version 6 sets Zstd on every raw, rollup and sketch table, and only those', () => {
    const v6 = metricsMigrations(DEFAULT_RETENTION).find((m) => m.version === 6);
    const ddl = v6?.statements('ks') ?? [];
    const tables = ddl.map((s) => /^ALTER TABLE ks\.(\w+) WITH compression = /.exec(s)?.[1]);
    expect(tables.sort()).toEqual(
      [
        'points_raw',
        'rollup_5m',
        'rollup_1h',
        'rollup_1d',
        'sketches_raw',
        'sketch_5m',
        'sketch_1h',
        'sketch_1d',
      ].sort(),
    );
    for (const stmt of ddl) {
      expect(stmt).toContain("'class': 'ZstdCompressor', 'chunk_length_in_kb': 64, 'compression_level': 3");
    }
  });
});
