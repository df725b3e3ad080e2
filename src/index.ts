/**
 * @fleetwatch/sdk — multi-cloud server inventory, monitoring and long-term metrics.
 *
 * Everything except the Cassandra store is exported from here; the Cassandra implementations live
 * in `@fleetwatch/sdk/cassandra` so apps that do not use Cassandra never load its driver.
 *
 * @packageDocumentation
 */

export * from './broker/index.js';
export * from './checks/index.js';
export * from './core.js';
export * from './errors.js';
export * from './interop/index.js';
export * from './inventory/inventory.js';
export * from './inventory/inventory-store.js';
export * from './inventory/query.js';
export * from './inventory/types.js';
export type { WatchOverflow } from './inventory/watch.js';
export * from './metrics/index.js';
export * from './metrics-store/memory.js';
export type { ResolutionChoice } from './metrics-store/resolution.js';
export {
  chooseResolution,
  DEFAULT_QUERY_POINTS,
  DEFAULT_RAW_INTERVAL_MS,
} from './metrics-store/resolution.js';
export { parseSeriesKey, seriesKey } from './metrics-store/series-key.js';
export * from './metrics-store/types.js';
export {
  COMBINE_POLICIES,
  MAX_FUTURE_MS,
  MAX_METRIC_LENGTH,
  MAX_QUANTILES,
  MAX_QUERY_POINTS,
  MAX_SOURCE_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  MAX_TAGS,
  MAX_TENANT_LENGTH,
  METRIC_NAME_RE,
  TAG_KEY_RE,
  TENANT_RE,
} from './metrics-store/validate.js';
export type {
  CloudProviderOptions,
  NodeControlOperation,
  NodeLifecycleOperation,
  ProviderWith,
} from './providers/adapter.js';
export * from './providers/azure.js';
export * from './providers/digitalocean.js';
export * from './providers/ec2.js';
export * from './providers/ec2-xml.js';
export * from './providers/gce.js';
export type {
  NormalizedProviderHttpOptions,
  ProviderGotOptions,
  ProviderHttpOptions,
  RetryDelayInput,
} from './providers/http.js';
export { PROVIDER_USER_AGENT, parseRetryAfterMs, providerRetryDelayMs, redactUrl } from './providers/http.js';
export * from './providers/linode.js';
export * from './providers/openstack.js';
export * from './providers/openstack-catalog.js';
export * from './providers/static.js';
export * from './providers/types.js';
