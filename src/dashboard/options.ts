/**
 * Options of `createDashboard()`, normalised once at the boundary.
 */
import type { IncomingMessage } from 'node:http';
import type { CheckScheduler } from '../checks/scheduler.js';
import { type Clock, type Logger, loggerAndClock, positiveNumber, rejectUnknownKeys } from '../core.js';
import { validationError } from '../errors.js';
import type { Inventory } from '../inventory/inventory.js';
import type { MetricsStore } from '../metrics-store/types.js';

/** How requests are authenticated. Exactly one of `token` or `authorize`. */
export type DashboardAuth =
  | {
      /** A shared secret: `Authorization: Bearer <token>` (API clients), or the page's login form. */
      token: string;
    }
  | {
      /**
       * Your own check (your app's session, an auth proxy header…): return true to allow. Called for
       * every API and stream request; it must not throw (a throw counts as false).
       */
      authorize(req: IncomingMessage): boolean | Promise<boolean>;
    };

/** The part of a MetricsBroker the dashboard listens to (its `flush` event). */
export interface DashboardBroker {
  /** Subscribe to the broker's `flush` events (one per persisted window). */
  on(
    event: 'flush',
    fn: (info: { windowStart: number; points: number; sketches: number; durationMs: number }) => void,
  ): unknown;
  /** Unsubscribe a `flush` listener given to `on`. */
  off(
    event: 'flush',
    fn: (info: { windowStart: number; points: number; sketches: number; durationMs: number }) => void,
  ): unknown;
}

/** Options of `createDashboard()`. */
export interface DashboardOptions {
  /** The inventory whose nodes, summary and changes the dashboard shows. */
  readonly inventory: Inventory;
  /** The check scheduler whose targets, states and results the dashboard shows. */
  readonly scheduler: CheckScheduler;
  /** The metrics store latency charts, series and percentiles are read from. */
  readonly store: MetricsStore;
  /** Window summaries on the stream come from its `flush` events. */
  readonly broker?: DashboardBroker;
  /** Required: a bearer token or an `authorize(req)` hook. */
  readonly auth: DashboardAuth;
  /**
   * The path the handler is mounted at when the framework does not strip it (plain
   * `http.createServer` under a prefix, Fastify `reply.hijack()`). @default ''
   */
  readonly basePath?: string;
  /** Refuse local tag edits. @default true */
  readonly readOnly?: boolean;
  /** Events kept for `Last-Event-ID` resume. @default 1000 (Minimum: 10) */
  readonly replayBuffer?: number;
  /** Heartbeat comment interval on the stream, ms. @default 15000 */
  readonly heartbeatMs?: number;
  /** Stream clients at once; more get 429. @default 1000 */
  readonly maxClients?: number;
  /** Bytes a stream client may leave unread before it is dropped (and counted). @default 1048576 */
  readonly maxClientBufferBytes?: number;
  /** Page size cap of `/api/v1/nodes`. @default 500 */
  readonly maxPageSize?: number;
  /** Longest time range of a store query, ms. @default 7 days */
  readonly maxRangeMs?: number;
  /** Deadline of one store query, ms. @default 10000 */
  readonly queryTimeoutMs?: number;
  /** Metric of check latency (gauge points, read at 5m rollups). @default 'check.duration' */
  readonly latencyMetric?: string;
  /** Metric of check latency sketches (p50/p99). @default the same as `latencyMetric` */
  readonly latencySketchMetric?: string;
  /** Session cookie lifetime, s. @default 900 */
  readonly sessionTtlS?: number;
  /** Time source for sessions, ranges and event timestamps. @default systemClock */
  readonly clock?: Clock;
  /** Where refused requests and stream errors are logged (never tokens). @default silentLogger */
  readonly logger?: Logger;
}

/** Options after defaults and checks. */
export interface NormalizedDashboardOptions {
  inventory: Inventory;
  scheduler: CheckScheduler;
  store: MetricsStore;
  broker: DashboardBroker | undefined;
  token: string | undefined;
  authorize: ((req: IncomingMessage) => boolean | Promise<boolean>) | undefined;
  basePath: string;
  readOnly: boolean;
  replayBuffer: number;
  heartbeatMs: number;
  maxClients: number;
  maxClientBufferBytes: number;
  maxPageSize: number;
  maxRangeMs: number;
  queryTimeoutMs: number;
  latencyMetric: string;
  latencySketchMetric: string;
  sessionTtlS: number;
  clock: Clock;
  logger: Logger;
}

const KEYS = [
  'inventory',
  'scheduler',
  'store',
  'broker',
  'auth',
  'basePath',
  'readOnly',
  'replayBuffer',
  'heartbeatMs',
  'maxClients',
  'maxClientBufferBytes',
  'maxPageSize',
  'maxRangeMs',
  'queryTimeoutMs',
  'latencyMetric',
  'latencySketchMetric',
  'sessionTtlS',
  'clock',
  'logger',
] as const;

const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)*$/;

function hasMethods(v: unknown, names: string[]): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return names.every((n) => typeof o[n] === 'function');
}

/** Check and default the options of `createDashboard()`; throws `E_VALIDATION` naming the field. */
export function normalizeDashboardOptions(o: DashboardOptions): NormalizedDashboardOptions {
  if (typeof o !== 'object' || o === null) throw validationError('options', 'an object', o);
  rejectUnknownKeys(o, KEYS);
  if (!hasMethods(o.inventory, ['query', 'nodes', 'providerStatus', 'on', 'off']))
    throw validationError('options.inventory', 'an Inventory', o.inventory);
  if (!hasMethods(o.scheduler, ['list', 'targetsOf', 'on', 'off']))
    throw validationError('options.scheduler', 'a CheckScheduler', o.scheduler);
  if (!hasMethods(o.store, ['query', 'queryPercentiles']))
    throw validationError('options.store', 'a MetricsStore', o.store);
  if (o.broker !== undefined && !hasMethods(o.broker, ['on', 'off']))
    throw validationError('options.broker', 'a MetricsBroker', o.broker);
  const auth = o.auth as Record<string, unknown> | undefined;
  if (typeof auth !== 'object' || auth === null)
    throw validationError(
      'options.auth',
      '{ token } or { authorize(req) } (authentication is required)',
      auth,
    );
  let token: string | undefined;
  let authorize: NormalizedDashboardOptions['authorize'];
  if ('token' in auth) {
    if (typeof auth.token !== 'string' || auth.token.length < 16)
      throw validationError('options.auth.token', 'a string of at least 16 characters', '(hidden)');
    token = auth.token;
  } else if (typeof auth.authorize === 'function') {
    authorize = auth.authorize as NormalizedDashboardOptions['authorize'];
  } else throw validationError('options.auth', '{ token } or { authorize(req) }', auth);
  const basePath = (o.basePath ?? '').replace(/\/$/, '');
  if (typeof o.basePath !== 'undefined' && (typeof o.basePath !== 'string' || !BASE_PATH.test(basePath)))
    throw validationError('options.basePath', "a path such as '/fleet'", o.basePath);
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean')
    throw validationError('options.readOnly', 'a boolean', o.readOnly);
  const int = (v: number | undefined, def: number, path: string, min: number) =>
    v === undefined ? def : positiveNumber(v, `options.${path}`, { integer: true, min });
  const metric = (v: unknown, path: string, def: string) => {
    if (v === undefined) return def;
    if (typeof v !== 'string' || !/^[A-Za-z0-9_.:/-]{1,200}$/.test(v))
      throw validationError(`options.${path}`, 'a metric name', v);
    return v;
  };
  const latencyMetric = metric(o.latencyMetric, 'latencyMetric', 'check.duration');
  return {
    inventory: o.inventory,
    scheduler: o.scheduler,
    store: o.store,
    broker: o.broker,
    token,
    authorize,
    basePath,
    readOnly: o.readOnly ?? true,
    replayBuffer: int(o.replayBuffer, 1000, 'replayBuffer', 10),
    heartbeatMs: int(o.heartbeatMs, 15_000, 'heartbeatMs', 10),
    maxClients: int(o.maxClients, 1000, 'maxClients', 1),
    maxClientBufferBytes: int(o.maxClientBufferBytes, 1 << 20, 'maxClientBufferBytes', 1024),
    maxPageSize: int(o.maxPageSize, 500, 'maxPageSize', 1),
    maxRangeMs: int(o.maxRangeMs, 7 * 86_400_000, 'maxRangeMs', 60_000),
    queryTimeoutMs: int(o.queryTimeoutMs, 10_000, 'queryTimeoutMs', 1),
    latencyMetric,
    latencySketchMetric: metric(o.latencySketchMetric, 'latencySketchMetric', latencyMetric),
    sessionTtlS: int(o.sessionTtlS, 900, 'sessionTtlS', 10),
    ...loggerAndClock(o),
  };
}
