/**
 * CassandraMetricsStore against a real Cassandra: the shared MetricsStore conformance suite. All the
 * stores of this file share one keyspace (each test uses its own tenant) and one driver client.
 */
import type { Client } from 'cassandra-driver';
import { afterAll } from 'vitest';
import { CassandraMetricsStore } from '../../src/cassandra/metrics-store.js';
import { metricsStoreConformance } from '../conformance/metrics-store.js';
import { describeWithService } from '../helpers/services.js';
import { dropKeyspaces, probeCassandra, rawClient, uniqueKeyspace } from './cassandra-env.js';

const reason = await probeCassandra();
const keyspace = uniqueKeyspace('conf');
let client: Client | undefined;

describeWithService('CassandraMetricsStore conformance', reason, () => {
  afterAll(async () => {
    await client?.shutdown();
    await dropKeyspaces([keyspace]);
  });

  metricsStoreConformance('CassandraMetricsStore', async ({ retention, clock }) => {
    client ??= rawClient();
    return CassandraMetricsStore.connect({
      client,
      keyspace,
      rollupIntervalMs: 0,
      ...(retention ? { retention } : {}),
      ...(clock ? { clock } : {}),
    });
  });
});
