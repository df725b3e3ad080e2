/**
 * `@fleetwatch/sdk`: multi-cloud server inventory, monitoring and long-term metrics.
 *
 * Everything except the Cassandra stores is exported from here; they live in
 * `@fleetwatch/sdk/cassandra` so that apps which do not use Cassandra never load (or install) its
 * driver. The conformance suites for third-party stores and providers are `@fleetwatch/sdk/testing`.
 *
 * Every name below is listed on purpose (no `export *`): what the guides (README.md, docs/) teach is
 * public, the rest is internal. `etc/sdk.api.md` is the committed API report; `npm run api` updates it
 * and CI (`npm run api:check`) fails when this list changes without the report.
 *
 * @packageDocumentation
 */

// broker
export type { MetricsBrokerEvents, MetricsBrokerOptions } from './broker/broker.js';
export { MetricsBroker } from './broker/broker.js';
export type { BrokerClient, ConnectBrokerOptions } from './broker/client.js';
export { connectBroker } from './broker/client.js';
export type { ClusterReporter } from './broker/cluster.js';
export { attachCluster, attachProcess, clusterReporter } from './broker/cluster.js';
// checks
export type { AlarmState } from './checks/alarm.js';
export { testAlarm } from './checks/alarm.js';
export type { CheckDefinition } from './checks/definition.js';
export type {
  CheckResultEvent,
  CheckSchedulerEvents,
  CheckSchedulerOptions,
} from './checks/scheduler.js';
export { CheckScheduler, testCheck } from './checks/scheduler.js';
export type { CheckStateRecord, CheckStateStore } from './checks/state.js';
export { MemoryCheckStateStore } from './checks/state.js';
export type { CheckMetrics, CheckOutcome, CheckTarget, CheckType } from './checks/types.js';
export type { CheckStateEvent, StateNotifier, WebhookNotifierOptions } from './checks/webhook.js';
export { webhookNotifier } from './checks/webhook.js';
// errors and shared conventions
export type { AbortOptions, Clock, Logger } from './core.js';
export type { FleetwatchErrorCode, FleetwatchErrorContext } from './errors.js';
export { ERROR_CODES, FleetwatchError } from './errors.js';
// interop
export type { OtlpExporterOptions } from './interop/otlp-exporter.js';
export { OtlpExporter } from './interop/otlp-exporter.js';
// inventory
export type { InventoryOptions } from './inventory/inventory.js';
export { Inventory } from './inventory/inventory.js';
export type { InventorySnapshot, InventoryStore, StoredNode } from './inventory/inventory-store.js';
export { MemoryInventoryStore } from './inventory/inventory-store.js';
export type {
  InventoryChange,
  InventoryEvents,
  InventoryNode,
  ProviderSyncReport,
  SyncReport,
} from './inventory/types.js';
// metrics
export type { Counter } from './metrics/counter.js';
export type { ExponentialHistogramPoint } from './metrics/exponential.js';
export type { Gauge } from './metrics/gauge.js';
export type { Histogram } from './metrics/histogram.js';
export type { Meter } from './metrics/meter.js';
export type { PrometheusOptions } from './metrics/prometheus.js';
export { toPrometheusText } from './metrics/prometheus.js';
export { prometheusHandler } from './metrics/prometheus-http.js';
export type {
  HistogramOptions,
  MetricsRegistryOptions,
} from './metrics/registry.js';
export { MetricsRegistry } from './metrics/registry.js';
export { DDSketch } from './metrics/sketch.js';
export type { Timer } from './metrics/timer.js';
export type { MetricsSink, WindowSnapshot } from './metrics/types.js';
// metrics store
export type { MemoryMetricsStoreOptions } from './metrics-store/memory.js';
export { MemoryMetricsStore } from './metrics-store/memory.js';
export type {
  CombinePolicy,
  MetricsQuery,
  MetricsStore,
  PercentileQuery,
  PercentileResult,
  Point,
  RawPoint,
  Resolution,
  Retention,
  RollupPoint,
  Series,
  SeriesInfo,
  SketchPoint,
  WriteOptions,
  WriteResult,
} from './metrics-store/types.js';
// providers
export type { AzureOptions } from './providers/azure.js';
export { azure } from './providers/azure.js';
export type { DigitalOceanOptions } from './providers/digitalocean.js';
export { digitalocean } from './providers/digitalocean.js';
export type { Ec2Credentials, Ec2Options } from './providers/ec2.js';
export { ec2 } from './providers/ec2.js';
export type { GceOptions } from './providers/gce.js';
export { gce } from './providers/gce.js';
export type { HetznerOptions } from './providers/hetzner.js';
export { hetzner } from './providers/hetzner.js';
export type { ProviderHttpOptions } from './providers/kit/index.js';
export type { LinodeOptions } from './providers/linode.js';
export { linode } from './providers/linode.js';
export type { OpenStackOptions } from './providers/openstack.js';
export { openstack } from './providers/openstack.js';
export type { StaticNodeInput, StaticProviderOptions } from './providers/static.js';
export { staticProvider } from './providers/static.js';
export type {
  CommonProviderOptions,
  CreateNodeInput,
  KeyPair,
  ListCatalogOptions,
  ListImagesOptions,
  ListNodesOptions,
  ManagedProvider,
  Node,
  NodeImage,
  NodeLocation,
  NodeSize,
  NodeState,
  Operation,
  Provider,
  ProviderKind,
  StopNodeOptions,
  WaitOptions,
} from './providers/types.js';
export type { VultrOptions } from './providers/vultr.js';
export { vultr } from './providers/vultr.js';

// naming rules (metric names, tag keys and values, tenants): the one naming-rules module is exported here
