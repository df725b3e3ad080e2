/**
 * Long-term metrics in Apache Cassandra with CassandraMetricsStore: connecting (keyspace replication,
 * consistency), writing points and DDSketch histograms, reading at raw, 5-minute and automatic
 * resolution, merged percentiles, and listing what is stored.
 *
 *   scripts/cassandra start                 # a local single node on 127.0.0.1:9042
 *   npx tsx examples/cassandra-store.ts     # FLEETWATCH_CASSANDRA_CONTACT_POINTS, FLEETWATCH_CASSANDRA_DC,
 *                                           # KEYSPACE (default fleetwatch_example)
 *
 */
import { pathToFileURL } from 'node:url';
import { DDSketch, type Point, type SketchPoint } from '@fleetwatch/sdk';
import { CassandraMetricsStore, type CassandraMetricsStoreOptions } from '@fleetwatch/sdk/cassandra';

const FIVE_MIN = 300_000;

/** Options of {@link main}. */
export interface CassandraExampleOptions {
  /** @default ['127.0.0.1:9042'] */
  contactPoints?: string[];
  /** @default 'datacenter1' */
  localDataCenter?: string;
  /** Created when missing. @default 'fleetwatch_example' */
  keyspace?: string;
  /** @default one replica (a development node) */
  replication?: CassandraMetricsStoreOptions['replication'];
  /** @default localOne for a single replica (the store's own default picks localQuorum above one) */
  consistency?: CassandraMetricsStoreOptions['consistency'];
}

/** What was read back. */
export interface CassandraExampleResult {
  /** Raw `cpu.usage` points of web-1 in the last stored 5 minutes. */
  rawPoints: number;
  /** 5-minute rollups of `cpu.usage` per host: how many, and the points' count and mean. */
  rollups: Record<string, Array<{ count: number; mean: number; min: number; max: number }>>;
  /** The resolution `auto` picked for 30 minutes in about 6 points. */
  autoResolution: string;
  /** `http.request_ms` per host over the whole range, from the merged sketches of its windows. */
  latency: Record<string, { count: number; p50: number; p99: number; max: number }>;
  metrics: string[];
  /** Tags of the `cpu.usage` series. */
  series: Array<Record<string, string>>;
}

/** Write 30 minutes of metrics for two hosts and read them back in several ways. */
export async function main(options: CassandraExampleOptions = {}): Promise<CassandraExampleResult> {
  const store = await CassandraMetricsStore.connect({
    contactPoints: options.contactPoints ?? ['127.0.0.1:9042'],
    localDataCenter: options.localDataCenter ?? 'datacenter1',
    keyspace: options.keyspace ?? 'fleetwatch_example',
    // Production: { class: 'NetworkTopologyStrategy', dataCenters: { dc1: 3 } } and localQuorum.
    replication: options.replication ?? { class: 'SimpleStrategy', replicationFactor: 1 },
    consistency: options.consistency ?? { read: 'localOne', write: 'localOne' },
    retention: { raw: 7 * 86_400_000 }, // the others keep their defaults (5m 30 d, 1h 400 d, 1d 5 y)
  });
  try {
    // Six whole 5-minute slots that ended at least 5 minutes ago: closed, so they roll up.
    const to = Math.floor((Date.now() - FIVE_MIN) / FIVE_MIN) * FIVE_MIN;
    const from = to - 6 * FIVE_MIN;
    const hosts = ['web-1', 'web-2'];

    // A point every 30 s per host: 10 per slot, values 0..9 (web-1) and 10..19 (web-2).
    const points: Point[] = [];
    const sketches: SketchPoint[] = [];
    hosts.forEach((host, h) => {
      for (let i = 0; i < 60; i++) {
        points.push({ metric: 'cpu.usage', tags: { host }, ts: from + i * 30_000, value: (i % 10) + 10 * h });
      }
      // One latency histogram per host and slot, as a broker would write it: 1..100 ms (web-2: 2..200).
      for (let ts = from; ts < to; ts += FIVE_MIN) {
        const sketch = new DDSketch();
        for (let ms = 1; ms <= 100; ms++) sketch.add(ms * (h + 1));
        sketches.push({ metric: 'http.request_ms', tags: { host }, ts, sketch: sketch.encode() });
      }
    });
    await store.write(points);
    await store.writeSketches(sketches);
    await store.flush(); // everything buffered is written and closed slots are rolled up

    const [raw] = await store.query({
      metric: 'cpu.usage',
      tags: { host: 'web-1' },
      from: to - FIVE_MIN,
      to,
      resolution: 'raw',
    });
    const rollups: CassandraExampleResult['rollups'] = {};
    for (const s of await store.query({ metric: 'cpu.usage', from, to, resolution: '5m' })) {
      rollups[s.tags.host ?? '?'] = s.points.map((p) =>
        'count' in p
          ? { count: p.count, mean: p.mean, min: p.min, max: p.max }
          : { count: 1, mean: p.value, min: p.value, max: p.value },
      );
    }
    const [auto] = await store.query({ metric: 'cpu.usage', tags: { host: 'web-1' }, from, to, points: 6 });
    const latency: CassandraExampleResult['latency'] = {};
    for (const r of await store.queryPercentiles({
      metric: 'http.request_ms',
      from,
      to,
      quantiles: [0.5, 0.99],
    })) {
      const { count, max, quantiles } = r;
      latency[r.tags.host ?? '?'] = {
        count,
        max,
        p50: quantiles['0.5'] ?? Number.NaN,
        p99: quantiles['0.99'] ?? Number.NaN,
      };
    }
    return {
      rawPoints: raw?.points.length ?? 0,
      rollups,
      autoResolution: auto?.resolution ?? 'none',
      latency,
      metrics: await store.listMetrics(),
      series: (await store.listSeries('cpu.usage')).map((s) => s.tags),
    };
  } finally {
    await store.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await main({
    contactPoints: (process.env.FLEETWATCH_CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042').split(','),
    localDataCenter: process.env.FLEETWATCH_CASSANDRA_DC ?? 'datacenter1',
    keyspace: process.env.KEYSPACE ?? 'fleetwatch_example',
  });
  console.dir(result, { depth: 4 });
}
