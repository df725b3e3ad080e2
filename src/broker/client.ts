/**
 * The process side of the socket transport: {@link connectBroker} returns a {@link MetricsSink} that
 * sends one frame per window over a Unix socket or TCP, keeps frames until the broker acknowledges
 * them (after writing their window to the store), reconnects with backoff, and resends what is
 * unacknowledged. At most `maxUnsentWindows` frames are kept; older ones are dropped and counted.
 */
import { randomInt } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { hostname } from 'node:os';
import {
  type AbortOptions,
  type Logger,
  nonEmptyString,
  positiveNumber,
  rejectUnknownKeys,
  silentLogger,
} from '../core.js';
import { abortError, FleetwatchError, throwIfAborted, validationError } from '../errors.js';
import type { MetricsSink, WindowSnapshot } from '../metrics/types.js';
import {
  decodeFrame,
  FRAME_ACK,
  FrameEncoder,
  FrameSplitter,
  type WireSeries,
  wireSeriesKey,
} from './protocol.js';

/** Options of {@link connectBroker}: `socketPath`, or `port` (and `host`). */
export interface ConnectBrokerOptions extends AbortOptions {
  /** The broker's Unix socket (or Windows pipe) path. Give this or `port`. */
  socketPath?: string;
  /** The broker's TCP port on `host`. Give this or `socketPath`. */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** This process's id in frames. @default `hostname:pid` */
  sourceId?: string;
  /** The window length the registry should use; match the broker's. @default 10000 */
  intervalMs?: number;
  /**
   * Frames kept until acknowledged (sent-but-unacknowledged plus unsent). Keep it above
   * `(intervalMs + graceMs) / intervalMs + 1` of the broker. @default 6
   */
  maxUnsentWindows?: number;
  /** First reconnect delay; doubles per failure (with jitter) up to `reconnectMaxMs`. @default 100 */
  reconnectMinMs?: number;
  /** @default 5000 */
  reconnectMaxMs?: number;
  /** A pino-compatible logger for reconnects and dropped windows. @default silent */
  logger?: Logger;
}

/** Counters of a {@link BrokerClient}. */
export interface BrokerClientStats {
  /** Windows handed to `send()`. */
  windows: number;
  /** Frames written to a socket (first sends and resends). */
  written: number;
  /** Frames written again after a reconnect. */
  resent: number;
  /** Frames the broker acknowledged. */
  acked: number;
  /** Frames dropped because `maxUnsentWindows` were already waiting. */
  droppedWindows: number;
  /** Successful connections after the first. */
  reconnects: number;
  /** Frames held now. */
  unacked: number;
  connected: boolean;
}

interface HeldFrame {
  seq: number;
  buf: Buffer;
  /** Written on the current connection. */
  written: boolean;
  /** Written on some connection before (a later write is a resend). */
  everWritten: boolean;
}

/** Turn a registry snapshot into the wire series of one frame. */
export function snapshotSeries(snapshot: WindowSnapshot): WireSeries[] {
  const out = new Array<WireSeries>(snapshot.series.length);
  for (let i = 0; i < snapshot.series.length; i++) {
    const s = snapshot.series[i]!;
    out[i] = {
      key: wireSeriesKey(s.name, s.tags),
      kind: s.kind,
      policy: s.policy ?? 'last',
      value: s.value ?? 0,
      ...(s.sketch === undefined ? {} : { sketch: s.sketch.encode() }),
    };
  }
  return out;
}

/** Checks the snapshot handed to `send()`. */
export function validateSnapshot(snapshot: WindowSnapshot): void {
  if (snapshot === null || typeof snapshot !== 'object')
    throw validationError('snapshot', 'a WindowSnapshot', snapshot);
  if (!Number.isSafeInteger(snapshot.windowStart) || snapshot.windowStart < 0) {
    throw validationError('snapshot.windowStart', 'a non-negative integer epoch ms', snapshot.windowStart);
  }
  positiveNumber(snapshot.intervalMs, 'snapshot.intervalMs', { integer: true, min: 1 });
  if (!Array.isArray(snapshot.series)) throw validationError('snapshot.series', 'an array', snapshot.series);
}

/**
 * A socket connection to a broker, usable as a registry's sink. Windows are held until the broker
 * acknowledges them (at most `maxUnsentWindows`; beyond, the oldest are dropped and counted in
 * `stats()`), and the client reconnects with backoff when the broker restarts.
 *
 * @example
 * ```ts
 * const client = await connectBroker({ socketPath: '/run/fleetwatch.sock' });
 * const report = registry.reportTo(client);
 * // at shutdown: send the last window, then disconnect
 * await report.stop();
 * await client.close();
 * console.log(client.stats().droppedWindows); // 0 unless the broker was away too long
 * ```
 */
export class BrokerClient implements MetricsSink {
  /** The window length in ms the registry uses for this sink (from {@link ConnectBrokerOptions.intervalMs}). */
  readonly intervalMs: number;
  /** This process's id in frames (from {@link ConnectBrokerOptions.sourceId}). */
  readonly sourceId: string;
  /** Random per client: lets the broker tell a restarted process from a resend. */
  readonly epoch = randomInt(0, 2 ** 32 - 1);
  readonly #connect: () => Socket;
  readonly #max: number;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #logger: Logger;
  readonly #encoder = new FrameEncoder();
  readonly #held: HeldFrame[] = [];
  #seq = 0;
  #socket: Socket | undefined;
  #connected = false;
  #everConnected = false;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #waiters: Array<() => void> = [];
  #attempted: Array<() => void> = [];
  readonly #stats = { windows: 0, written: 0, resent: 0, acked: 0, droppedWindows: 0, reconnects: 0 };

  /** Use {@link connectBroker}. */
  constructor(options: ConnectBrokerOptions) {
    rejectUnknownKeys(options, [
      'socketPath',
      'port',
      'host',
      'sourceId',
      'intervalMs',
      'maxUnsentWindows',
      'reconnectMinMs',
      'reconnectMaxMs',
      'logger',
      'signal',
    ]);
    const { socketPath, port, host = '127.0.0.1' } = options;
    if ((socketPath === undefined) === (port === undefined)) {
      throw validationError('options.socketPath', 'exactly one of socketPath or port', socketPath);
    }
    if (socketPath !== undefined) nonEmptyString(socketPath, 'options.socketPath');
    else positiveNumber(port, 'options.port', { integer: true, min: 1 });
    this.sourceId = nonEmptyString(options.sourceId ?? `${hostname()}:${process.pid}`, 'options.sourceId');
    this.intervalMs = positiveNumber(options.intervalMs ?? 10_000, 'options.intervalMs', {
      integer: true,
      min: 1,
    });
    this.#max = positiveNumber(options.maxUnsentWindows ?? 6, 'options.maxUnsentWindows', {
      integer: true,
      min: 1,
    });
    this.#minDelay = positiveNumber(options.reconnectMinMs ?? 100, 'options.reconnectMinMs', { min: 1 });
    this.#maxDelay = positiveNumber(options.reconnectMaxMs ?? 5_000, 'options.reconnectMaxMs', { min: 1 });
    this.#logger = options.logger ?? silentLogger;
    this.#connect = () =>
      socketPath !== undefined ? createConnection(socketPath) : createConnection(port as number, host);
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#connected;
  }

  /** A copy of the counters. */
  stats(): BrokerClientStats {
    return { ...this.#stats, unacked: this.#held.length, connected: this.#connected };
  }

  /** Resolves once connected (immediately if already). */
  whenConnected(opts: AbortOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    if (this.#connected) return Promise.resolve();
    if (this.#closed) return Promise.reject(new FleetwatchError('E_CLOSED', 'broker client is closed'));
    return new Promise((resolve, reject) => {
      const done = () => {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        reject(abortError(opts.signal as AbortSignal));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(done);
    });
  }

  /**
   * Encode and send one window (or hold it while the broker is away). Never blocks on the network;
   * throws `E_VALIDATION` for a malformed snapshot and `E_CLOSED` after `close()`.
   */
  send(snapshot: WindowSnapshot): void {
    if (this.#closed) throw new FleetwatchError('E_CLOSED', 'broker client is closed');
    validateSnapshot(snapshot);
    const seq = this.#seq++;
    const buf = this.#encoder.window(
      {
        sourceId: this.sourceId,
        epoch: this.epoch,
        seq,
        windowStart: snapshot.windowStart,
        intervalMs: snapshot.intervalMs,
      },
      snapshotSeries(snapshot),
    );
    this.#stats.windows++;
    this.#held.push({ seq, buf, written: false, everWritten: false });
    while (this.#held.length > this.#max) {
      this.#held.shift();
      this.#stats.droppedWindows++;
    }
    this.#pump();
  }

  /**
   * Write held frames not yet written on this connection, in order, until the socket asks us to
   * wait (back-pressure: a stalled broker never makes the socket buffer grow past one frame).
   */
  #pump(): void {
    const sock = this.#socket;
    if (!this.#connected || sock === undefined) return;
    for (const f of this.#held) {
      if (f.written) continue;
      if (sock.writableNeedDrain) return;
      sock.write(f.buf);
      f.written = true;
      this.#stats.written++;
      if (f.everWritten) this.#stats.resent++;
      f.everWritten = true;
    }
  }

  /** Stop reconnecting and close the connection after what is queued on it is written. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    const sock = this.#socket;
    if (sock === undefined || sock.destroyed) return;
    await new Promise<void>((resolve) => {
      sock.once('close', () => resolve());
      sock.end();
      setTimeout(() => sock.destroy(), 1_000).unref();
    });
  }

  /** Resolves when the current connection attempt has connected or failed. */
  attempted(): Promise<void> {
    return new Promise((resolve) => this.#attempted.push(resolve));
  }

  /** Open (or reopen) the connection. */
  start(): void {
    if (this.#closed) return;
    const sock = this.#connect();
    this.#socket = sock;
    const splitter = new FrameSplitter(1024 * 1024);
    sock.on('connect', () => {
      this.#connected = true;
      this.#failures = 0;
      if (this.#everConnected) this.#stats.reconnects++;
      this.#everConnected = true;
      for (const f of this.#held) f.written = false;
      this.#pump();
      for (const w of this.#waiters.splice(0)) w();
      for (const w of this.#attempted.splice(0)) w();
    });
    sock.on('data', (chunk: Buffer) => {
      try {
        for (const body of splitter.push(chunk)) {
          const f = decodeFrame(body);
          if (f.type === FRAME_ACK && f.epoch === this.epoch) this.#onAck(f.seqs);
        }
      } catch (err) {
        this.#logger.warn({ err }, 'broker client: bad frame from broker; reconnecting');
        sock.destroy();
      }
    });
    sock.on('drain', () => this.#pump());
    sock.on('error', (err) => this.#logger.debug({ err }, 'broker client: connection error'));
    sock.on('close', () => {
      const was = this.#connected;
      this.#connected = false;
      if (this.#socket === sock) this.#socket = undefined;
      for (const w of this.#attempted.splice(0)) w();
      if (this.#closed) return;
      if (was) this.#logger.info({}, 'broker client: connection lost; reconnecting');
      const delay = Math.min(this.#maxDelay, this.#minDelay * 2 ** this.#failures++);
      this.#timer = setTimeout(() => this.start(), delay / 2 + Math.random() * (delay / 2));
      this.#timer.unref();
    });
  }

  #onAck(seqs: number[]): void {
    const acked = new Set(seqs);
    let j = 0;
    for (let i = 0; i < this.#held.length; i++) {
      const f = this.#held[i]!;
      if (acked.has(f.seq)) this.#stats.acked++;
      else this.#held[j++] = f;
    }
    this.#held.length = j;
  }
}

/**
 * Connect to a broker. Resolves once the first attempt has succeeded or failed: a broker that is not
 * up yet is not an error — windows are held and sent when it comes (see `whenConnected()`).
 *
 * @example
 * ```ts
 * const client = await connectBroker({ socketPath: '/run/fleetwatch.sock' });
 * const handle = registry.reportTo(client);
 * ```
 */
export async function connectBroker(options: ConnectBrokerOptions): Promise<BrokerClient> {
  if (options === null || typeof options !== 'object') throw validationError('options', 'an object', options);
  throwIfAborted(options.signal);
  const client = new BrokerClient(options);
  const attempted = client.attempted();
  client.start();
  await Promise.race([
    client.whenConnected(options.signal ? { signal: options.signal } : {}),
    attempted,
  ]).catch((err: unknown) => {
    void client.close();
    throw err;
  });
  return client;
}
