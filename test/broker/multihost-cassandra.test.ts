/** Two brokers writing the same window into one CassandraMetricsStore (Cassandra 5 on 127.0.0.1:9042). */
import type { Client } from 'cassandra-driver';
import { afterAll, afterEach, it } from 'vitest';
import { CassandraMetricsStore } from '../../src/cassandra/metrics-store.js';
import { dropKeyspaces, probeCassandra, rawClient, uniqueKeyspace } from '../cassandra/cassandra-env.js';
import { describeWithService } from '../helpers/services.js';
import { FakeClock } from './helpers.js';
import { closeBrokers, expectCombined, T0 } from './multihost-scenario.js';

const reason = await probeCassandra();
const keyspace = uniqueKeyspace('broker');
let client: Client | undefined;

describeWithService('two brokers, one CassandraMetricsStore', reason, () => {
  afterEach(closeBrokers);
  afterAll(async () => {
    await client?.shutdown();
    await dropKeyspaces([keyspace]);
  });

  it('combines counters, gauges, histogram stats and sketches across brokers', async () => {
    client ??= rawClient();
    const clock = new FakeClock(T0 + 1_000);
    const store = await CassandraMetricsStore.connect({ client, keyspace, rollupIntervalMs: 0, clock });
    try {
      await expectCombined(store, clock, `run${Math.random().toString(36).slice(2, 8)}_`);
    } finally {
      await store.close();
    }
  }, 120_000);
});
