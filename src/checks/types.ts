/**
 * Shared types of the checks area: metric values, check outcomes, targets and the small interfaces
 * through which the scheduler talks to the inventory, a metrics registry and a metrics store.
 */
import type { AbortOptions } from '../core.js';
import type { Point, WriteOptions, WriteResult } from '../metrics-store/types.js';
import type { Node } from '../providers/types.js';

/** A metric value a check reports: numbers, strings (`code` is a string, as in Rackspace) or booleans. */
export type MetricValue = number | string | boolean;

/** The metrics of one run, by name. */
export type CheckMetrics = Record<string, MetricValue>;

/** What a check type returns for one run. `error` set means the run failed (assertion or network). */
export interface CheckOutcome {
  /** Metrics measured, even on failure where some were. */
  metrics: CheckMetrics;
  /** Why the run failed, if it did. */
  error?: string;
  /**
   * Set when part of `error` is for an alarm to judge from the metrics (http: a status outside
   * `expectStatus`, which the alarm sees as `code`). When the check has an alarm, the run fails only
   * for `remaining` (not at all when it is absent); without an alarm, `error` stands.
   */
  alarmable?: { remaining?: string };
}

/** The concrete thing a check runs against, with the values its placeholders expand to. */
export interface CheckTarget {
  /** Stable key: the node uid for inventory targets, otherwise the host/URL as written. */
  key: string;
  /** Host name or IP address to connect to (`{host}`; for inventory nodes the chosen IP). */
  host: string;
  /** The IP (`{ip}`); for a plain host target, the host itself. */
  ip: string;
  /** Display name (`{name}`). */
  name: string;
  /** The target as written when it is a URL (used by `http` when it has no `url`). */
  url?: string;
  /** Port given in a `host:port` target. */
  port?: number;
  /** The inventory node behind this target, if any. */
  node?: Node;
}

/** A check type implementation: validates its own config block and runs once. */
export interface CheckType<C> {
  /** The `type` name used in check definitions. */
  readonly type: string;
  /** Validate and default the type's config block (path names the field in errors). */
  normalize(config: unknown, path: string): C;
  /**
   * Check a static target (a host, `host:port` or URL written in the check) at `add()`. Returns what
   * was expected when the target cannot work for this type, else `undefined`.
   */
  checkTarget?(target: CheckTarget, config: C): string | undefined;
  /** Run once against a target, honouring `opts.signal` (fired at the timeout). */
  run(config: C, target: CheckTarget, opts: AbortOptions & { timeoutMs: number }): Promise<CheckOutcome>;
}

/** The part of the Inventory the scheduler uses: query plus change events. */
export interface CheckInventory {
  /** Nodes matching a tag query (`tag:role=web and state:running`). */
  query(q: string): Node[];
  /** Subscribe to inventory changes (`added`, `removed`, `changed`). */
  on(event: 'added' | 'removed' | 'changed', fn: () => void): unknown;
  /** Unsubscribe. */
  off(event: 'added' | 'removed' | 'changed', fn: () => void): unknown;
}

/** A gauge handle, as a metrics registry hands it out. */
export interface CheckGauge {
  set(value: number): void;
}

/** The part of a metrics registry the scheduler uses to record check metrics and self-metrics. */
export interface CheckMetricsRegistry {
  gauge(name: string, tags?: Record<string, string>): CheckGauge;
}

/** The part of a MetricsStore the scheduler writes check points to. */
export interface CheckPointStore {
  write(points: readonly Point[], opts?: WriteOptions): Promise<WriteResult>;
}
