import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Limits a {@link guardConnections} guard applies to an HTTP server. */
export interface ConnectionLimits {
  /** Connections open at once; more are closed at accept. */
  maxConnections: number;
  /** From accepting a connection (or finishing the previous response on it) to the end of the request headers. */
  headersTimeoutMs: number;
  /** From the same start to the end of the request body. */
  requestTimeoutMs: number;
}

/** What a guard closed, by reason (totals), and the connections open now. */
export interface ConnectionCounts {
  connectionsRefused: number;
  headersTimeouts: number;
  requestTimeouts: number;
  connections: number;
}

interface Tracked {
  timer: NodeJS.Timeout | undefined;
  since: number;
}

/**
 * Protect a `node:http` server from slow and numerous clients: refuse connections beyond
 * `maxConnections`, and close a connection whose request headers (then body) are not complete
 * `headersTimeoutMs` (then `requestTimeoutMs`) after it was accepted or its previous response was
 * sent. Each cut is counted in `counts`. Node's own `headersTimeout`/`requestTimeout` are set a
 * second later as a backstop (they are checked only every `connectionsCheckingInterval`).
 * Returns the open sockets (to destroy them on close).
 *
 * @internal
 * @example
 * ```ts
 * const counts = { connectionsRefused: 0, headersTimeouts: 0, requestTimeouts: 0, connections: 0 };
 * const sockets = guardConnections(server, { maxConnections: 64, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 }, counts);
 * ```
 */
export function guardConnections(
  server: Server,
  limits: ConnectionLimits,
  counts: ConnectionCounts,
): Set<Socket> {
  const tracked = new Map<Socket, Tracked>();
  const sockets = new Set<Socket>();
  server.headersTimeout = limits.headersTimeoutMs + 1_000;
  server.requestTimeout = Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs) + 1_000;
  const cut = (s: Socket, reason: 'headersTimeouts' | 'requestTimeouts', ms: number, t: Tracked) => {
    clearTimeout(t.timer);
    t.timer = setTimeout(
      () => {
        counts[reason]++;
        s.destroy();
      },
      Math.max(0, ms),
    );
    t.timer.unref();
  };
  const awaitHeaders = (s: Socket, t: Tracked) => {
    t.since = Date.now();
    cut(s, 'headersTimeouts', limits.headersTimeoutMs, t);
  };
  server.on('connection', (s: Socket) => {
    if (sockets.size >= limits.maxConnections) {
      counts.connectionsRefused++;
      s.destroy();
      return;
    }
    const t: Tracked = { timer: undefined, since: 0 };
    sockets.add(s);
    tracked.set(s, t);
    counts.connections = sockets.size;
    awaitHeaders(s, t);
    s.on('close', () => {
      clearTimeout(t.timer);
      sockets.delete(s);
      tracked.delete(s);
      counts.connections = sockets.size;
    });
  });
  server.on('request', (req, res) => {
    const s = req.socket;
    const t = tracked.get(s);
    if (t === undefined) return;
    if (req.complete) clearTimeout(t.timer);
    else {
      cut(s, 'requestTimeouts', limits.requestTimeoutMs - (Date.now() - t.since), t);
      req.once('end', () => clearTimeout(t.timer));
    }
    res.once('finish', () => {
      if (!s.destroyed) awaitHeaders(s, t);
    });
  });
  return sockets;
}
