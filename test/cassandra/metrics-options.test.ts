/**
 * CassandraMetricsStore without a running Cassandra: option validation and defaults, identifier
 * checks, the statement texts, and an unreachable cluster.
 */
import { expect, it } from 'vitest';
import { metricsStatements } from '../../src/cassandra/metrics-cql.js';
import { normalizeStoreOptions } from '../../src/cassandra/metrics-options.js';
import { CassandraMetricsStore } from '../../src/cassandra/metrics-store.js';
import { validateIdentifier } from '../../src/cassandra/schema.js';
import { FleetwatchError } from '../../src/errors.js';
import { rejection } from '../helpers/errors.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

it('validateIdentifier() - accepts lower-case CQL identifiers only', () => {
  expect(validateIdentifier('fleetwatch_1', 'keyspace')).toBe('fleetwatch_1');
  for (const bad of ['', '1abc', 'Fleet', 'a-b', 'a;DROP', 'x'.repeat(49), 3]) {
    expect(() => validateIdentifier(bad, 'keyspace')).toThrow(FleetwatchError);
  }
});

it('normalizeStoreOptions() - consistency defaults follow the replication factor', () => {
  const base = { contactPoints: ['127.0.0.1'], localDataCenter: 'dc1', keyspace: 'k' };
  const one = normalizeStoreOptions(base);
  expect([one.readConsistency, one.writeConsistency]).toEqual([10, 10]); // LOCAL_ONE
  const three = normalizeStoreOptions({
    ...base,
    replication: { class: 'NetworkTopologyStrategy', dataCenters: { dc1: 3 } },
  });
  expect([three.readConsistency, three.writeConsistency]).toEqual([6, 6]); // LOCAL_QUORUM
  const set = normalizeStoreOptions({ ...base, consistency: { read: 'one', write: 'all' } });
  expect([set.readConsistency, set.writeConsistency]).toEqual([1, 5]);
});

it('normalizeStoreOptions() - raw rows live a day by default, never longer than the raw retention', () => {
  const base = { contactPoints: ['127.0.0.1'], localDataCenter: 'dc1', keyspace: 'k' };
  expect(normalizeStoreOptions(base).rawRowRetentionMs).toBe(DAY);
  expect(normalizeStoreOptions({ ...base, rawRowRetentionMs: 2 * HOUR }).rawRowRetentionMs).toBe(2 * HOUR);
  expect(normalizeStoreOptions({ ...base, retention: { raw: 3 * HOUR } }).rawRowRetentionMs).toBe(3 * HOUR);
});

it('normalizeStoreOptions() - rejects bad options naming the field, never echoing credentials', () => {
  const base = { contactPoints: ['127.0.0.1'], localDataCenter: 'dc1', keyspace: 'k' };
  const cases: Array<[unknown, string]> = [
    [{ ...base, keyspace: 'Bad-Name' }, 'options.keyspace'],
    [{ ...base, keyspace: 'x; DROP KEYSPACE y' }, 'options.keyspace'],
    [{ ...base, contactPoints: [] }, 'options.contactPoints'],
    [{ ...base, localDataCenter: undefined }, 'options.localDataCenter'],
    [
      { ...base, replication: { class: 'SimpleStrategy', replicationFactor: 0 } },
      'options.replication.replicationFactor',
    ],
    [{ ...base, replication: { class: 'Other' } }, 'options.replication.class'],
    [
      { ...base, replication: { class: 'NetworkTopologyStrategy', dataCenters: { "dc'1": 3 } } },
      'options.replication.dataCenters',
    ],
    [{ ...base, consistency: { write: 'two' } }, 'options.consistency.write'],
    [{ ...base, writeBuffer: { maxPoints: 0 } }, 'options.writeBuffer.maxPoints'],
    [{ ...base, retention: { raw: -1 } }, 'options.retention.raw'],
    [{ ...base, rollupIntervalMs: -5 }, 'options.rollupIntervalMs'],
    [{ ...base, rawRowRetentionMs: 60_000 }, 'options.rawRowRetentionMs'],
    [{ ...base, colour: 'red' }, 'options.colour'],
  ];
  for (const [opts, path] of cases) {
    let err: unknown;
    try {
      normalizeStoreOptions(opts as never);
    } catch (e) {
      err = e;
    }
    expect(err, path).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code).toBe('E_VALIDATION');
    expect((err as FleetwatchError).path).toBe(path);
  }
  let err: unknown;
  try {
    normalizeStoreOptions({
      ...base,
      credentials: { username: 'u', password: 12345678 as unknown as string },
    });
  } catch (e) {
    err = e;
  }
  expect((err as FleetwatchError).path).toBe('options.credentials');
  expect(JSON.stringify(err)).not.toContain('12345678');
});

it('connect() - an unreachable cluster is E_STORE_UNAVAILABLE, and the password never shows', async () => {
  const err = await rejection(
    CassandraMetricsStore.connect({
      contactPoints: ['127.0.0.1:1'],
      localDataCenter: 'datacenter1',
      keyspace: 'fw_unreachable',
      credentials: { username: 'fw', password: 's3cret-pw' },
    }),
  );
  expect(err.code).toBe('E_STORE_UNAVAILABLE');
  expect(`${err.message} ${JSON.stringify(err)}`).not.toContain('s3cret-pw');
});

it('metricsStatements() - every read restricts a full partition key and never uses ALLOW FILTERING', () => {
  const all = JSON.stringify(metricsStatements('k'));
  expect(all).not.toMatch(/ALLOW FILTERING/i);
  const texts = (v: unknown): string[] =>
    typeof v === 'string' ? [v] : Object.values(v as Record<string, unknown>).flatMap(texts);
  for (const [name, text] of Object.entries(metricsStatements('k'))) {
    for (const t of texts(text)) {
      if (t.startsWith('SELECT')) expect(t, name).toMatch(/ WHERE /);
      expect(t, name).not.toMatch(/'[^']*'/); // no literals: every value is bound
    }
  }
});
