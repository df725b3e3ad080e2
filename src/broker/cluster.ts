/**
 * The Node cluster / child_process transport. In workers, {@link clusterReporter} is the registry's
 * sink: one IPC message per window carrying the same binary frame as the socket transport (a
 * Uint8Array with `serialization: 'advanced'`, base64 with the default JSON channel). On the primary,
 * {@link attachCluster} (every cluster worker) or {@link attachProcess} (one forked child) feeds those
 * frames to a broker.
 */
import type { ChildProcess } from 'node:child_process';
import nodeCluster, { type Cluster, type Worker } from 'node:cluster';
import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { nonEmptyString, positiveNumber, rejectUnknownKeys } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import type { MetricsSink, WindowSnapshot } from '../metrics/types.js';
import type { MetricsBroker } from './broker.js';
import { snapshotSeries, validateSnapshot } from './client.js';
import { FrameEncoder, LENGTH_BYTES } from './protocol.js';

/** The IPC message a worker sends per window. */
export interface ClusterWindowMessage {
  fleetwatch: 'window';
  /** A WINDOW frame including its length prefix: bytes, or base64 over a JSON channel. */
  frame: Uint8Array | string;
}

/** True when `msg` is a {@link ClusterWindowMessage}. */
export function isClusterWindowMessage(msg: unknown): msg is ClusterWindowMessage {
  return (
    typeof msg === 'object' &&
    msg !== null &&
    (msg as { fleetwatch?: unknown }).fleetwatch === 'window' &&
    (typeof (msg as { frame?: unknown }).frame === 'string' ||
      (msg as { frame?: unknown }).frame instanceof Uint8Array)
  );
}

/** Feed one IPC message to the broker if it is a window frame. True when it was one. */
function deliver(broker: MetricsBroker, msg: unknown): boolean {
  if (!isClusterWindowMessage(msg)) return false;
  const bytes =
    typeof msg.frame === 'string'
      ? Buffer.from(msg.frame, 'base64')
      : Buffer.from(msg.frame.buffer, msg.frame.byteOffset, msg.frame.byteLength);
  // The length prefix is redundant over IPC (messages keep their boundaries): check it and strip it.
  if (bytes.length < LENGTH_BYTES || bytes.readUInt32LE(0) !== bytes.length - LENGTH_BYTES) {
    broker.ingestFrame(Buffer.alloc(0)); // counted as a bad frame
    return true;
  }
  broker.ingestFrame(bytes.subarray(LENGTH_BYTES));
  return true;
}

/**
 * On a cluster primary: merge the windows of every worker (present and future) into `broker`.
 * Returns a function that detaches. Other IPC messages are left alone.
 *
 * @example
 * ```ts
 * // primary
 * cluster.setupPrimary({ serialization: 'advanced' });
 * const broker = await MetricsBroker.start({ store });
 * attachCluster(broker);
 * // worker
 * registry.reportTo(clusterReporter());
 * ```
 */
export function attachCluster(broker: MetricsBroker, options: { cluster?: Cluster } = {}): () => void {
  const c = options.cluster ?? nodeCluster;
  if (!c.isPrimary) throw validationError('cluster.isPrimary', 'to be called on the cluster primary', false);
  const onMessage = (_worker: Worker, msg: unknown) => {
    deliver(broker, msg);
  };
  c.on('message', onMessage);
  return () => {
    c.off('message', onMessage);
  };
}

/**
 * Merge the windows a forked child (`child_process.fork`) sends into `broker`. Returns a function
 * that detaches. Other IPC messages are left alone.
 *
 * @example
 * ```ts
 * // parent
 * const child = fork('./worker.js', { serialization: 'advanced' });
 * const detach = attachProcess(broker, child);
 * // child (worker.js)
 * registry.reportTo(clusterReporter());
 * ```
 */
export function attachProcess(broker: MetricsBroker, child: ChildProcess): () => void {
  const onMessage = (msg: unknown) => {
    deliver(broker, msg);
  };
  child.on('message', onMessage);
  return () => {
    child.off('message', onMessage);
  };
}

/**
 * The worker side of the IPC transport: each window goes to the primary (or parent) as one IPC
 * message; windows that cannot be sent are counted in `dropped`. Made by {@link clusterReporter}.
 *
 * @example
 * ```ts
 * const reporter = clusterReporter();
 * const report = registry.reportTo(reporter);
 * process.on('SIGTERM', async () => {
 *   await report.stop(); // the last window is handed to the IPC channel
 *   process.disconnect();
 * });
 * ```
 */
export class ClusterReporter implements MetricsSink {
  /** The window length in ms (from the `intervalMs` option). */
  readonly intervalMs: number;
  /** This process's id in frames (from the `sourceId` option). */
  readonly sourceId: string;
  /** Random per reporter: lets the broker tell a restarted process from a resend. */
  readonly epoch = randomInt(0, 2 ** 32 - 1);
  readonly #encoder = new FrameEncoder();
  readonly #advanced = process.env.NODE_CHANNEL_SERIALIZATION_MODE === 'advanced';
  #seq = 0;
  /** Sends whose `process.send` callback has not run yet. */
  readonly #pending = new Set<Promise<void>>();
  /** Windows that could not be handed to the IPC channel (no channel, or it closed). */
  dropped = 0;

  /** Use {@link clusterReporter}. */
  constructor(options: Parameters<typeof clusterReporter>[0] = {}) {
    rejectUnknownKeys(options, ['sourceId', 'intervalMs']);
    this.sourceId = nonEmptyString(options.sourceId ?? `${hostname()}:${process.pid}`, 'options.sourceId');
    this.intervalMs = positiveNumber(options.intervalMs ?? 10_000, 'options.intervalMs', {
      integer: true,
      min: 1,
    });
    if (typeof process.send !== 'function') {
      throw new FleetwatchError(
        'E_CONFIG',
        'clusterReporter() needs an IPC channel (run under cluster or fork)',
      );
    }
  }

  /**
   * Send one window to the primary as one message. The promise resolves once the message is handed
   * off (the `process.send` callback ran; a window that could not be sent is counted in `dropped`), so
   * the registry's `report.stop()`, which awaits it, resolves only after the last window is out and a
   * worker may `process.disconnect()` right away. It never rejects.
   */
  send(snapshot: WindowSnapshot): Promise<void> {
    validateSnapshot(snapshot);
    const frame = this.#encoder.window(
      {
        sourceId: this.sourceId,
        epoch: this.epoch,
        seq: this.#seq++,
        windowStart: snapshot.windowStart,
        intervalMs: snapshot.intervalMs,
      },
      snapshotSeries(snapshot),
    );
    const msg: ClusterWindowMessage = {
      fleetwatch: 'window',
      frame: this.#advanced ? new Uint8Array(frame) : frame.toString('base64'),
    };
    if (process.send === undefined || process.connected === false) {
      this.dropped++;
      return Promise.resolve();
    }
    const handedOff = new Promise<void>((resolve) => {
      const done = (err: Error | null) => {
        if (err) this.dropped++;
        resolve();
      };
      try {
        // checked just above; the executor runs synchronously
        process.send!(msg, undefined, undefined, done);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
    this.#pending.add(handedOff);
    void handedOff.then(() => this.#pending.delete(handedOff));
    return handedOff;
  }

  /** Windows handed to `process.send` whose callback has not run yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Resolve once every window sent so far has been handed off (or counted as dropped). */
  async flushed(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}

/**
 * A sink for `registry.reportTo()` in a cluster worker or forked child; the primary merges what it
 * sends with {@link attachCluster} (or {@link attachProcess}). Throws `E_CONFIG` without an IPC channel.
 *
 * @example
 * ```ts
 * if (cluster.isWorker) registry.reportTo(clusterReporter({ intervalMs: 10_000 }));
 * ```
 */
export function clusterReporter(
  options: {
    /** @default `hostname:pid` */
    sourceId?: string;
    /** The window length; match the broker's. @default 10000 */
    intervalMs?: number;
  } = {},
): ClusterReporter {
  return new ClusterReporter(options);
}
