/**
 * The metrics broker area: the broker, its socket client, the cluster/IPC transport, the wire
 * protocol and the StatsD parser.
 */
export type { AggregateKind, CumulativeSeries } from './aggregate.js';
export * from './broker.js';
export * from './client.js';
export * from './cluster.js';
export * from './protocol.js';
export * from './statsd.js';
