/**
 * The `http` check: one request on a fresh connection (`agent: false`, no retries) with honest
 * phase timings from socket events. Metrics, all in ms from the start of the request: `tt_dns`,
 * `tt_connect`, `tt_tls` (https), `tt_firstbyte`, `duration`; plus `code` (a string, as in
 * Rackspace), `bytes`, `truncated`, `redirects`, `body_match`, `body_match_<key>`,
 * `body_match_truncated` (the regexes read less than the body: see `maxMatchChars`), `json_match`, and for https the `cert_*` metrics of the `tls` check (`cert_end_in` in seconds).
 */
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { validationError } from '../errors.js';
import {
  abortedError,
  configObject,
  failedRun,
  optBool,
  optInt,
  optMaxMatchChars,
  optRegex,
  optString,
  optStringRecord,
  since,
} from './config.js';
import { defaultCheckLookup } from './resolve.js';
import { type SafeRegex, sharedMatchChars } from './safe-regex.js';
import { hasPlaceholders, hostTargetProblem } from './targets.js';
import { certMetrics } from './tls.js';
import type { CheckMetrics, CheckOutcome, CheckType, MetricValue } from './types.js';

/** Largest `maxBodyBytes` accepted: 1 MiB. */
const MAX_BODY_BYTES = 1_048_576;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Config of an `http` check. String fields may use `{ip}`, `{name}`, `{host}`, `{tag.x}` placeholders. */
export interface HttpCheckConfig {
  /** URL to request. @default the target when it is a URL, else `http://{host}/` */
  url?: string;
  /** @default 'GET' */
  method: string;
  headers?: Record<string, string>;
  /** Request body. */
  body?: string;
  /** Accepted status codes. @default 200–399 */
  expectStatus?: number[];
  /**
   * Regex (RE2 syntax, linear-time) the body must match; reported as `body_match`. It reads the first
   * `maxMatchChars` characters of the body at most (fewer for a large pattern: see `maxMatchChars`).
   */
  bodyRegex?: SafeRegex;
  /** Named regexes (RE2 syntax), reported as `body_match_<key>` (all must match). */
  bodyMatches?: Record<string, SafeRegex>;
  /** JSON-path assertions on the body: `{ '$.status': 'UP', 'checks[0].ok': true }`. */
  json?: Record<string, MetricValue | null>;
  /** Follow redirects (each on a fresh connection; timings accumulate). @default true */
  followRedirects: boolean;
  /** @default 5 */
  maxRedirects: number;
  /** Verify the server certificate. @default true */
  verifyTls: boolean;
  /** Extra trusted CA certificate(s), PEM. */
  ca?: string;
  /**
   * Body bytes read at most (0..1 MiB); the rest is not read and sets `truncated`. What the JSON
   * assertions see, and the regexes up to `maxMatchChars`. @default 102400
   */
  maxBodyBytes: number;
  /**
   * Characters of the body `bodyRegex` and `bodyMatches` read at most (1..1 Mi). All of them together
   * also stay within `MATCH_WORK_BUDGET` (instructions × characters), so patterns with a large compiled
   * program read fewer: `floor(300000 / Σ programSize)`. This keeps one response from holding the event
   * loop more than about 50 ms. @default 65536
   */
  maxMatchChars: number;
}

/** The `http` check type. */
export const httpCheck: CheckType<HttpCheckConfig> = {
  type: 'http',
  normalize(value, path) {
    const c = configObject(value, path, [
      'url',
      'method',
      'headers',
      'body',
      'expectStatus',
      'bodyRegex',
      'bodyMatches',
      'json',
      'followRedirects',
      'maxRedirects',
      'verifyTls',
      'ca',
      'maxBodyBytes',
      'maxMatchChars',
    ]);
    const method = (optString(c.method, `${path}.method`) ?? 'GET').toUpperCase();
    if (!METHODS.includes(method)) throw validationError(`${path}.method`, METHODS.join(', '), c.method);
    let expectStatus: number[] | undefined;
    if (c.expectStatus !== undefined) {
      const list = Array.isArray(c.expectStatus) ? c.expectStatus : [c.expectStatus];
      expectStatus = list.map((s, i) => optInt(s, `${path}.expectStatus[${i}]`, 0, 100, 599));
    }
    let bodyMatches: Record<string, SafeRegex> | undefined;
    const bm = optStringRecord(c.bodyMatches, `${path}.bodyMatches`);
    if (bm) {
      bodyMatches = {};
      for (const [k, v] of Object.entries(bm)) bodyMatches[k] = optRegex(v, `${path}.bodyMatches.${k}`)!;
    }
    if (c.json !== undefined && (typeof c.json !== 'object' || c.json === null || Array.isArray(c.json)))
      throw validationError(`${path}.json`, 'an object of path → expected value', c.json);
    const url = optString(c.url, `${path}.url`);
    if (url !== undefined && !hasPlaceholders(url) && !isHttpUrl(url))
      throw validationError(`${path}.url`, 'an absolute http(s) URL', url);
    const headers = optStringRecord(c.headers, `${path}.headers`);
    const body = optString(c.body, `${path}.body`);
    const bodyRegex = optRegex(c.bodyRegex, `${path}.bodyRegex`);
    const ca = optString(c.ca, `${path}.ca`);
    return {
      method,
      followRedirects: optBool(c.followRedirects, `${path}.followRedirects`, true),
      maxRedirects: optInt(c.maxRedirects, `${path}.maxRedirects`, 5, 0, 20),
      verifyTls: optBool(c.verifyTls, `${path}.verifyTls`, true),
      maxBodyBytes: optInt(c.maxBodyBytes, `${path}.maxBodyBytes`, 102_400, 0, MAX_BODY_BYTES),
      maxMatchChars: optMaxMatchChars(c.maxMatchChars, path),
      ...(url !== undefined ? { url } : {}),
      ...(headers !== undefined ? { headers } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(expectStatus !== undefined ? { expectStatus } : {}),
      ...(bodyRegex !== undefined ? { bodyRegex } : {}),
      ...(bodyMatches !== undefined ? { bodyMatches } : {}),
      ...(c.json !== undefined ? { json: c.json as Record<string, MetricValue | null> } : {}),
      ...(ca !== undefined ? { ca } : {}),
    };
  },
  checkTarget(target, config) {
    if (target.url !== undefined)
      return /^https?:$/i.test(new URL(target.url).protocol) ? undefined : 'an http: or https: URL';
    // a plain host is requested as http://host/ (unless `url` is set): a port needs a URL
    return config.url !== undefined
      ? hostTargetProblem(target, 'optional', 'a URL or a host')
      : hostTargetProblem(target, 'none', 'an http(s) URL or a host (write a URL for another port)');
  },
  async run(config, target, opts): Promise<CheckOutcome> {
    let url =
      config.url ?? target.url ?? `http://${target.host.includes(':') ? `[${target.host}]` : target.host}/`;
    const t0 = performance.now();
    const metrics: CheckMetrics = {};
    let redirects = 0;
    for (;;) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw validationError('http.url', 'an absolute http(s) URL', url);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        throw validationError('http.url', 'an http: or https: URL', parsed.protocol);
      let hop: Hop;
      try {
        hop = await requestOnce(parsed, config, t0, metrics, opts.signal);
      } catch (err) {
        return failedRun(err, opts.signal, metrics, t0);
      }
      const status = hop.res.statusCode ?? 0;
      const location = hop.res.headers.location;
      if (
        config.followRedirects &&
        status >= 300 &&
        status < 400 &&
        location &&
        redirects < config.maxRedirects
      ) {
        hop.res.resume();
        hop.req.destroy();
        redirects++;
        url = new URL(location, parsed).toString();
        continue;
      }
      metrics.code = String(status);
      metrics.redirects = redirects;
      let body: string;
      try {
        body = await readBody(hop.res, config.maxBodyBytes, metrics, opts.signal);
      } catch (err) {
        return failedRun(err, opts.signal, metrics, t0);
      } finally {
        hop.req.destroy();
      }
      metrics.duration = since(t0, performance.now());
      return { metrics, ...assertResponse(config, status, body, metrics) };
    }
  },
};

interface Hop {
  req: ClientRequest;
  res: IncomingMessage;
}

/** One request on a fresh socket; records cumulative phase timings into `metrics`. */
function requestOnce(
  url: URL,
  config: HttpCheckConfig,
  t0: number,
  metrics: CheckMetrics,
  signal: AbortSignal | undefined,
): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    const make = https ? httpsRequest : httpRequest;
    const req = make(url, {
      method: config.method,
      agent: false,
      lookup: defaultCheckLookup(),
      headers: { 'user-agent': 'fleetwatch-check', ...config.headers },
      ...(signal ? { signal } : {}),
      // verification is done below, after the certificate's metrics are taken, so a bad or expired
      // certificate still reports cert_end_in / cert_error
      ...(https ? { rejectUnauthorized: false, ...(config.ca ? { ca: config.ca } : {}) } : {}),
    });
    req.once('socket', (socket: Socket) => {
      socket.once('lookup', () => {
        metrics.tt_dns = since(t0, performance.now());
      });
      socket.once('connect', () => {
        metrics.tt_connect = since(t0, performance.now());
      });
      if (https) {
        socket.once('secureConnect', () => {
          metrics.tt_tls = since(t0, performance.now());
          const tls = socket as TLSSocket;
          Object.assign(metrics, certMetrics(tls, Date.now()));
          if (config.verifyTls && !tls.authorized)
            req.destroy(new Error(`certificate: ${String(tls.authorizationError)}`));
        });
      }
    });
    req.once('response', (res) => {
      metrics.tt_firstbyte = since(t0, performance.now());
      if (metrics.tt_dns === undefined) metrics.tt_dns = 0;
      resolve({ req, res });
    });
    req.once('error', (err) => reject(signal?.aborted ? abortedError(signal) : err));
    req.end(config.body);
  });
}

function readBody(
  res: IncomingMessage,
  max: number,
  metrics: CheckMetrics,
  signal: AbortSignal | undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let kept = 0;
    let truncated = false;
    const finish = () => {
      metrics.bytes = bytes;
      metrics.truncated = truncated;
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (kept < max) {
        const part = chunk.subarray(0, max - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (bytes > max && !truncated) {
        truncated = true;
        res.destroy();
        finish();
      }
    });
    res.once('end', () => {
      if (!truncated) finish();
    });
    res.once('error', (err) => {
      if (!truncated) reject(signal?.aborted ? abortedError(signal) : err);
    });
    res.once('aborted', () => {
      if (!truncated) reject(signal?.aborted ? abortedError(signal) : new Error('response aborted'));
    });
  });
}

function assertResponse(
  config: HttpCheckConfig,
  status: number,
  body: string,
  metrics: CheckMetrics,
): Pick<CheckOutcome, 'error' | 'alarmable'> {
  const errors: string[] = [];
  const ok = config.expectStatus ? config.expectStatus.includes(status) : status >= 200 && status < 400;
  const regexes = [
    ...(config.bodyRegex ? [config.bodyRegex] : []),
    ...Object.values(config.bodyMatches ?? {}),
  ];
  const limit = sharedMatchChars(regexes, config.maxMatchChars);
  if (regexes.length > 0) metrics.body_match_truncated = body.length > limit;
  if (config.bodyRegex) {
    metrics.body_match = config.bodyRegex.test(body, limit);
    if (!metrics.body_match) errors.push(`body did not match ${config.bodyRegex.source}`);
  }
  for (const [key, re] of Object.entries(config.bodyMatches ?? {})) {
    const m = re.test(body, limit);
    metrics[`body_match_${key}`] = m;
    if (!m) errors.push(`body did not match ${key}`);
  }
  if (config.json) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      doc = undefined;
    }
    let all = doc !== undefined;
    if (!all) errors.push('body is not JSON');
    else {
      for (const [path, want] of Object.entries(config.json)) {
        const got = jsonPath(doc, path);
        if (!jsonEqual(got, want)) {
          all = false;
          errors.push(`${path} is ${JSON.stringify(got) ?? 'missing'}, expected ${JSON.stringify(want)}`);
        }
      }
    }
    metrics.json_match = all;
  }
  if (ok) return errors.length > 0 ? { error: errors.join('; ') } : {};
  // an unexpected status is for the alarm to judge when the check has one (it sees `code`)
  return {
    error: [`status ${status}`, ...errors].join('; '),
    alarmable: errors.length > 0 ? { remaining: errors.join('; ') } : {},
  };
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Resolve a simple JSON path (`$.a.b[0].c`, `a.b.0`) in a parsed document. */
export function jsonPath(doc: unknown, path: string): unknown {
  const parts = path
    .replace(/^\$\.?/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((p) => p !== '');
  let cur: unknown = doc;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function jsonEqual(got: unknown, want: unknown): boolean {
  if (got === want) return true;
  if ((typeof got === 'number' || typeof got === 'boolean') && typeof want === 'string')
    return String(got) === want;
  return false;
}
