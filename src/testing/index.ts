/**
 * `@fleetwatch/sdk/testing`: the conformance suites every implementation of a fleetwatch interface
 * must pass, shipped so that a third-party metrics store, inventory store or provider can prove
 * itself. The suites register vitest tests (`describe`/`it`), so call them from a vitest test file;
 * `vitest` is an optional peer dependency of this entry.
 *
 * @packageDocumentation
 */
export type { StoreUnderTest as InventoryStoreUnderTest } from './inventory-store-conformance.js';
export { inventoryStoreConformance } from './inventory-store-conformance.js';
export type { ConformanceStoreOptions, MakeMetricsStore } from './metrics-store-conformance.js';
export { FakeClock, metricsStoreConformance } from './metrics-store-conformance.js';
export type { ProviderUnderTest } from './provider-conformance.js';
export { providerConformance } from './provider-conformance.js';
export type { ManagedProviderUnderTest } from './provider-management-conformance.js';
export { providerManagementConformance } from './provider-management-conformance.js';
