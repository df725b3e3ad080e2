/**
 * @fleetwatch/sdk — multi-cloud server inventory, monitoring and long-term metrics.
 *
 * Everything except the Cassandra store is exported from here; the Cassandra implementations live
 * in `@fleetwatch/sdk/cassandra` so apps that do not use Cassandra never load its driver.
 *
 * @packageDocumentation
 */

export * from './core.js';
export * from './errors.js';
export * from './inventory/inventory.js';
export * from './inventory/query.js';
export * from './inventory/store.js';
export * from './inventory/types.js';
export type { WatchOverflow } from './inventory/watch.js';
export * from './providers/types.js';
export * from './store/types.js';
