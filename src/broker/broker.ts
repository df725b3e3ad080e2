/**
 * MetricsBroker: one per host. Receives one frame per process per window (socket, TCP, cluster IPC)
 * and StatsD lines (UDP), merges them into wall-clock-aligned windows, and after `graceMs` writes each
 * closed window to a {@link MetricsStore} — counters as sums, gauges per policy, histograms as
 * count/sum/min/max/percentiles plus their merged sketch — then acknowledges the frames it holds.
 *
 * @example
 * ```ts
 * const broker = await MetricsBroker.start({ store, socketPath: '/run/fleetwatch.sock', statsd: { port: 8125 } });
 * // in each process: registry.reportTo(await connectBroker({ socketPath: '/run/fleetwatch.sock' }));
 * await broker.close();
 * ```
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { EventEmitter } from 'eventemitter3';
import {
  type AbortOptions,
  type Clock,
  type Logger,
  nonEmptyString,
  positiveNumber,
  rejectUnknownKeys,
  silentLogger,
  systemClock,
} from '../core.js';
import { FleetwatchError, throwIfAborted, validationError } from '../errors.js';
import {
  type BrokerOtlpOptions,
  normalizeOtlpOptions,
  type OtlpReceiver,
  type OtlpReceiverStats,
  startOtlpReceiver,
} from '../interop/otlp-receiver.js';
import { type PrometheusOptions, toPrometheusText } from '../metrics/prometheus.js';
import type { MetricsStore, Point } from '../metrics-store/types.js';
import { MAX_FUTURE_MS } from '../metrics-store/validate.js';
import {
  type CumulativeSeries,
  CumulativeTotals,
  SeriesDictionary,
  WindowPoints,
  WindowState,
} from './aggregate.js';
import type { IngestBatch, IngestResult } from './ingest.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameEncoder,
  FrameSplitter,
  readWindowFrame,
  type WindowReader,
  wireSeriesKey,
} from './protocol.js';
import { listenStatsd, parseStatsd, type StatsdListener, type StatsdMetric } from './statsd.js';

/** StatsD listener options. */
export interface BrokerStatsdOptions {
  /** UDP port (0 picks a free one, see `broker.statsdPort`). */
  port: number;
  /** @default the broker's `host` */
  host?: string;
  /** Kernel receive buffer in bytes. @default 8 MiB */
  recvBufferSize?: number;
}

/** Options of {@link MetricsBroker.start}. */
export interface MetricsBrokerOptions extends AbortOptions {
  /** Where closed windows go. Without one the broker only keeps cumulative totals (for Prometheus). */
  store?: MetricsStore;
  /** This broker's id: the store write `source` and the `broker` tag of self-metrics. @default `hostname:pid` */
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
  /** Largest frame accepted, bytes. @default 64 MiB */
  maxFrameBytes?: number;
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
  clock?: Clock;
  logger?: Logger;
}

/** What the broker has seen since it started. All are totals except the `*Ms` fields. */
export interface BrokerStats {
  /** WINDOW frames accepted (not counting duplicates). */
  frames: number;
  /** Frames that failed to decode, or connections dropped for an untrustworthy stream. */
  badFrames: number;
  /** Series refused: bad name or tags, bad sketch, kind conflict, or the series cap. */
  badSeries: number;
  /** Series deltas merged from frames. */
  seriesDeltas: number;
  /** Sequence numbers skipped by a source (frames lost before they reached the broker). */
  gaps: number;
  /** Frames received again (after a reconnect): acknowledged, not merged twice. */
  duplicates: number;
  /** Frames whose window had already closed: merged into the current window instead. */
  late: number;
  /** Frames refused because the merge queue was full. */
  overloaded: number;
  statsdPackets: number;
  statsdLines: number;
  badStatsdLines: number;
  /** UDP socket errors reported to the broker. */
  udpErrors: number;
  /** Host-wide UDP receive-buffer drops since the broker started (Linux `/proc/net/snmp`), else 0. */
  udpRcvbufErrors: number;
  /** Windows written to the store (or closed, without a store). */
  flushes: number;
  /** Store writes that failed (the window is retried). */
  flushFailures: number;
  /** Closed windows dropped after `maxPendingWindows` failed retries piled up. */
  droppedWindows: number;
  /** Duration of the last flush, ms (building the points and the store writes). */
  lastFlushMs: number;
  /** Longest flush, ms. */
  maxFlushMs: number;
  connections: number;
  connectionErrors: number;
  /** Windows currently open. */
  openWindows: number;
  /** Frames received and waiting to be merged. */
  queuedFrames: number;
  /** Distinct series known. */
  series: number;
}

/** Events of a {@link MetricsBroker}. */
export interface MetricsBrokerEvents {
  /** A window was written (or closed, without a store). */
  flush: [info: { windowStart: number; points: number; sketches: number; durationMs: number }];
  /** A background failure (store write): the broker keeps running. */
  error: [err: Error];
}

interface StreamState {
  sourceId: string;
  epoch: number;
  highest: number;
  seen: Set<number>;
  pending: Set<number>;
  reply: ((ack: Buffer) => void) | undefined;
  lastSeen: number;
}

interface ClosedWindow {
  start: number;
  points: WindowPoints;
  frames: WindowState['frames'];
}

const DEFAULTS = {
  host: '127.0.0.1',
  intervalMs: 10_000,
  graceMs: 2_000,
  quantiles: [0.5, 0.9, 0.99, 0.999],
  maxSeries: 200_000,
  chunkSize: 1_000,
  maxPendingWindows: 6,
  maxQueuedFrames: 10_000,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  statsdAccuracy: 0.01,
  maxSetMembers: 10_000,
  selfMetrics: true,
  autoFlush: true,
} as const;

const OPTION_KEYS = [
  'store',
  'id',
  'socketPath',
  'port',
  'host',
  'statsd',
  'otlp',
  'intervalMs',
  'graceMs',
  'quantiles',
  'maxSeries',
  'chunkSize',
  'maxPendingWindows',
  'maxQueuedFrames',
  'maxFrameBytes',
  'statsdAccuracy',
  'maxSetMembers',
  'tenant',
  'selfMetrics',
  'autoFlush',
  'clock',
  'logger',
  'signal',
];

/** Seen sequence numbers remembered per source stream, for duplicate detection. */
const SEEN_WINDOW = 4096;

/** Counter-like stats written as per-window deltas under `fleetwatch.broker.<name>`. */
const COUNTER_STATS = [
  'frames',
  'badFrames',
  'badSeries',
  'seriesDeltas',
  'gaps',
  'duplicates',
  'late',
  'overloaded',
  'statsdPackets',
  'statsdLines',
  'badStatsdLines',
  'udpErrors',
  'udpRcvbufErrors',
  'flushes',
  'flushFailures',
  'droppedWindows',
  'connections',
  'connectionErrors',
] as const satisfies ReadonlyArray<keyof BrokerStats>;

type NormalizedOptions = Required<
  Omit<MetricsBrokerOptions, 'store' | 'socketPath' | 'port' | 'statsd' | 'otlp' | 'tenant' | 'signal'>
> &
  Pick<MetricsBrokerOptions, 'store' | 'socketPath' | 'port' | 'statsd' | 'otlp' | 'tenant'>;

function normalizeOptions(options: MetricsBrokerOptions): NormalizedOptions {
  if (options === null || typeof options !== 'object') throw validationError('options', 'an object', options);
  rejectUnknownKeys(options, OPTION_KEYS);
  const o = {
    ...DEFAULTS,
    id: `${hostname()}:${process.pid}`,
    clock: systemClock,
    logger: silentLogger,
    ...options,
  };
  nonEmptyString(o.id, 'options.id');
  nonEmptyString(o.host, 'options.host');
  if (o.socketPath !== undefined) nonEmptyString(o.socketPath, 'options.socketPath');
  if (o.port !== undefined) positiveNumber(o.port, 'options.port', { integer: true, min: 0 });
  positiveNumber(o.intervalMs, 'options.intervalMs', { integer: true, min: 1 });
  positiveNumber(o.graceMs, 'options.graceMs', { integer: true, min: 0 });
  positiveNumber(o.maxSeries, 'options.maxSeries', { integer: true, min: 1 });
  positiveNumber(o.chunkSize, 'options.chunkSize', { integer: true, min: 1 });
  positiveNumber(o.maxPendingWindows, 'options.maxPendingWindows', { integer: true, min: 0 });
  positiveNumber(o.maxQueuedFrames, 'options.maxQueuedFrames', { integer: true, min: 1 });
  positiveNumber(o.maxFrameBytes, 'options.maxFrameBytes', { integer: true, min: 16 });
  positiveNumber(o.maxSetMembers, 'options.maxSetMembers', { integer: true, min: 1 });
  if (!(o.statsdAccuracy > 0 && o.statsdAccuracy <= 0.5)) {
    throw validationError('options.statsdAccuracy', 'a number in (0, 0.5]', o.statsdAccuracy);
  }
  if (!Array.isArray(o.quantiles) || o.quantiles.some((q) => typeof q !== 'number' || !(q > 0 && q < 1))) {
    throw validationError('options.quantiles', 'an array of numbers in (0, 1)', o.quantiles);
  }
  if (o.statsd !== undefined) {
    if (o.statsd === null || typeof o.statsd !== 'object')
      throw validationError('options.statsd', 'an object', o.statsd);
    rejectUnknownKeys(o.statsd, ['port', 'host', 'recvBufferSize'], 'options.statsd');
    positiveNumber(o.statsd.port, 'options.statsd.port', { integer: true, min: 0 });
  }
  if (o.otlp !== undefined) normalizeOtlpOptions(o.otlp, 'options.otlp');
  if (
    o.store !== undefined &&
    (typeof o.store.write !== 'function' || typeof o.store.writeSketches !== 'function')
  ) {
    throw validationError('options.store', 'a MetricsStore', o.store);
  }
  const { signal: _signal, ...rest } = o as typeof o & { signal?: AbortSignal };
  return Object.freeze(rest) as NormalizedOptions;
}

/** Host-wide UDP receive-buffer errors (Linux), or undefined elsewhere. */
function readUdpRcvbufErrors(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n');
    const header = lines.find((l) => l.startsWith('Udp: ') && !/\d/.test(l.slice(5, 6)));
    const values = lines.find((l) => l.startsWith('Udp: ') && /^\d/.test(l.slice(5, 6)));
    if (header === undefined || values === undefined) return undefined;
    const i = header.split(' ').indexOf('RcvbufErrors');
    const v = Number(values.split(' ')[i]);
    return i > 0 && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The broker. Create with {@link MetricsBroker.start}. */
export class MetricsBroker extends EventEmitter<MetricsBrokerEvents> {
  readonly #o: NormalizedOptions;
  readonly #clock: Clock;
  readonly #dict: SeriesDictionary;
  readonly #totals = new CumulativeTotals();
  readonly #windows = new Map<number, WindowState>();
  readonly #streams = new Map<string, StreamState>();
  readonly #encoder = new FrameEncoder();
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #statsdGauges = new Map<string, number>();
  readonly #retry: ClosedWindow[] = [];
  readonly #stats: BrokerStats = {
    frames: 0,
    badFrames: 0,
    badSeries: 0,
    seriesDeltas: 0,
    gaps: 0,
    duplicates: 0,
    late: 0,
    overloaded: 0,
    statsdPackets: 0,
    statsdLines: 0,
    badStatsdLines: 0,
    udpErrors: 0,
    udpRcvbufErrors: 0,
    flushes: 0,
    flushFailures: 0,
    droppedWindows: 0,
    lastFlushMs: 0,
    maxFlushMs: 0,
    connections: 0,
    connectionErrors: 0,
    openWindows: 0,
    queuedFrames: 0,
    series: 0,
  };
  readonly #written: Partial<Record<(typeof COUNTER_STATS)[number], number>> = {};
  readonly #rcvbufAtStart: number | undefined;
  #statsd: StatsdListener | undefined;
  #otlp: OtlpReceiver | undefined;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #closedBefore = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #port: number | undefined;

  private constructor(options: NormalizedOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock;
    this.#dict = new SeriesDictionary(options.maxSeries);
    this.#rcvbufAtStart = options.statsd === undefined ? undefined : readUdpRcvbufErrors();
  }

  /** Validate options, bind every listener asked for, and start closing windows on time. */
  static async start(options: MetricsBrokerOptions = {}): Promise<MetricsBroker> {
    throwIfAborted(options.signal);
    const broker = new MetricsBroker(normalizeOptions(options));
    try {
      await broker.#listen();
      throwIfAborted(options.signal);
    } catch (err) {
      await broker.close();
      throw err;
    }
    broker.#schedule();
    return broker;
  }

  /** This broker's id (the store `source`). */
  get id(): string {
    return this.#o.id;
  }
  /** The window length, ms. */
  get intervalMs(): number {
    return this.#o.intervalMs;
  }
  /** The bound TCP port, if listening on TCP. */
  get port(): number | undefined {
    return this.#port;
  }
  /** The bound StatsD UDP port, if listening for StatsD. */
  get statsdPort(): number | undefined {
    return this.#statsd?.port;
  }

  /** Where OTLP/HTTP metrics are accepted (`http://host:port/v1/metrics`), if the `otlp` option was given. */
  get otlpUrl(): string | undefined {
    return this.#otlp?.url;
  }

  /** The OTLP receiver's counters, if the `otlp` option was given. */
  otlpStats(): OtlpReceiverStats | undefined {
    return this.#otlp?.stats();
  }

  /** A copy of the self-metrics. */
  stats(): BrokerStats {
    const rcv = this.#rcvbufAtStart === undefined ? undefined : readUdpRcvbufErrors();
    if (rcv !== undefined && this.#rcvbufAtStart !== undefined)
      this.#stats.udpRcvbufErrors = rcv - this.#rcvbufAtStart;
    return {
      ...this.#stats,
      openWindows: this.#windows.size,
      queuedFrames: this.#queued,
      series: this.#dict.size,
    };
  }

  /** The merged view since start: counter totals, latest gauges, cumulative sketches (for scraping). */
  totals(): CumulativeSeries[] {
    return [...this.#totals.series.values()];
  }

  /**
   * The merged cumulative view of every closed window in the Prometheus text format (counters stay
   * monotonic across process restarts; summaries come from merged sketches), followed by the
   * broker's own `fleetwatch_broker_*` counters.
   */
  prometheus(options: PrometheusOptions = {}): string {
    return toPrometheusText(this, options);
  }

  /**
   * Take one frame body (the bytes after the length prefix), from any transport. `reply` receives the
   * ACK frames for it. Malformed frames are counted and dropped; this never throws.
   */
  ingest(batch: IngestBatch): IngestResult;
  ingest(body: Buffer, reply?: (ack: Buffer) => void): void;
  ingest(body: Buffer | IngestBatch, reply?: (ack: Buffer) => void): IngestResult | undefined {
    if (!Buffer.isBuffer(body)) return this.#ingestBatchStandIn(body);
    let reader: WindowReader;
    try {
      reader = readWindowFrame(body);
    } catch {
      this.#stats.badFrames++;
      return;
    }
    if (this.#closing !== undefined) return;
    const frame = reader.header;
    const streamKey = `${frame.sourceId}\0${frame.epoch}`;
    let st = this.#streams.get(streamKey);
    if (st === undefined) {
      st = {
        sourceId: frame.sourceId,
        epoch: frame.epoch,
        highest: -1,
        seen: new Set(),
        pending: new Set(),
        reply,
        lastSeen: 0,
      };
      this.#streams.set(streamKey, st);
    }
    if (reply !== undefined) st.reply = reply;
    st.lastSeen = this.#clock.now();
    const seq = frame.seq;
    if (st.seen.has(seq)) {
      this.#stats.duplicates++;
      if (!st.pending.has(seq)) this.#ack(st, [seq]);
      return;
    }
    if (this.#queued >= this.#o.maxQueuedFrames) {
      this.#stats.overloaded++;
      return;
    }
    if (st.highest >= 0 && seq > st.highest + 1) this.#stats.gaps += seq - st.highest - 1;
    if (seq > st.highest) st.highest = seq;
    st.seen.add(seq);
    if (st.seen.size > SEEN_WINDOW) {
      for (const s of st.seen) if (s < st.highest - SEEN_WINDOW) st.seen.delete(s);
    }
    st.pending.add(seq);
    this.#stats.frames++;
    this.#queued++;
    this.#enqueue(() => this.#merge(reader, streamKey)).finally(() => {
      this.#queued--;
    });
  }

  /** Take one StatsD datagram (or several `\n`-separated lines). Never throws. */
  ingestStatsd(packet: Buffer | string): void {
    if (this.#closing !== undefined) return;
    this.#stats.statsdPackets++;
    const r = parseStatsd(packet, this.#onStatsd);
    this.#stats.statsdLines += r.lines;
    this.#stats.badStatsdLines += r.bad;
  }

  /**
   * Close and write every window whose end + grace has passed (what the timer does). Resolves when
   * they are written (or kept for retry after a store failure).
   */
  flushDue(): Promise<void> {
    return this.#enqueue(() => this.#closeWindows(this.#clock.now(), false));
  }

  /**
   * Stop listening, merge what was received, write every window including open ones, and retry
   * pending ones once. Idempotent. The store is not closed (it is the caller's).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#timer);
      const closing = this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const sock of this.#sockets) sock.end();
      await this.#statsd?.close();
      await this.#otlp?.close();
      await this.#enqueue(() => this.#closeWindows(this.#clock.now(), true));
      for (const sock of this.#sockets) sock.destroy();
      await Promise.all(closing);
    })();
    return this.#closing;
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const p = this.#queue.then(task);
    this.#queue = p.catch(() => {});
    return p;
  }

  #schedule(): void {
    if (!this.#o.autoFlush || this.#closing !== undefined) return;
    const { intervalMs, graceMs } = this.#o;
    const now = this.#clock.now();
    const next = (Math.floor((now - graceMs) / intervalMs) + 1) * intervalMs + graceMs;
    this.#timer = setTimeout(
      () => {
        this.flushDue().catch((err: Error) => this.emit('error', err));
        this.#schedule();
      },
      Math.max(1, next - now),
    );
    this.#timer.unref();
  }

  /** The window a frame or line for `windowStart` goes into, counting late ones. */
  #target(windowStart: number, countLate: boolean): WindowState {
    const { intervalMs } = this.#o;
    const now = this.#clock.now();
    let start = Math.floor(windowStart / intervalMs) * intervalMs;
    if (start < this.#closedBefore || start > now + MAX_FUTURE_MS) {
      if (countLate) this.#stats.late++;
      start = Math.max(Math.floor(now / intervalMs) * intervalMs, this.#closedBefore);
    }
    let w = this.#windows.get(start);
    if (w === undefined) {
      w = new WindowState(start);
      this.#windows.set(start, w);
    }
    return w;
  }

  async #merge(reader: WindowReader, streamKey: string): Promise<void> {
    const frame = reader.header;
    const w = this.#target(frame.windowStart, true);
    w.frames.push({ stream: streamKey, seq: frame.seq });
    const { chunkSize } = this.#o;
    this.#stats.seriesDeltas += reader.count;
    for (let i = 0; i < reader.count; i++) {
      if (i > 0 && i % chunkSize === 0) await yieldToLoop();
      const s = reader.advance();
      const dict = this.#dict;
      let ok = false;
      try {
        if (s.kind === 'counter' || s.kind === 'meter') ok = w.addCount(s.key, dict, s.kind, s.value);
        else if (s.kind === 'gauge') ok = w.setGauge(s.key, dict, s.policy, frame.sourceId, s.value);
        else if (s.sketch !== undefined) ok = w.mergeSketch(s.key, dict, s.sketch);
      } catch {
        ok = false;
      }
      if (!ok) this.#stats.badSeries++;
    }
  }

  // ---- STAND-IN (interop branch) for the broker engineer's `ingest(batch)`; replaced at merge. ----
  /** Validate every item against the current window first; apply only a wholly valid batch. */
  #ingestBatchStandIn(batch: IngestBatch): IngestResult {
    const w = this.#target(this.#clock.now(), false);
    const reject = (i: number, reason: string): IngestResult => {
      this.#stats.badSeries += batch.items.length;
      return { accepted: 0, rejected: batch.items.length, reason, field: `items[${i}]` };
    };
    const kinds = new Map<string, string>();
    for (let i = 0; i < batch.items.length; i++) {
      const it = batch.items[i]!;
      const key = wireSeriesKey(it.name, it.tags);
      if (this.#dict.get(key) === undefined)
        return reject(i, 'invalid series name or tags, or series cap reached');
      const have = w.series.get(key);
      const kind = have?.kind ?? kinds.get(key);
      if (kind !== undefined && kind !== it.kind) return reject(i, `series already holds a ${kind}`);
      kinds.set(key, it.kind);
      if (it.kind === 'histogram') {
        const cur = have?.sketch;
        if (
          cur !== undefined &&
          (cur.scale === undefined || it.sketch.scale === undefined) &&
          cur.base !== it.sketch.base
        )
          return reject(i, 'histogram accuracy differs from the series in this window');
      } else if (!Number.isFinite(it.value)) return reject(i, 'value not finite');
    }
    for (const it of batch.items) {
      const key = wireSeriesKey(it.name, it.tags);
      if (it.kind === 'counter') w.addCount(key, this.#dict, 'counter', it.value);
      else if (it.kind === 'gauge') w.setGauge(key, this.#dict, 'last', batch.source, it.value);
      else w.mergeSketch(key, this.#dict, it.sketch.encode());
    }
    this.#stats.seriesDeltas += batch.items.length;
    return { accepted: batch.items.length };
  }
  // ---- end of stand-in ----

  readonly #onStatsd = (m: StatsdMetric): void => {
    const key = wireSeriesKey(m.name, m.tags);
    const dict = this.#dict;
    const w = this.#target(this.#clock.now(), false);
    let ok: boolean;
    switch (m.type) {
      case 'c':
        ok = w.addCount(key, dict, 'counter', m.value / m.rate);
        break;
      case 'g': {
        const v = m.delta ? (this.#statsdGauges.get(key) ?? 0) + m.value : m.value;
        ok = w.setGauge(key, dict, 'last', 'statsd', v);
        if (ok) this.#statsdGauges.set(key, v);
        break;
      }
      case 's':
        ok = w.addMember(key, dict, m.member, this.#o.maxSetMembers);
        break;
      default:
        ok = w.addSample(key, dict, m.value, 1 / m.rate, this.#o.statsdAccuracy);
    }
    if (!ok) this.#stats.badSeries++;
  };

  async #closeWindows(now: number, all: boolean): Promise<void> {
    const { intervalMs, graceMs } = this.#o;
    while (this.#retry.length > 0) {
      const pending = this.#retry[0]!;
      if (!(await this.#persist(pending))) break;
      this.#retry.shift();
    }
    const due = [...this.#windows.keys()]
      .filter((s) => all || s + intervalMs + graceMs <= now)
      .sort((a, b) => a - b);
    for (const start of due) {
      const w = this.#windows.get(start)!;
      this.#windows.delete(start);
      this.#closedBefore = Math.max(this.#closedBefore, start + intervalMs);
      const t0 = performance.now();
      const points = new WindowPoints();
      let i = 0;
      for (const [key, s] of w.series) {
        if (++i % this.#o.chunkSize === 0) await yieldToLoop();
        points.add(s, start, this.#o.quantiles, this.#o.tenant);
        this.#totals.add(key, s);
      }
      const closed: ClosedWindow = { start, points, frames: w.frames };
      const ok = await this.#persist(closed, t0);
      if (!ok) {
        this.#retry.push(closed);
        while (this.#retry.length > this.#o.maxPendingWindows) {
          this.#retry.shift();
          this.#stats.droppedWindows++;
        }
      }
    }
    if (all) {
      for (const pending of this.#retry.splice(0)) {
        if (!(await this.#persist(pending))) this.#stats.droppedWindows++;
      }
    }
    this.#pruneStreams(now);
  }

  /** Write a closed window; on success acknowledge its frames. False when the store failed. */
  async #persist(w: ClosedWindow, t0 = performance.now()): Promise<boolean> {
    const store = this.#o.store;
    if (store !== undefined) {
      try {
        const self = this.#o.selfMetrics ? this.#selfPoints(w.start) : [];
        const source = this.#o.id;
        for (const [combine, list] of Object.entries(w.points.byCombine) as Array<
          [keyof WindowPoints['byCombine'], Point[]]
        >) {
          if (list.length > 0) await store.write(list, { source, combine });
        }
        if (w.points.sketches.length > 0) await store.writeSketches(w.points.sketches, { source });
        if (self.length > 0) await store.write(self, { source, combine: 'sum' });
        this.#commitSelf();
      } catch (err) {
        this.#stats.flushFailures++;
        this.#o.logger.warn(
          { err, windowStart: w.start },
          'broker: store write failed; window kept for retry',
        );
        this.emit(
          'error',
          err instanceof FleetwatchError
            ? err
            : new FleetwatchError('E_STORE_UNAVAILABLE', 'broker: store write failed', { cause: err }),
        );
        return false;
      }
    }
    const durationMs = performance.now() - t0;
    this.#stats.flushes++;
    this.#stats.lastFlushMs = durationMs;
    if (durationMs > this.#stats.maxFlushMs) this.#stats.maxFlushMs = durationMs;
    this.#ackWindow(w.frames);
    this.emit('flush', {
      windowStart: w.start,
      points: w.points.size,
      sketches: w.points.sketches.length,
      durationMs,
    });
    return true;
  }

  /** Self-metric points: per-window deltas of the counters, plus flush time. */
  #selfPoints(ts: number): Point[] {
    const stats = this.stats();
    const tags = { broker: this.#o.id };
    const out: Point[] = [];
    const withTenant = (p: Point): Point =>
      this.#o.tenant === undefined ? p : { ...p, tenant: this.#o.tenant };
    for (const name of COUNTER_STATS) {
      const value = stats[name] - (this.#written[name] ?? 0);
      out.push(withTenant({ metric: `fleetwatch.broker.${name}`, tags, ts, value }));
    }
    out.push(withTenant({ metric: 'fleetwatch.broker.flushMs', tags, ts, value: stats.lastFlushMs }));
    out.push(withTenant({ metric: 'fleetwatch.broker.openWindows', tags, ts, value: stats.openWindows }));
    out.push(withTenant({ metric: 'fleetwatch.broker.queuedFrames', tags, ts, value: stats.queuedFrames }));
    return out;
  }

  #commitSelf(): void {
    const stats = this.stats();
    for (const name of COUNTER_STATS) this.#written[name] = stats[name];
  }

  #ackWindow(frames: WindowState['frames']): void {
    const byStream = new Map<string, number[]>();
    for (const f of frames) {
      const list = byStream.get(f.stream);
      if (list === undefined) byStream.set(f.stream, [f.seq]);
      else list.push(f.seq);
    }
    for (const [key, seqs] of byStream) {
      const st = this.#streams.get(key);
      if (st === undefined) continue;
      for (const s of seqs) st.pending.delete(s);
      this.#ack(st, seqs);
    }
  }

  #ack(st: StreamState, seqs: number[]): void {
    if (st.reply === undefined) return;
    try {
      st.reply(this.#encoder.ack(st.epoch, seqs));
    } catch {
      this.#stats.connectionErrors++;
    }
  }

  #pruneStreams(now: number): void {
    const idle = Math.max(10 * this.#o.intervalMs, 600_000);
    for (const [key, st] of this.#streams) {
      if (st.pending.size === 0 && now - st.lastSeen > idle) this.#streams.delete(key);
    }
  }

  async #listen(): Promise<void> {
    const { socketPath, port, host, statsd, otlp } = this.#o;
    if (otlp !== undefined) {
      this.#otlp = await startOtlpReceiver(this, {
        ...otlp,
        host: otlp.host ?? host,
        now: () => this.#clock.now(),
      });
    }
    if (socketPath !== undefined) {
      await this.#removeStaleSocket(socketPath);
      await this.#serve((s, cb) => s.listen(socketPath, cb));
    }
    if (port !== undefined) {
      const server = await this.#serve((s, cb) => s.listen(port, host, cb));
      const addr = server.address();
      this.#port = typeof addr === 'object' && addr !== null ? addr.port : undefined;
    }
    if (statsd !== undefined) {
      this.#statsd = await listenStatsd({
        port: statsd.port,
        host: statsd.host ?? host,
        ...(statsd.recvBufferSize === undefined ? {} : { recvBufferSize: statsd.recvBufferSize }),
        onPacket: (p) => this.ingestStatsd(p),
        onError: (err) => {
          this.#stats.udpErrors++;
          this.#o.logger.warn({ err }, 'broker: statsd socket error');
        },
      });
    }
  }

  async #removeStaleSocket(path: string): Promise<void> {
    if (!existsSync(path)) return;
    const alive = await new Promise<boolean>((resolve) => {
      const c = createConnection(path);
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (alive)
      throw new FleetwatchError('E_CONFIG', `broker: another process listens on ${path}`, {
        path: 'options.socketPath',
      });
    unlinkSync(path);
  }

  #serve(listen: (s: Server, cb: () => void) => void): Promise<Server> {
    const server = createServer((sock) => this.#accept(sock));
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      listen(server, () => {
        server.off('error', reject);
        server.on('error', (err) => this.emit('error', err));
        resolve(server);
      });
    });
  }

  #accept(sock: Socket): void {
    this.#stats.connections++;
    this.#sockets.add(sock);
    const splitter = new FrameSplitter(this.#o.maxFrameBytes);
    const reply = (ack: Buffer) => {
      if (!sock.destroyed && sock.writable) sock.write(ack);
    };
    sock.on('data', (chunk: Buffer) => {
      let bodies: Buffer[];
      try {
        bodies = splitter.push(chunk);
      } catch {
        this.#stats.badFrames++;
        sock.destroy();
        return;
      }
      for (const b of bodies) this.ingest(b, reply);
    });
    sock.on('error', () => {
      this.#stats.connectionErrors++;
    });
    sock.on('close', () => this.#sockets.delete(sock));
  }
}
