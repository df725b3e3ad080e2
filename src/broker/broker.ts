import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import type { Clock } from '../core.js';
import { type FleetwatchError, throwIfAborted } from '../errors.js';
import { type OtlpReceiver, type OtlpReceiverStats, startOtlpReceiver } from '../interop/otlp-receiver.js';
import { type PrometheusOptions, toPrometheusText } from '../metrics/prometheus.js';
import { type CumulativeSeries, CumulativeTotals, type SeriesReject } from './aggregate.js';
import { StreamTable } from './delivery.js';
import type { IngestBatch, IngestResult } from './ingest.js';
import { applyBatch, applyBatchSliced } from './ingest-apply.js';
import { Listeners } from './listeners.js';
import { WindowMerger } from './merge.js';
import { type MetricsBrokerOptions, type NormalizedOptions, normalizeOptions } from './options.js';
import { loadHighWater, WindowWriter } from './persist.js';
import { FrameEncoder, readWindowFrame, type WindowReader } from './protocol.js';
import { type BrokerStats, newStats, readUdpRcvbufErrors, SelfMetrics } from './stats.js';
import { DEFAULT_MAX_STATSD_LINE_LENGTH, parseStatsdLines, type StatsdLine } from './statsd.js';
import { StatsdItems } from './statsd-items.js';

export type { BrokerStatsdOptions, MetricsBrokerOptions } from './options.js';
export type { BrokerStats } from './stats.js';

/** Events of a {@link MetricsBroker}. */
export interface MetricsBrokerEvents {
  /** A window was written (or closed, without a store). */
  flush: [info: { windowStart: number; points: number; sketches: number; durationMs: number }];
  /** A background failure (store write): the broker keeps running. */
  error: [err: Error];
}

/**
 * MetricsBroker: one per host. Receives one frame per process per window (socket, TCP, cluster IPC)
 * and StatsD lines (UDP), merges them into wall-clock-aligned windows, and after `graceMs` writes each
 * closed window to a `MetricsStore` — counters as sums, gauges per policy, histograms as
 * count/sum/min/max/percentiles plus their merged sketch — then acknowledges the frames it holds.
 * Create it with {@link MetricsBroker.start}.
 *
 * @example
 * ```ts
 * const broker = await MetricsBroker.start({ store, socketPath: '/run/fleetwatch.sock', statsd: { port: 8125 } });
 * // in each process: registry.reportTo(await connectBroker({ socketPath: '/run/fleetwatch.sock' }));
 * await broker.close();
 * ```
 */
export class MetricsBroker extends EventEmitter<MetricsBrokerEvents> {
  readonly #o: NormalizedOptions;
  readonly #clock: Clock;
  readonly #stats: BrokerStats = newStats();
  readonly #totals = new CumulativeTotals();
  readonly #streams: StreamTable;
  readonly #merger: WindowMerger;
  readonly #writer: WindowWriter;
  readonly #listeners: Listeners;
  #otlp: OtlpReceiver | undefined;
  readonly #statsd = new StatsdItems();
  readonly #rcvbufAtStart: number | undefined;
  readonly #source: string;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  /** Use {@link MetricsBroker.start}. */
  private constructor(options: NormalizedOptions) {
    super();
    const o = options;
    this.#o = o;
    this.#clock = o.clock;
    this.#source = `${o.id}/${randomBytes(6).toString('hex')}`;
    this.#streams = new StreamTable(o.maxSources, new FrameEncoder());
    this.#merger = new WindowMerger(
      o,
      (reason, n = 1) => this.#countReject(reason, n),
      (h, reply, ledger) => this.#streams.record(h, reply, ledger),
    );
    this.#writer = new WindowWriter({
      store: o.store,
      source: this.#source,
      tenant: o.tenant,
      quantiles: o.quantiles,
      chunkSize: o.chunkSize,
      maxPendingWindows: o.maxPendingWindows,
      clock: o.clock,
      logger: o.logger,
      stats: this.#stats,
      selfStats: o.selfMetrics ? () => this.stats() : undefined,
      self: new SelfMetrics(o.id, o.tenant),
      streams: this.#streams,
      totals: this.#totals,
      onFlush: (info) => this.emit('flush', info),
      onError: (err: FleetwatchError) => this.emit('error', err),
    });
    this.#listeners = new Listeners(o, this.#stats, {
      frame: (body, reply) => this.#admitFrame(body, reply) !== 'refused',
      statsd: (packet) => this.ingestStatsd(packet),
      error: (err) => this.emit('error', err),
      queuedBytes: () => this.#queuedBytes,
    });
    this.#rcvbufAtStart = o.statsd === undefined ? undefined : readUdpRcvbufErrors();
  }

  /**
   * Validate options, read the high-water sequences earlier instances left in the store, bind every
   * listener asked for, and start closing windows on time.
   */
  static async start(options: MetricsBrokerOptions = {}): Promise<MetricsBroker> {
    throwIfAborted(options?.signal);
    const broker = new MetricsBroker(normalizeOptions(options));
    try {
      const o = broker.#o;
      if (o.store !== undefined && typeof o.store.query === 'function') {
        await loadHighWater(o.store, broker.#streams, {
          clock: o.clock,
          lookbackMs: o.dedupeLookbackMs,
          tenant: o.tenant,
          logger: o.logger,
        });
      }
      await broker.#listeners.listen();
      if (o.otlp !== undefined) {
        broker.#otlp = await startOtlpReceiver(broker, {
          ...o.otlp,
          host: o.otlp.host ?? o.host,
          now: () => o.clock.now(),
        });
      }
      throwIfAborted(options.signal);
    } catch (err) {
      await broker.close();
      throw err;
    }
    broker.#schedule();
    return broker;
  }

  /** This broker's id (the `broker` tag of its self-metrics). */
  get id(): string {
    return this.#o.id;
  }
  /** The store `source` this instance writes as: `<id>/<random instance id>`. */
  get writeSource(): string {
    return this.#source;
  }
  /** The window length, ms. */
  get intervalMs(): number {
    return this.#o.intervalMs;
  }
  /** The bound TCP port, if listening on TCP. */
  get port(): number | undefined {
    return this.#listeners.port;
  }
  /** The bound StatsD UDP port, if listening for StatsD. */
  get statsdPort(): number | undefined {
    return this.#listeners.statsdPort;
  }

  /** A copy of the self-metrics. */
  stats(): BrokerStats {
    const rcv = this.#rcvbufAtStart === undefined ? undefined : readUdpRcvbufErrors();
    if (rcv !== undefined && this.#rcvbufAtStart !== undefined)
      this.#stats.udpRcvbufErrors = rcv - this.#rcvbufAtStart;
    this.#stats.gaps = this.#streams.gaps;
    this.#stats.late = this.#merger.late;
    this.#stats.sourcesEvicted = this.#streams.evicted;
    return {
      ...this.#stats,
      openWindows: this.#merger.windows.size,
      queuedFrames: this.#queued,
      bufferedBytes: this.#queuedBytes + this.#listeners.partialBytes,
      series: this.#merger.dict.size,
    };
  }

  /** Where OTLP/HTTP metrics are accepted (`http://host:port/v1/metrics`), if the `otlp` option was given. */
  get otlpUrl(): string | undefined {
    return this.#otlp?.url;
  }

  /** The OTLP receiver's counters, if the `otlp` option was given. */
  otlpStats(): OtlpReceiverStats | undefined {
    return this.#otlp?.stats();
  }

  /** The merged view since start: counter totals, latest gauges, cumulative sketches (for scraping). */
  totals(): CumulativeSeries[] {
    return [...this.#totals.series.values()];
  }

  /**
   * The merged cumulative view of every closed window in the Prometheus text format (counters stay
   * monotonic across process restarts; summaries come from merged sketches), followed by the
   * broker's own `fleetwatch_broker_*` series.
   */
  prometheus(options: PrometheusOptions = {}): string {
    return toPrometheusText(this, options);
  }

  /**
   * Apply one batch of decoded values (StatsD lines, OTLP) to the current window, whole or not at
   * all: every item is checked first (naming rules, finite values, sketch sanity, one kind per
   * series), and a batch with any bad item changes nothing and is counted under its reason. The
   * result's `reason` is the `BrokerStats` counter it went to (`badNames`, `nonFiniteValues`,
   * `badSketches`, `kindConflicts`, `seriesOverflow`) or `closed`; `field` names the first bad item
   * (`items[3].value`). Never throws.
   *
   * @internal
   * @example
   * ```ts
   * broker.ingest({ source: 'otlp:10.0.0.7', items: [{ kind: 'counter', name: 'req', tags: {}, value: 3 }] });
   * // → { accepted: 1 }
   * ```
   */
  ingest(batch: IngestBatch): IngestResult {
    const n = Array.isArray(batch?.items) ? batch.items.length : 0;
    return this.#counted(
      this.#closing === undefined
        ? applyBatch(this.#merger.batches, batch)
        : { accepted: 0, rejected: n, reason: 'closed' },
    );
  }

  /**
   * {@link MetricsBroker.ingest} in slices of a few ms (OTLP requests); still whole or not at all.
   * @internal
   * @example `await broker.ingestSliced({ source: 'otlp:10.0.0.7', items }, { signal })`
   */
  async ingestSliced(batch: IngestBatch, options: { signal?: AbortSignal } = {}): Promise<IngestResult> {
    if (this.#closing !== undefined) return this.ingest(batch);
    const r = await applyBatchSliced(this.#merger.batches, batch, {
      signal: options.signal,
      serialize: (task) => (this.#closing === undefined ? this.#enqueue(task) : undefined),
    });
    return this.#counted(r);
  }

  #counted(r: IngestResult): IngestResult {
    if (!('reason' in r)) this.#stats.batches++;
    else if (r.reason === 'closed') this.#stats.refusedClosing++;
    else this.#stats.rejectedBatches++;
    return r;
  }

  /**
   * Take one frame body (the bytes after the length prefix), from any transport. `reply` receives the
   * ACK frames for it. Malformed frames are counted and dropped; this never throws.
   */
  ingestFrame(body: Buffer, reply?: (ack: Buffer) => void): void {
    this.#admitFrame(body, reply);
  }

  /** Take one StatsD datagram (or several `\n`-separated lines); each line is one batch. Never throws. */
  ingestStatsd(packet: Buffer | string): void {
    if (this.#closing !== undefined) {
      this.#stats.refusedClosing++;
      return;
    }
    this.#stats.statsdPackets++;
    const r = parseStatsdLines(packet, this.#onStatsdLine, {
      maxLineLength: this.#o.statsd?.maxLineLength ?? DEFAULT_MAX_STATSD_LINE_LENGTH,
    });
    this.#stats.statsdLines += r.lines;
    this.#stats.badStatsdLines += r.bad;
    this.#stats.statsdLinesTooLong += r.tooLong;
    this.#stats.statsdBadSyntax += r.syntax;
    this.#stats.statsdBadNumbers += r.number;
  }

  /**
   * Close and write every window whose end + grace has passed (what the timer does). Resolves when
   * they are written (or kept for retry after a store failure).
   */
  flushDue(): Promise<void> {
    return this.#enqueue(() => this.#closeWindows(false));
  }

  /**
   * Stop listening, merge what was received, write every window including open ones (retrying
   * pending ones once), deliver their ACKs, then close the connections. Idempotent. The store is
   * not closed (it is the caller's).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#timer);
      const serversClosed = await this.#listeners.stopAccepting();
      await this.#otlp?.close();
      await this.#enqueue(() => this.#closeWindows(true));
      await this.#listeners.end();
      await serversClosed();
    })();
    return this.#closing;
  }

  #countReject(reason: SeriesReject, n: number): void {
    this.#stats[reason] += n;
    this.#stats.badSeries += n;
  }

  /** Decode, deduplicate and queue a frame. 'refused' when it was not taken for lack of room. */
  #admitFrame(body: Buffer, reply: ((ack: Buffer) => void) | undefined): 'ok' | 'refused' {
    let reader: WindowReader;
    try {
      reader = readWindowFrame(body);
    } catch {
      this.#stats.badFrames++;
      return 'ok';
    }
    if (this.#closing !== undefined) {
      this.#stats.refusedClosing++;
      return 'ok';
    }
    const h = reader.header;
    const seen = this.#streams.classify(h);
    if (seen !== 'admit') {
      this.#stats.duplicates++;
      if (seen === 'duplicate') this.#streams.ackNow(h, reply);
      else this.#streams.reroute(h, reply);
      return 'ok';
    }
    if (
      this.#queued >= this.#o.maxQueuedFrames ||
      this.#queuedBytes + body.length > this.#o.maxBufferedBytes
    ) {
      this.#stats.overloaded++;
      return 'refused';
    }
    this.#streams.admit(h, reply);
    this.#stats.frames++;
    this.#stats.seriesDeltas += reader.count;
    if (this.#queued === 0 && reader.count <= this.#o.chunkSize) {
      // Nothing waits to be merged: a small frame merges now (no queue entry, nothing to outlive it).
      this.#merger.mergeFrameNow(reader, reply);
      return 'ok';
    }
    this.#queued++;
    this.#queuedBytes += body.length;
    this.#enqueue(() => this.#merger.mergeFrame(reader, reply)).finally(() => {
      this.#queued--;
      this.#queuedBytes -= body.length;
    });
    return 'ok';
  }

  readonly #onStatsdLine = (line: StatsdLine): void => {
    const item = this.#statsd.item(line);
    if (item === undefined) {
      this.#countReject('nonFiniteValues', 1);
      this.#stats.rejectedBatches++;
      this.#stats.badStatsdLines++;
      return;
    }
    const r = this.ingest({ source: 'statsd', items: [item] });
    if ('reason' in r) this.#stats.badStatsdLines++;
    else this.#statsd.accepted(item);
  };

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

  async #closeWindows(all: boolean): Promise<void> {
    const due = this.#merger.takeDue(this.#clock.now(), this.#o.graceMs, all);
    await this.#writer.close(due, all);
  }
}
