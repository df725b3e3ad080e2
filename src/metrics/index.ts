/**
 * Per-process metrics: the registry and its instruments, the DDSketch, and Prometheus exposition.
 */
export * from './counter.js';
export type { DropCounts } from './drops.js';
export * from './exponential.js';
export * from './gauge.js';
export * from './histogram.js';
export * from './meter.js';
export * from './prometheus.js';
export * from './prometheus-buckets.js';
export * from './prometheus-http.js';
export * from './prometheus-names.js';
export * from './registry.js';
export * from './sketch.js';
export * from './timer.js';
export * from './types.js';
