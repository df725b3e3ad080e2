/**
 * `@fleetwatch/sdk/cassandra`: the Apache Cassandra implementations of the stores.
 *
 * @packageDocumentation
 */
export type { MetricsStore } from '../store/types.js';
