import { afterAll, describe, expect, it } from 'vitest';
import { inventoryQueries } from '../../src/cassandra/inventory-schema.js';
import { CassandraInventoryStore } from '../../src/cassandra/inventory-store.js';
import { inventoryStoreConformance } from '../../src/testing/inventory-store-conformance.js';
import {
  contactPoints,
  dropKeyspaces,
  localDataCenter,
  probeCassandra,
  uniqueKeyspace,
} from '../cassandra/cassandra-env.js';
import { describeWithService } from '../helpers/services.js';

const keyspace = uniqueKeyspace('inventory_store');
const reason = await probeCassandra();

describeWithService('CassandraInventoryStore', reason, () => {
  afterAll(async () => {
    await dropKeyspaces([keyspace]);
  });
  inventoryStoreConformance('cassandra', async () => ({
    store: await CassandraInventoryStore.connect({ contactPoints, localDataCenter, keyspace }),
  }));
});

describe('CassandraInventoryStore.connect() validation', () => {
  it('rejects a keyspace that is not a plain CQL identifier before connecting', async () => {
    await expect(
      CassandraInventoryStore.connect({ contactPoints, localDataCenter, keyspace: 'x; DROP KEYSPACE y' }),
    ).rejects.toMatchObject({ code: 'E_VALIDATION', path: 'options.keyspace' });
    await expect(
      CassandraInventoryStore.connect({ localDataCenter, keyspace: 'ok' } as never),
    ).rejects.toMatchObject({ code: 'E_VALIDATION', path: 'options.contactPoints' });
  });

  it('restricts every statement by its full partition key, with bound values and no ALLOW FILTERING', () => {
    const partitionKeys: Record<string, string[]> = {
      inventory_nodes: ['tenant = ?', 'bucket = ?'],
      inventory_local_tags: ['tenant = ?', 'bucket = ?'],
      inventory_tag_index: ['tenant = ?', 'tag_key = ?'],
    };
    for (const [name, cql] of Object.entries(inventoryQueries('ks'))) {
      expect([name, /ALLOW FILTERING/i.test(cql)]).toEqual([name, false]);
      const table = /ks\.(\w+)/.exec(cql)![1]!;
      if (cql.startsWith('INSERT')) {
        expect(cql).toMatch(/VALUES \((\?, )*\?\)$/);
        continue;
      }
      for (const part of partitionKeys[table]!) expect([name, cql.includes(part)]).toEqual([name, true]);
    }
  });
});
