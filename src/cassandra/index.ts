/**
 * `@fleetwatch/sdk/cassandra`: the Apache Cassandra implementations of the stores.
 *
 * @packageDocumentation
 */
export type { MetricsStore } from '../metrics-store/types.js';
export * from './connection.js';
export * from './inventory-store.js';
export type { ReadStats } from './metrics-cql.js';
export type {
  CassandraMetricsStoreOptions,
  ConsistencyName,
  QuerySettings,
  WriteBufferSettings,
} from './metrics-options.js';
export * from './metrics-store.js';
export * from './schema.js';
