/**
 * The parts of the capacity benchmark (`bench/cassandra-capacity.ts`): where it measures, the
 * compression variants, nodetool and its table statistics, the generated series, and the rows it
 * reports.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_RAW_ROW_RETENTION_MS } from '../src/cassandra/metrics-blocks.js';
import { twcsWindow } from '../src/cassandra/metrics-schema.js';
import type { ReplicationOptions } from '../src/cassandra/schema.js';
import { DEFAULT_RETENTION, type Point } from '../src/metrics-store/types.js';
import { type BenchRow, seededRandom } from './lib.js';

const run = promisify(execFile);
const script = join(import.meta.dirname, '../scripts/cassandra');
/** The generated series' interval. */
export const STEP = 10_000;
/** A day in ms. */
export const DAY = 86_400_000;

export interface Target {
  label: string;
  contactPoints: string[];
  localDataCenter: string;
  replication: ReplicationOptions;
  nodetool?: string[];
}

export const SIZE_TARGETS: Record<string, Target> = {
  'cluster:4': {
    label: 'cluster node 4 (127.0.0.5, dc2), keyspace { dc2: 1 }',
    contactPoints: ['127.0.0.5'],
    localDataCenter: 'dc2',
    replication: { class: 'NetworkTopologyStrategy', dataCenters: { dc2: 1 } },
    nodetool: ['cluster', 'nodetool', '4'],
  },
  dev: {
    label: 'single development node (127.0.0.1), SimpleStrategy RF 1',
    contactPoints: ['127.0.0.1'],
    localDataCenter: 'datacenter1',
    replication: { class: 'SimpleStrategy', replicationFactor: 1 },
    nodetool: ['nodetool'],
  },
};
export const SINGLE = SIZE_TARGETS.dev as Target;
export const DC1: Target = {
  label: 'cluster dc1 (127.0.0.2–4), NetworkTopologyStrategy { dc1: 3 }',
  contactPoints: ['127.0.0.2', '127.0.0.3', '127.0.0.4'],
  localDataCenter: 'dc1',
  replication: { class: 'NetworkTopologyStrategy', dataCenters: { dc1: 3 } },
};

/** Compression variants tried on the same compacted data, first the table's current setting. */
export const VARIANTS: Array<{ name: string; compression: string }> = [
  {
    name: 'LZ4, 16 KiB chunks (Cassandra default)',
    compression: "{'class': 'LZ4Compressor', 'chunk_length_in_kb': 16}",
  },
  {
    name: 'Zstd 3, 16 KiB',
    compression: "{'class': 'ZstdCompressor', 'chunk_length_in_kb': 16, 'compression_level': 3}",
  },
  {
    name: 'Zstd 3, 64 KiB',
    compression: "{'class': 'ZstdCompressor', 'chunk_length_in_kb': 64, 'compression_level': 3}",
  },
  {
    name: 'Zstd 9, 64 KiB',
    compression: "{'class': 'ZstdCompressor', 'chunk_length_in_kb': 64, 'compression_level': 9}",
  },
  {
    name: 'Zstd 9, 256 KiB',
    compression: "{'class': 'ZstdCompressor', 'chunk_length_in_kb': 256, 'compression_level': 9}",
  },
];

export async function nodetool(t: Target, ...args: string[]): Promise<string> {
  if (t.nodetool === undefined) throw new Error(`no nodetool for ${t.label}`);
  const { stdout } = await run(script, [...t.nodetool, ...args], { timeout: 1_800_000, maxBuffer: 64 << 20 });
  return stdout;
}

export interface TableStats {
  live: number;
  sstables: number;
  ratio: number;
  partitions: number;
}

/** `tablestats` of several tables of `ks` in one nodetool call (each call starts a JVM). */
export async function tableStats(
  t: Target,
  ks: string,
  list: ReadonlyArray<{ table: string }>,
): Promise<Record<string, TableStats>> {
  const tables = list.map((x) => x.table);
  const out = await nodetool(t, 'tablestats', ...tables.map((x) => `${ks}.${x}`));
  const stats: Record<string, TableStats> = {};
  for (const section of out.split(/^\s*Table: /m).slice(1)) {
    const name = section.slice(0, section.indexOf('\n')).trim();
    const num = (label: string) => {
      const m = new RegExp(`${label.replace(/[()]/g, '\\$&')}: ([-0-9.]+)`).exec(section);
      return m ? Number(m[1]) : Number.NaN;
    };
    stats[name] = {
      live: num('Space used (live)'),
      sstables: num('SSTable count'),
      ratio: num('SSTable Compression Ratio'),
      partitions: num('Number of partitions (estimate)'),
    };
  }
  for (const x of tables)
    if (stats[x] === undefined) throw new Error(`no tablestats for ${ks}.${x}:\n${out}`);
  return stats;
}

/** Deterministic realistic series: gauges (one decimal, daily wave plus noise) and counters. */
export function seriesPoints(tenant: string, series: number, start: number, steps: number): Point[][] {
  const rnd = seededRandom(42);
  const out: Point[][] = [];
  const state = Array.from({ length: series }, (_, s) => ({
    gauge: s % 2 === 0,
    level: 20 + 60 * rnd(),
    counter: Math.floor(rnd() * 1e9),
    rate: 10 + Math.floor(rnd() * 5000),
    tags: { host: `web-${String(s >> 1).padStart(4, '0')}`, region: `r${s % 4}` },
  }));
  for (let i = 0; i < steps; i++) {
    const ts = start + i * STEP;
    const row: Point[] = new Array(series);
    for (let s = 0; s < series; s++) {
      const st = state[s]!;
      let value: number;
      if (st.gauge) {
        const wave = 15 * Math.sin((2 * Math.PI * (ts % DAY)) / DAY);
        value = Math.round((st.level + wave + 4 * (rnd() - 0.5)) * 10) / 10;
      } else {
        st.counter += Math.floor(st.rate * (0.5 + rnd()));
        value = st.counter;
      }
      row[s] = { metric: st.gauge ? 'cpu.used' : 'net.bytes', tags: st.tags, ts, value, tenant };
    }
    out.push(row);
  }
  return out;
}

/** A size row: live bytes of a table per row written, with its SSTable count and compression ratio. */
export function sizeRow(name: string, st: TableStats, n: number, what: string, note: string): BenchRow {
  return {
    case: name,
    value: st.live / n,
    unit: `B/${what}`,
    note: `${note}; ${st.sstables} SSTables, ratio ${st.ratio}`,
  };
}

/**
 * Bytes on disk per raw point of the shipped layout in steady state: every point lives in
 * `points_block` for the raw retention R, and as a `points_raw` row only for part of it, so
 *   B/point = block B/point + raw-row B/point × (time a raw row stays on disk) / R,
 * where a raw row stays the row lifetime after its hour ends (`rawRowRetentionMs`, default 1 d),
 * plus half an hour on average until its hour ends, plus half a TWCS window on average until its
 * SSTable's window closes, plus gc_grace (3 h) before TWCS drops the fully expired SSTable. The
 * same lag applies to blocks, at the end of R; it is left out of both, as it is of the per-table
 * rows. Both per-point sizes are measured in this run (as created, after major compaction).
 */
export function steadyState(
  stats: Record<string, TableStats>,
  n: number,
): { row: BenchRow; meta: Record<string, number> } {
  const R = DEFAULT_RETENTION.raw;
  const w = twcsWindow(R);
  const windowMs = w.size * (w.unit === 'HOURS' ? 3_600_000 : DAY);
  const rawOnDisk = DEFAULT_RAW_ROW_RETENTION_MS + 1_800_000 + windowMs / 2 + 3 * 3_600_000;
  const block = (stats.points_block as TableStats).live / n;
  const raw = (stats.points_raw as TableStats).live / n;
  const value = block + (raw * rawOnDisk) / R;
  const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;
  return {
    row: {
      case: 'shipped layout, steady state: points_block + the points_raw rows still on disk (per raw point)',
      value,
      unit: 'B/raw point',
      goal: '<= 6 B/point',
      met: value <= 6,
      note: `${block.toFixed(2)} (block) + ${raw.toFixed(2)} (raw row) × ${hours(rawOnDisk)} h / ${hours(R)} h (raw retention)`,
    },
    meta: { blockBytesPerPoint: block, rawBytesPerPoint: raw, rawRowOnDiskMs: rawOnDisk, rawRetentionMs: R },
  };
}
