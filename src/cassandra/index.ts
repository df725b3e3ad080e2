/**
 * `@fleetwatch/sdk/cassandra`: the Apache Cassandra implementations of the metrics and inventory
 * stores, and the schema-migration helpers they use.
 *
 * `cassandra-driver` is an optional peer dependency: install it beside the SDK
 * (`npm install cassandra-driver`). It is loaded on first use (connecting a store), not when this
 * entry is imported; when it is missing that call rejects with `E_DEPENDENCY` naming the install
 * command.
 *
 * @packageDocumentation
 */
export type { MetricsStore } from '../metrics-store/types.js';
export type { BlockPoints } from './block-codec.js';
export { BLOCK_FORMAT_VERSION, decodeBlock, encodeBlock } from './block-codec.js';
export type { CassandraConnectionOptions } from './connection.js';
export type { CassandraInventoryStoreOptions } from './inventory-store.js';
export { CassandraInventoryStore } from './inventory-store.js';
export type { ReadStats } from './metrics-cql.js';
export type {
  CassandraMetricsStoreOptions,
  ConsistencyName,
  QuerySettings,
  WriteBufferSettings,
} from './metrics-options.js';
export { CassandraMetricsStore } from './metrics-store.js';
export type { EnsureSchemaOptions, Migration, ReplicationOptions } from './schema.js';
export { ensureKeyspace, ensureSchema } from './schema.js';
