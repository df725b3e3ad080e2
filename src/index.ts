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
export * from './providers/types.js';
export * from './store/types.js';
