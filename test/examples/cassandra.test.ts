/**
 * examples/cassandra-store.ts against the local Cassandra (scripts/cassandra start), in a keyspace of
 * its own that is dropped afterwards.
 */
import { afterAll, expect, it } from 'vitest';
import { main } from '../../examples/cassandra-store.js';
import {
  contactPoints,
  dropKeyspaces,
  localDataCenter,
  probeCassandra,
  rawClient,
  uniqueKeyspace,
} from '../cassandra/cassandra-env.js';
import { describeWithService } from '../helpers/services.js';

const keyspace = uniqueKeyspace('examples');

describeWithService('examples/cassandra-store.ts', await probeCassandra(), () => {
  afterAll(() => dropKeyspaces([keyspace]));

  it('writes 30 minutes for two hosts and reads them at raw, 5m and auto resolution, with percentiles', async () => {
    const result = await main({
      contactPoints,
      localDataCenter,
      keyspace,
      replication: { class: 'SimpleStrategy', replicationFactor: 1 },
      consistency: { read: 'one', write: 'one' },
    });

    // the keyspace was created with the replication asked for
    const client = rawClient();
    try {
      const row = (
        await client.execute(
          'SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?',
          [keyspace],
          {
            prepare: true,
          },
        )
      ).first();
      expect(row?.replication).toMatchObject({
        class: expect.stringContaining('SimpleStrategy'),
        replication_factor: '1',
      });
    } finally {
      await client.shutdown();
    }

    // one point every 30 s: 10 in the last 5 minutes
    expect(result.rawPoints).toBe(10);
    // six 5-minute rollups per host over values 0..9 (web-1) and 10..19 (web-2)
    const slot = (base: number) => ({ count: 10, mean: base + 4.5, min: base, max: base + 9 });
    expect(result.rollups).toEqual({
      'web-1': Array.from({ length: 6 }, () => slot(0)),
      'web-2': Array.from({ length: 6 }, () => slot(10)),
    });
    expect(result.autoResolution).toBe('5m');
    // 6 sketches of 1..100 ms (web-2: 2..200) per host, merged over the range
    const sorted = (k: number) => Array.from({ length: 600 }, (_, i) => (Math.floor(i / 6) + 1) * k);
    for (const [host, k] of [
      ['web-1', 1],
      ['web-2', 2],
    ] as const) {
      const l = result.latency[host];
      expect(l?.count).toBe(600);
      expect(l?.max).toBe(100 * k);
      const p50 = sorted(k)[Math.floor(0.5 * 599)] as number;
      const p99 = sorted(k)[Math.floor(0.99 * 599)] as number;
      expect(Math.abs((l?.p50 ?? 0) - p50)).toBeLessThanOrEqual(p50 * 0.01);
      expect(Math.abs((l?.p99 ?? 0) - p99)).toBeLessThanOrEqual(p99 * 0.01);
    }
    expect([...result.metrics].sort()).toEqual(['cpu.usage', 'http.request_ms']);
    expect(result.series.map((t) => t.host).sort()).toEqual(['web-1', 'web-2']);
  });
});
