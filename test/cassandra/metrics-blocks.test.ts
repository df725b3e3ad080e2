/**
 * Points blocks of CassandraMetricsStore against a real Cassandra: rolling an hour writes its raw
 * points as one `points_block` row; raw queries read them back exactly once the raw rows are gone
 * (deleted behind the store's back here, as their short TTL would); a late point is visible at once
 * and re-writes the block; concurrent rollers write the same block; a corrupt block is a clear error.
 */
import type { Client } from 'cassandra-driver';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeBlock } from '../../src/cassandra/block-codec.js';
import { BLOCK_BUCKET_MS, bucketOf } from '../../src/cassandra/metrics-schema.js';
import { CassandraMetricsStore } from '../../src/cassandra/metrics-store.js';
import { seriesId, seriesKey } from '../../src/metrics-store/series-key.js';
import type { Point } from '../../src/metrics-store/types.js';
import { FakeClock, uniqueTenant } from '../../src/testing/metrics-store-conformance.js';
import { rejection } from '../helpers/errors.js';
import { describeWithService } from '../helpers/services.js';
import * as env from './cassandra-env.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Math.floor(Date.now() / DAY) * DAY - DAY;

const reason = await env.probeCassandra();
const ks = env.uniqueKeyspace('blocks');

/** Three hours at 10 s of one series: negative, decimal, tiny and repeated values. */
function hours(metric: string, tenant: string): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < 3 * 360; i++) {
    const value = i % 7 === 0 ? -i / 10 : i % 11 === 0 ? 5e-324 * i : i % 13 === 0 ? 42 : Math.sin(i) * 1e3;
    out.push({ metric, ts: T0 + i * 10_000, value, tenant });
  }
  return out;
}

describeWithService('CassandraMetricsStore points blocks', reason, () => {
  let client: Client;
  const clock = new FakeClock(T0 + 3 * HOUR + 10 * MIN);
  const connect = () =>
    CassandraMetricsStore.connect({
      contactPoints: env.contactPoints,
      localDataCenter: env.localDataCenter,
      keyspace: ks,
      rollupIntervalMs: 0,
      rawRowRetentionMs: HOUR,
      clock,
    });
  beforeAll(() => {
    client = env.rawClient();
  });
  afterAll(async () => {
    await client.shutdown();
    await env.dropKeyspaces([ks]);
  });

  const idOf = (metric: string) => seriesId(seriesKey(metric, undefined));
  async function blocks(metric: string, tenant: string): Promise<Map<number, Buffer>> {
    const rs = await client.execute(
      `SELECT block_start, data FROM ${ks}.points_block WHERE tenant = ? AND series_id = ? AND bucket = ?`,
      [tenant, idOf(metric), Math.floor(T0 / BLOCK_BUCKET_MS)],
      { prepare: true },
    );
    return new Map(rs.rows.map((r) => [(r.get('block_start') as Date).getTime(), r.get('data') as Buffer]));
  }
  /** What the raw rows' TTL would do: every raw row of the series gone. */
  async function dropRawRows(metric: string, tenant: string): Promise<void> {
    for (let b = bucketOf(T0, 'raw'); b <= bucketOf(T0 + 3 * HOUR, 'raw'); b++) {
      await client.execute(
        `DELETE FROM ${ks}.points_raw WHERE tenant = ? AND series_id = ? AND bucket = ?`,
        [tenant, idOf(metric), b],
        { prepare: true },
      );
    }
  }
  /** A store, a fresh tenant and {@link hours} of `metric` written through it; closed after `fn`. */
  async function withHours(
    metric: string,
    fn: (store: CassandraMetricsStore, tenant: string, pts: Point[]) => Promise<void>,
  ): Promise<void> {
    const store = await connect();
    const tenant = uniqueTenant();
    const pts = hours(metric, tenant);
    try {
      await store.write(pts);
      await fn(store, tenant, pts);
    } finally {
      await store.close();
    }
  }
  const rawQuery = (metric: string, tenant: string, from = T0, to = T0 + 3 * HOUR) => ({
    metric,
    tenant,
    from,
    to,
    resolution: 'raw' as const,
  });

  it('flush() - writes one block per closed hour; raw queries read them back exactly without raw rows', async () => {
    await withHours('b', async (store, tenant, pts) => {
      // written late (after their hour), raw rows live rawRowRetentionMs from now: an hour
      const ttl = await client.execute(
        `SELECT TTL(value) AS t FROM ${ks}.points_raw WHERE tenant = ? AND series_id = ? AND bucket = ? LIMIT 1`,
        [tenant, idOf('b'), bucketOf(T0, 'raw')],
        { prepare: true },
      );
      expect(ttl.first()?.get('t') as number).toBeLessThanOrEqual(3600);
      expect(ttl.first()?.get('t') as number).toBeGreaterThan(3600 - 120);
      await store.flush();
      const written = await blocks('b', tenant);
      expect([...written.keys()].sort()).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
      const second = decodeBlock(written.get(T0 + HOUR) as Buffer);
      expect(second.ts).toEqual(pts.slice(360, 720).map((p) => p.ts));
      expect(second.values).toEqual(pts.slice(360, 720).map((p) => p.value));

      await dropRawRows('b', tenant);
      const all = await store.query(rawQuery('b', tenant));
      expect(all[0]?.points).toEqual(pts.map((p) => ({ ts: p.ts, value: p.value })));
      // a range inside hours reads only its points
      const part = await store.query(rawQuery('b', tenant, T0 + 30 * MIN, T0 + 90 * MIN + 5_000));
      expect(part[0]?.points).toEqual(pts.slice(180, 541).map((p) => ({ ts: p.ts, value: p.value })));
    });
  });

  it('write() - a late point after its block was written is visible at once and re-written into the block', async () => {
    await withHours('late', async (store, tenant, pts) => {
      await store.flush();
      await dropRawRows('late', tenant);
      // one new timestamp and one replaced value, in the first hour
      await store.write([
        { metric: 'late', ts: T0 + 30 * MIN + 5_000, value: 0.5, tenant },
        { metric: 'late', ts: T0 + 40 * MIN, value: -7, tenant },
      ]);
      const want = pts.map((p) => ({ ts: p.ts, value: p.ts === T0 + 40 * MIN ? -7 : p.value }));
      want.splice(181, 0, { ts: T0 + 30 * MIN + 5_000, value: 0.5 });
      expect((await store.query(rawQuery('late', tenant)))[0]?.points).toEqual(want);
      await store.flush();
      await dropRawRows('late', tenant);
      expect((await store.query(rawQuery('late', tenant)))[0]?.points).toEqual(want);
      // the 5m rollup of the late slot was rebuilt from the block and the late row
      const slot = await store.query({ ...rawQuery('late', tenant), resolution: '5m' });
      expect(slot[0]?.points.find((p) => p.ts === T0 + 30 * MIN)).toMatchObject({ count: 31 });
    });
  });

  it('flush() - three rollers at once write the same blocks', async () => {
    const stores = await Promise.all([connect(), connect(), connect()]);
    const tenant = uniqueTenant();
    const pts = hours('conc', tenant);
    try {
      await (stores[0] as CassandraMetricsStore).write(pts);
      await Promise.all(stores.map((s) => s.flush()));
      const written = await blocks('conc', tenant);
      expect(written.size).toBe(3);
      const decoded = [...written.values()].flatMap((b) => {
        const { ts, values } = decodeBlock(b);
        return ts.map((t, i) => ({ ts: t, value: values[i] }));
      });
      expect(decoded).toEqual(pts.map((p) => ({ ts: p.ts, value: p.value })));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('query() - a corrupt block is E_CORRUPT_DATA naming the block', async () => {
    await withHours('bad', async (store, tenant) => {
      await store.flush();
      await dropRawRows('bad', tenant);
      const written = await blocks('bad', tenant);
      const data = Buffer.from(written.get(T0 + HOUR) as Buffer);
      data[20] = (data[20] as number) ^ 0x40;
      await client.execute(
        `UPDATE ${ks}.points_block SET data = ? WHERE tenant = ? AND series_id = ? AND bucket = ? AND block_start = ?`,
        [data, tenant, idOf('bad'), Math.floor(T0 / BLOCK_BUCKET_MS), T0 + HOUR],
        { prepare: true },
      );
      const err = await rejection(store.query(rawQuery('bad', tenant)));
      expect(err.code).toBe('E_CORRUPT_DATA');
      expect(err.path).toBe(`points_block[${tenant}/${idOf('bad')}/${new Date(T0 + HOUR).toISOString()}]`);
      expect(err.message).toMatch(/checksum mismatch/);
      // the other hours still read
      const first = await store.query(rawQuery('bad', tenant, T0, T0 + HOUR));
      expect(first[0]?.points).toHaveLength(360);
    });
  });
});
