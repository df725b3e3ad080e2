/**
 * A local replay server for provider tests: listens on 127.0.0.1:0 and answers each request with
 * what the test's handler returns (responses written from the providers' API docs).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FleetwatchError } from '../../src/errors.js';

/** A request the server received. */
export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the handler answers. `body` objects are sent as JSON. */
export interface ReplayResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Declare this many more bytes than sent and cut the connection (a truncated body). */
  truncate?: boolean;
}

/** A running replay server. */
export interface ReplayServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Start a replay server on 127.0.0.1 with a random port. */
export async function startReplayServer(
  handler: (req: RecordedRequest) => ReplayResponse | Promise<ReplayResponse>,
): Promise<ReplayServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(rec);
      let out: ReplayResponse;
      try {
        out = await handler(rec);
      } catch (err) {
        out = { status: 599, body: { message: String(err) } };
      }
      const text =
        out.body === undefined ? '' : typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
      const buf = Buffer.from(text, 'utf8');
      const headers: Record<string, string | number> = {
        'content-type': 'application/json; charset=utf-8',
        ...out.headers,
      };
      if (out.truncate) {
        res.writeHead(out.status ?? 200, { ...headers, 'content-length': buf.length + 100 });
        res.write(buf.subarray(0, Math.floor(buf.length / 2)));
        setTimeout(() => res.socket?.destroy(), 5).unref();
        return;
      }
      res.writeHead(out.status ?? 200, { ...headers, 'content-length': buf.length });
      res.end(buf);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A sleep that records waits and returns at once (tests never really sleep). */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms: number) => {
      waits.push(ms);
    },
  };
}

/** Drain an async iterable into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The rejection of `p` (fails the test if it resolves). */
export async function catchErr(p: Promise<unknown>): Promise<FleetwatchError> {
  try {
    await p;
  } catch (err) {
    return err as FleetwatchError;
  }
  throw new Error('expected a rejection');
}

/** Set environment variables for the duration of `fn` (undefined deletes), restoring them after. */
export function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  apply(vars);
  try {
    return fn();
  } finally {
    apply(saved);
  }
}

/** A JSON answer of a fake API. */
export const json = (body: unknown, status = 200): ReplayResponse => ({ status, body });

/**
 * A fake API's view of a request: its URL, the path after the API's version prefix (`/v2/`) and
 * the `per_page` asked for (`defaultPerPage` when absent).
 */
export function requestPath(
  req: RecordedRequest,
  version: string,
  defaultPerPage: number,
): { url: URL; path: string; perPage: number } {
  const url = new URL(req.url, 'http://x');
  const perPage = Number(url.searchParams.get('per_page') ?? defaultPerPage);
  return { url, path: url.pathname.replace(new RegExp(`^.*/${version}/`), ''), perPage };
}
