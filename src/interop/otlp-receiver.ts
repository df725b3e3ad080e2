import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzip } from 'node:zlib';
import type { IngestBatch, IngestResult } from '../broker/ingest.js';
import { rejectUnknownKeys } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import { guardConnections } from './connection-guard.js';
import { decodeOtlpMetricsSliced, encodeOtlpResponse } from './otlp-codec.js';
import { type OtlpTranslation, OtlpTranslator, type OtlpTranslatorOptions } from './otlp-translate.js';
import { OTLP_CONTENT_TYPES, type OtlpEncoding } from './otlp-types.js';

/** The broker's `otlp` option: where to accept OTLP/HTTP metrics. */
export interface BrokerOtlpOptions extends OtlpTranslatorOptions {
  /** TCP port (0 picks a free one; see `broker.otlpUrl`). */
  port: number;
  /** @default the broker's `host` ('127.0.0.1') */
  host?: string;
  /** Largest request body, before and after gzip, bytes (decoded, translated and ingested in slices of a few ms: see docs/security.md). @default 128 KiB */
  maxBodyBytes?: number;
  /** Requests decoded and translated at once (after their body is read); more get 503 (with `retry-after`). @default 4 */
  maxConcurrent?: number;
  /** Connections open at once; more are closed at accept (`connectionsRefused`). Bodies held while read are at most this × `maxBodyBytes`. @default 64 */
  maxConnections?: number;
  /** A connection must complete its request headers this long after it opened or its last response was sent (`headersTimeouts`). @default 10000 */
  headersTimeoutMs?: number;
  /** ... and its request body this long after the same start (`requestTimeouts`). @default 30000 */
  requestTimeoutMs?: number;
}

/** What the OTLP receiver has seen. Totals since start. */
export interface OtlpReceiverStats {
  requests: number;
  /** Requests refused whole (malformed, invalid, too large, wrong type, refused by the broker). */
  rejectedRequests: number;
  /** Data points accepted into the broker. */
  dataPoints: number;
  /** Data points refused: those of rejected requests, plus Summary points (never mergeable). */
  rejectedDataPoints: number;
  /** Request body bytes read. */
  bytes: number;
  /** Connections closed at accept because `maxConnections` were open. */
  connectionsRefused: number;
  /** Connections closed because their request headers were not complete in `headersTimeoutMs`. */
  headersTimeouts: number;
  /** Connections closed because their request body was not complete in `requestTimeoutMs`. */
  requestTimeouts: number;
  /** Connections open now. */
  connections: number;
}

/** What the receiver feeds: a `MetricsBroker`, or anything that takes a batch whole or not at all. */
export interface IngestTarget {
  ingest(batch: IngestBatch): IngestResult;
  /** Used instead of `ingest` when present: the same, without holding the event loop for long. */
  ingestSliced?(batch: IngestBatch, options: { signal?: AbortSignal }): Promise<IngestResult>;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** `http://host:port/v1/metrics`. */
  readonly url: string;
  stats(): OtlpReceiverStats;
  /** Stop accepting, end open connections. Idempotent. */
  close(): Promise<void>;
}

const OPTION_KEYS = [
  'port',
  'host',
  'maxBodyBytes',
  'maxConcurrent',
  'maxConnections',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'resourceAttributes',
  'maxStreams',
  'staleStreamMs',
  'maxScale',
  'explicitScale',
  'maxBuckets',
];
/**
 * Default body limit: 128 KiB (larger bodies are refused with 413 before they are read). Every stage
 * of a request (gunzip aside) runs in slices of a few ms, so a larger limit costs memory and time per
 * request, not event-loop blocking: see docs/security.md.
 */
const DEFAULT_MAX_BODY = 128 * 1024;
/** The largest body OTLP allows a sender to send (and the most `maxBodyBytes` may be). */
const MAX_BODY_LIMIT = 64 * 1024 * 1024;

/** Check the broker's `otlp` option; `E_VALIDATION` naming the field. */
export function normalizeOtlpOptions(o: unknown, path: string): BrokerOtlpOptions {
  if (o === null || typeof o !== 'object') throw validationError(path, 'an object', o);
  rejectUnknownKeys(o as Record<string, unknown>, OPTION_KEYS, path);
  const opts = o as BrokerOtlpOptions;
  const int = (v: unknown, field: string, min: number, max: number) => {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < min || (v as number) > max))
      throw validationError(`${path}.${field}`, `an integer in [${min}, ${max}]`, v);
  };
  if (opts.port === undefined) throw validationError(`${path}.port`, 'a port number', undefined);
  int(opts.port, 'port', 0, 65535);
  int(opts.maxBodyBytes, 'maxBodyBytes', 1024, MAX_BODY_LIMIT);
  int(opts.maxConcurrent, 'maxConcurrent', 1, 1024);
  int(opts.maxConnections, 'maxConnections', 1, 65_536);
  int(opts.headersTimeoutMs, 'headersTimeoutMs', 1, 2 ** 31 - 1);
  int(opts.requestTimeoutMs, 'requestTimeoutMs', 1, 2 ** 31 - 1);
  int(opts.maxStreams, 'maxStreams', 1, 10_000_000);
  int(opts.staleStreamMs, 'staleStreamMs', 0, 2 ** 31);
  int(opts.maxScale, 'maxScale', 0, 20);
  int(opts.explicitScale, 'explicitScale', 0, 20);
  int(opts.maxBuckets, 'maxBuckets', 16, 1 << 20);
  if (opts.host !== undefined && (typeof opts.host !== 'string' || opts.host === ''))
    throw validationError(`${path}.host`, 'a host name or address', opts.host);
  if (
    opts.resourceAttributes !== undefined &&
    (!Array.isArray(opts.resourceAttributes) || opts.resourceAttributes.some((a) => typeof a !== 'string'))
  )
    throw validationError(
      `${path}.resourceAttributes`,
      'an array of attribute names',
      opts.resourceAttributes,
    );
  return opts;
}

/** A refusal: HTTP status and the error sent back (as an OTLP `Status` message text). */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly error: FleetwatchError,
  ) {
    super(error.message);
  }
}

/**
 * Accept OTLP/HTTP metrics (`POST /v1/metrics`, `application/x-protobuf` or `application/json`,
 * optionally gzip) and feed each request, whole or not at all, to `target.ingest`. Bodies over
 * `maxBodyBytes` get 413, malformed or invalid ones 400 with the `FleetwatchError` code and field in
 * the message, an unknown content type 415; every refusal is counted. Replies are in the request's
 * encoding; Summary points (which cannot be merged) come back as `partialSuccess.rejectedDataPoints`.
 *
 * @example
 * ```ts
 * const receiver = await startOtlpReceiver(broker, { port: 4318, host: '127.0.0.1' });
 * // OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=receiver.url
 * await receiver.close();
 * ```
 */
export async function startOtlpReceiver(
  target: IngestTarget,
  options: BrokerOtlpOptions & { now?: () => number },
): Promise<OtlpReceiver> {
  normalizeOtlpOptions(
    Object.fromEntries(Object.entries(options).filter(([k]) => k !== 'now')),
    'options.otlp',
  );
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const maxConcurrent = options.maxConcurrent ?? 4;
  const now = options.now ?? Date.now;
  const translator = new OtlpTranslator(options);
  const stats: OtlpReceiverStats = {
    requests: 0,
    rejectedRequests: 0,
    dataPoints: 0,
    rejectedDataPoints: 0,
    bytes: 0,
    connectionsRefused: 0,
    headersTimeouts: 0,
    requestTimeouts: 0,
    connections: 0,
  };
  let active = 0;
  const closed = new AbortController();
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    let encoding: OtlpEncoding = 'json';
    try {
      if ((req.url ?? '').split('?')[0] !== '/v1/metrics')
        throw new Refusal(404, refusal('path', 'POST /v1/metrics', req.url));
      if (req.method !== 'POST') throw new Refusal(405, refusal('method', 'POST', req.method));
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type === OTLP_CONTENT_TYPES.protobuf) encoding = 'protobuf';
      else if (type !== OTLP_CONTENT_TYPES.json)
        throw new Refusal(415, refusal('content-type', 'application/x-protobuf or application/json', type));
      const ce = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (ce !== 'identity' && ce !== 'gzip')
        throw new Refusal(415, refusal('content-encoding', 'gzip or identity', ce));
      // The body is read first (slow senders hold a connection, not a decoding slot: the timeouts
      // and the connection limit bound them).
      let body = await readBody(req, maxBody);
      stats.bytes += body.length;
      if (active >= maxConcurrent)
        throw new Refusal(503, refusal('request', 'fewer concurrent requests', active));
      active++;
      let t: OtlpTranslation;
      try {
        if (ce === 'gzip') body = await gunzipBounded(body, maxBody);
        const request = await decodeOtlpMetricsSliced(body, encoding, { signal: closed.signal });
        // One translation at a time, from translating to committing: a cumulative stream's delta is
        // taken against the last point committed.
        t = await serially(async () => {
          const t = await translator.translateSliced(request, now(), { signal: closed.signal });
          const source = `otlp:${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`;
          const batch = { source, items: t.items };
          const result =
            t.items.length === 0
              ? { accepted: 0 }
              : target.ingestSliced === undefined
                ? target.ingest(batch)
                : await target.ingestSliced(batch, { signal: closed.signal });
          if ('rejected' in result) {
            stats.rejectedDataPoints += t.points;
            throw new Refusal(
              400,
              new FleetwatchError('E_VALIDATION', `OTLP request refused by the broker: ${result.reason}`, {
                ...(result.field === undefined ? {} : { path: result.field }),
              }),
            );
          }
          t.commit();
          return t;
        });
      } finally {
        active--;
      }
      stats.dataPoints += t.points - t.unsupported;
      stats.rejectedDataPoints += t.unsupported;
      const response =
        t.unsupported > 0
          ? {
              partialSuccess: {
                rejectedDataPoints: String(t.unsupported),
                errorMessage: 'Summary points cannot be merged; send histograms',
              },
            }
          : {};
      res.writeHead(200, { 'content-type': OTLP_CONTENT_TYPES[encoding] });
      res.end(encodeOtlpResponse(response, encoding));
    } catch (err) {
      stats.rejectedRequests++;
      const r =
        err instanceof Refusal
          ? err
          : err instanceof FleetwatchError
            ? new Refusal(
                err.code === 'E_MALFORMED_REQUEST' && err.details?.tooLarge === true ? 413 : 400,
                err,
              )
            : new Refusal(500, new FleetwatchError('E_INTERNAL', 'OTLP receiver failed', { cause: err }));
      const message = `${r.error.code}${r.error.path === undefined ? '' : ` at ${r.error.path}`}: ${r.error.message}`;
      res.writeHead(r.status, {
        'content-type': OTLP_CONTENT_TYPES[encoding],
        ...(r.status === 413 || r.status >= 500 ? { connection: 'close' } : {}),
        ...(r.status === 503 ? { 'retry-after': '1' } : {}),
      });
      // google.rpc.Status { code: 3 INVALID_ARGUMENT, message } — JSON form; protobuf senders get the same text.
      res.end(encoding === 'json' ? JSON.stringify({ code: 3, message }) : Buffer.from(message));
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.maxHeadersCount = 100;
  const sockets = guardConnections(
    server,
    {
      maxConnections: options.maxConnections ?? 64,
      headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    },
    stats,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : options.port;
  const host = options.host ?? '127.0.0.1';
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1/metrics`,
    stats: () => ({ ...stats }),
    close: () => {
      closed.abort();
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

function refusal(path: string, expected: string, received: unknown): FleetwatchError {
  return validationError(path, expected, received);
}

function tooLarge(limit: number): FleetwatchError {
  return new FleetwatchError('E_MALFORMED_REQUEST', `OTLP body larger than ${limit} bytes`, {
    path: 'body',
    details: { tooLarge: true, limit },
  });
}

/** Read the body, refusing (413) as soon as it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, n)));
    req.on('error', reject);
  });
}

function gunzipBounded(body: Buffer, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: limit }, (err, out) => {
      if (err === null) resolve(out);
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') reject(tooLarge(limit));
      else
        reject(
          new FleetwatchError('E_MALFORMED_REQUEST', 'OTLP body: bad gzip data', {
            path: 'body',
            cause: err,
          }),
        );
    });
  });
}
