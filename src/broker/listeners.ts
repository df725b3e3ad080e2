import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { FleetwatchError } from '../errors.js';
import type { NormalizedOptions } from './options.js';
import { FrameSplitter } from './protocol.js';
import type { BrokerStats } from './stats.js';
import { listenStatsd, type StatsdListener } from './statsd.js';

/** What the listeners hand frames and datagrams to. */
export interface ListenerSink {
  /** One frame body from a connection; false when it was refused and the connection should close. */
  frame(body: Buffer, reply: (ack: Buffer) => void): boolean;
  statsd(packet: Buffer): void;
  error(err: Error): void;
  /** Bytes of frames received and waiting to be merged (part of the global budget). */
  queuedBytes(): number;
}

interface Connection {
  splitter: FrameSplitter;
  /** Bytes of this connection's partial frame counted in the budget. */
  held: number;
  frameTimer: NodeJS.Timeout | undefined;
}

/**
 * The broker's sockets: Unix/TCP servers with a connection limit, per-connection idle and
 * partial-frame timeouts and a global budget of buffered bytes, and the StatsD UDP socket. Every
 * connection it closes is counted under its reason.
 */
export class Listeners {
  readonly #o: NormalizedOptions;
  readonly #stats: BrokerStats;
  readonly #sink: ListenerSink;
  readonly #servers: Server[] = [];
  readonly #sockets = new Map<Socket, Connection>();
  #partialBytes = 0;
  #statsd: StatsdListener | undefined;
  /** The bound TCP port. */
  port: number | undefined;

  constructor(o: NormalizedOptions, stats: BrokerStats, sink: ListenerSink) {
    this.#o = o;
    this.#stats = stats;
    this.#sink = sink;
  }

  /** The bound StatsD port. */
  get statsdPort(): number | undefined {
    return this.#statsd?.port;
  }

  /** Bytes of partial frames held across connections. */
  get partialBytes(): number {
    return this.#partialBytes;
  }

  /** Bind every listener asked for. */
  async listen(): Promise<void> {
    const { socketPath, port, host, statsd } = this.#o;
    if (socketPath !== undefined) {
      await removeStaleSocket(socketPath);
      await this.#serve((s, cb) => s.listen(socketPath, cb));
    }
    if (port !== undefined) {
      const server = await this.#serve((s, cb) => s.listen(port, host, cb));
      const addr = server.address();
      this.port = typeof addr === 'object' && addr !== null ? addr.port : undefined;
    }
    if (statsd !== undefined) {
      this.#statsd = await listenStatsd({
        port: statsd.port,
        host: statsd.host ?? host,
        ...(statsd.recvBufferSize === undefined ? {} : { recvBufferSize: statsd.recvBufferSize }),
        onPacket: (p) => this.#sink.statsd(p),
        onError: (err) => {
          this.#stats.udpErrors++;
          this.#o.logger.warn({ err }, 'broker: statsd socket error');
        },
      });
    }
  }

  /** Stop accepting connections and datagrams; open connections stay (see {@link end}). */
  async stopAccepting(): Promise<() => Promise<void>> {
    const closed = this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    await this.#statsd?.close();
    return () => Promise.all(closed).then(() => undefined);
  }

  /**
   * End every connection after what was written to it (the last ACKs) is flushed; destroy those
   * still open after `ms`.
   */
  async end(ms = 1_000): Promise<void> {
    const all = [...this.#sockets.keys()].map(
      (sock) =>
        new Promise<void>((resolve) => {
          if (sock.destroyed) return resolve();
          sock.once('close', () => resolve());
          sock.end();
          setTimeout(() => sock.destroy(), ms).unref();
        }),
    );
    await Promise.all(all);
  }

  #serve(listen: (s: Server, cb: () => void) => void): Promise<Server> {
    const server = createServer((sock) => this.#accept(sock));
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      listen(server, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#sink.error(err));
        resolve(server);
      });
    });
  }

  #accept(sock: Socket): void {
    if (this.#sockets.size >= this.#o.maxConnections) {
      this.#stats.connectionsRefused++;
      sock.destroy();
      return;
    }
    this.#stats.connections++;
    const conn: Connection = {
      splitter: new FrameSplitter(this.#o.maxFrameBytes),
      held: 0,
      frameTimer: undefined,
    };
    this.#sockets.set(sock, conn);
    const reply = (ack: Buffer) => {
      if (!sock.destroyed && sock.writable) sock.write(ack);
    };
    sock.setTimeout(this.#o.idleTimeoutMs, () => {
      this.#stats.idleTimeouts++;
      sock.destroy();
    });
    sock.on('data', (chunk: Buffer) => this.#onData(sock, conn, chunk, reply));
    sock.on('error', () => {
      this.#stats.connectionErrors++;
    });
    sock.on('close', () => {
      clearTimeout(conn.frameTimer);
      this.#partialBytes -= conn.held;
      conn.held = 0;
      this.#sockets.delete(sock);
    });
  }

  #onData(sock: Socket, conn: Connection, chunk: Buffer, reply: (ack: Buffer) => void): void {
    if (sock.destroyed) return;
    if (this.#partialBytes + this.#sink.queuedBytes() + chunk.length > this.#o.maxBufferedBytes) {
      this.#stats.bufferOverflows++;
      sock.destroy();
      return;
    }
    let bodies: Buffer[];
    try {
      bodies = conn.splitter.push(chunk);
    } catch (err) {
      this.#stats.badFrames++;
      if ((err as FleetwatchError).details?.limit === 'maxFrameBytes') this.#stats.oversizedFrames++;
      sock.destroy();
      return;
    }
    const held = conn.splitter.bufferedBytes;
    this.#partialBytes += held - conn.held;
    conn.held = held;
    if (held === 0) {
      clearTimeout(conn.frameTimer);
      conn.frameTimer = undefined;
    } else if (conn.frameTimer === undefined || bodies.length > 0) {
      clearTimeout(conn.frameTimer);
      conn.frameTimer = setTimeout(() => {
        this.#stats.frameTimeouts++;
        sock.destroy();
      }, this.#o.frameTimeoutMs);
      conn.frameTimer.unref();
    }
    for (const b of bodies) {
      if (!this.#sink.frame(b, reply)) {
        sock.destroy();
        return;
      }
    }
  }
}

async function removeStaleSocket(path: string): Promise<void> {
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
