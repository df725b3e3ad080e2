import { hostname } from 'node:os';
import {
  type AbortOptions,
  type Clock,
  type Logger,
  loggerAndClock,
  nonEmptyString,
  positiveNumber,
  rejectUnknownKeys,
} from '../core.js';
import { validationError } from '../errors.js';
import { type BrokerOtlpOptions, normalizeOtlpOptions } from '../interop/otlp-receiver.js';
import type { MetricsStore } from '../metrics-store/types.js';
import { DEFAULT_MAX_STATSD_LINE_LENGTH } from './statsd.js';
import { DEFAULT_MAX_FRAME_BYTES } from './wire.js';

/** StatsD listener options. */
export interface BrokerStatsdOptions {
  /** UDP port (0 picks a free one, see `broker.statsdPort`). */
  port: number;
  /** @default the broker's `host` */
  host?: string;
  /** Kernel receive buffer in bytes. @default 8 MiB */
  recvBufferSize?: number;
  /** Longest line, characters; longer ones are dropped and counted (`statsdLinesTooLong`). @default 4096 */
  maxLineLength?: number;
}

/** Options of `MetricsBroker.start`. */
export interface MetricsBrokerOptions extends AbortOptions {
  /** Where closed windows go. Without one the broker only keeps cumulative totals (for Prometheus). */
  store?: MetricsStore;
  /**
   * This broker's id: the `broker` tag of self-metrics and the prefix of the write `source` (each
   * running instance writes as `<id>/<random instance id>`, so a restarted broker adds to, and never
   * replaces, what the previous instance wrote). @default `hostname:pid`
   */
  id?: string;
  /** Listen on this Unix socket path (a stale socket file is replaced). */
  socketPath?: string;
  /** Listen on this TCP port (0 picks one, see `broker.port`). */
  port?: number;
  /** TCP host. @default '127.0.0.1' */
  host?: string;
  /** Listen for StatsD / DogStatsD lines over UDP. */
  statsd?: BrokerStatsdOptions;
  /** Accept OTLP/HTTP metrics (protobuf and JSON) on this port; see `broker.otlpUrl` and docs/interop.md. */
  otlp?: BrokerOtlpOptions;
  /** Window length; windows start at multiples of it (epoch ms). @default 10000 */
  intervalMs?: number;
  /** How long after its end a window stays open for stragglers. @default 2000 */
  graceMs?: number;
  /** Percentiles written for each histogram (`h.p50`, …). @default [0.5, 0.9, 0.99, 0.999] */
  quantiles?: number[];
  /** Most distinct series kept; new ones beyond are dropped and counted. @default 200000 */
  maxSeries?: number;
  /** Series merged or flushed between yields to the event loop. @default 1000 */
  chunkSize?: number;
  /** Closed windows kept for retry while the store fails; older ones are dropped and counted. @default 6 */
  maxPendingWindows?: number;
  /** Frames waiting to be merged before new ones are refused (unacknowledged, so clients resend). @default 10000 */
  maxQueuedFrames?: number;
  /** Largest frame accepted, bytes; at most `maxBufferedBytes`. @default 16 MiB */
  maxFrameBytes?: number;
  /**
   * Bytes held across all connections: partial frames plus frames waiting to be merged. A connection
   * whose next chunk would go beyond is closed and counted (`bufferOverflows`). @default 32 MiB
   */
  maxBufferedBytes?: number;
  /** Socket connections open at once; more are closed at accept and counted. @default 1024 */
  maxConnections?: number;
  /** A connection that sends nothing for this long is closed (`idleTimeouts`). @default 120000 */
  idleTimeoutMs?: number;
  /** A frame whose first bytes arrived must be complete within this long (`frameTimeouts`). @default 30000 */
  frameTimeoutMs?: number;
  /**
   * Client streams (source id and epoch) remembered for duplicate detection,
   * and the least recently seen tenth is forgotten when it is full (`sourcesEvicted`). @default 4096
   */
  maxSources?: number;
  /**
   * How far back a starting broker reads the high-water sequences the store holds, to drop resends
   * of frames an earlier instance wrote. @default 3600000 (1 h)
   */
  dedupeLookbackMs?: number;
  /** Relative accuracy of sketches built from StatsD samples. @default 0.01 */
  statsdAccuracy?: number;
  /** Most members kept per StatsD set per window. @default 10000 */
  maxSetMembers?: number;
  /** Tenant of the written points. @default the store's default */
  tenant?: string;
  /** Write `fleetwatch.broker.*` self-metrics with each window. @default true */
  selfMetrics?: boolean;
  /** Close windows on a timer. Turn off to drive closing with `flushDue()` and a fake clock. @default true */
  autoFlush?: boolean;
  /** The clock for window boundaries and grace periods. @default `Date.now()` */
  clock?: Clock;
  /** A pino-compatible logger for bad frames, store failures and retries. @default silent */
  logger?: Logger;
}

const MiB = 1024 * 1024;

/** The defaults of {@link MetricsBrokerOptions}. */
export const BROKER_DEFAULTS = {
  host: '127.0.0.1',
  intervalMs: 10_000,
  graceMs: 2_000,
  quantiles: [0.5, 0.9, 0.99, 0.999],
  maxSeries: 200_000,
  chunkSize: 1_000,
  maxPendingWindows: 6,
  maxQueuedFrames: 10_000,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxBufferedBytes: 32 * MiB,
  maxConnections: 1024,
  idleTimeoutMs: 120_000,
  frameTimeoutMs: 30_000,
  maxSources: 4_096,
  dedupeLookbackMs: 3_600_000,
  statsdAccuracy: 0.01,
  maxSetMembers: 10_000,
  selfMetrics: true,
  autoFlush: true,
} as const;

const OPTION_KEYS = [
  ...Object.keys(BROKER_DEFAULTS),
  'store',
  'id',
  'socketPath',
  'port',
  'statsd',
  'otlp',
  'tenant',
  'clock',
  'logger',
  'signal',
];

/** Options after defaults, checked. */
export type NormalizedOptions = Required<
  Omit<MetricsBrokerOptions, 'store' | 'socketPath' | 'port' | 'statsd' | 'otlp' | 'tenant' | 'signal'>
> &
  Pick<MetricsBrokerOptions, 'store' | 'socketPath' | 'port' | 'statsd' | 'otlp' | 'tenant'>;

const INTEGER_OPTIONS: ReadonlyArray<[keyof typeof BROKER_DEFAULTS, number]> = [
  ['intervalMs', 1],
  ['graceMs', 0],
  ['maxSeries', 1],
  ['chunkSize', 1],
  ['maxPendingWindows', 0],
  ['maxQueuedFrames', 1],
  ['maxFrameBytes', 16],
  ['maxBufferedBytes', 16],
  ['maxConnections', 1],
  ['idleTimeoutMs', 1],
  ['frameTimeoutMs', 1],
  ['maxSources', 1],
  ['dedupeLookbackMs', 0],
  ['maxSetMembers', 1],
];

/** Apply the defaults once and check every field; throws `E_VALIDATION` naming the field. */
export function normalizeOptions(options: MetricsBrokerOptions): NormalizedOptions {
  if (options === null || typeof options !== 'object') throw validationError('options', 'an object', options);
  rejectUnknownKeys(options, OPTION_KEYS);
  const o = {
    ...BROKER_DEFAULTS,
    id: `${hostname()}:${process.pid}`,
    ...options,
    ...loggerAndClock(options),
  };
  nonEmptyString(o.id, 'options.id');
  if (o.id.length > 150) throw validationError('options.id', 'at most 150 characters', o.id);
  nonEmptyString(o.host, 'options.host');
  if (o.socketPath !== undefined) nonEmptyString(o.socketPath, 'options.socketPath');
  if (o.port !== undefined) positiveNumber(o.port, 'options.port', { integer: true, min: 0 });
  for (const [key, min] of INTEGER_OPTIONS) positiveNumber(o[key], `options.${key}`, { integer: true, min });
  if (o.maxFrameBytes > o.maxBufferedBytes) {
    throw validationError('options.maxFrameBytes', 'at most options.maxBufferedBytes', o.maxFrameBytes);
  }
  if (!(o.statsdAccuracy > 0 && o.statsdAccuracy <= 0.5)) {
    throw validationError('options.statsdAccuracy', 'a number in (0, 0.5]', o.statsdAccuracy);
  }
  if (!Array.isArray(o.quantiles) || o.quantiles.some((q) => typeof q !== 'number' || !(q > 0 && q < 1))) {
    throw validationError('options.quantiles', 'an array of numbers in (0, 1)', o.quantiles);
  }
  if (o.otlp !== undefined) normalizeOtlpOptions(o.otlp, 'options.otlp');
  if (o.statsd !== undefined) {
    if (o.statsd === null || typeof o.statsd !== 'object')
      throw validationError('options.statsd', 'an object', o.statsd);
    rejectUnknownKeys(o.statsd, ['port', 'host', 'recvBufferSize', 'maxLineLength'], 'options.statsd');
    positiveNumber(o.statsd.port, 'options.statsd.port', { integer: true, min: 0 });
    positiveNumber(o.statsd.maxLineLength ?? DEFAULT_MAX_STATSD_LINE_LENGTH, 'options.statsd.maxLineLength', {
      integer: true,
      min: 1,
    });
  }
  if (
    o.store !== undefined &&
    (typeof o.store.write !== 'function' || typeof o.store.writeSketches !== 'function')
  ) {
    throw validationError('options.store', 'a MetricsStore', o.store);
  }
  const { signal: _signal, ...rest } = o as typeof o & { signal?: AbortSignal };
  return Object.freeze(rest) as NormalizedOptions;
}
