/**
 * The `dns` check: one query to one server through `node:dns` `Resolver` (c-ares, off the libuv
 * thread pool, no /etc/hosts). Metrics: `rcode` (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, NOTIMP,
 * FORMERR, or TIMEOUT / CONNREFUSED when no answer came), `answer` (sorted, space-separated),
 * `answers` (count), `ttl` (s, smallest; A/AAAA only), `duration` and `rtt` (ms).
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { validationError } from '../errors.js';
import { abortedError, configObject, optInt, optString, since } from './config.js';
import type { CheckMetrics, CheckOutcome, CheckType } from './types.js';

/** Record types the check can ask for. */
export const DNS_RECORD_TYPES = [
  'A',
  'AAAA',
  'CNAME',
  'MX',
  'NS',
  'TXT',
  'SOA',
  'SRV',
  'PTR',
  'CAA',
] as const;
/** A record type the check can ask for. */
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

/** Config of a `dns` check. */
export interface DnsCheckConfig {
  /** The name to resolve (`query` in Rackspace). */
  query: string;
  /** @default 'A' */
  recordType: DnsRecordType;
  /** The server to ask. @default the target host */
  server?: string;
  /** @default 53 */
  port: number;
  /** Answers that must all be present. */
  expect?: string[];
  /** The rcode that counts as success. @default 'NOERROR' */
  expectRcode: string;
}

/** node:dns error codes → DNS rcode names (or a transport outcome). */
export const DNS_ERROR_RCODES: Readonly<Record<string, string>> = {
  ENOTFOUND: 'NXDOMAIN',
  ENODATA: 'NOERROR',
  ESERVFAIL: 'SERVFAIL',
  EREFUSED: 'REFUSED',
  ENOTIMP: 'NOTIMP',
  EFORMERR: 'FORMERR',
  EBADRESP: 'FORMERR',
  ETIMEOUT: 'TIMEOUT',
  ECONNREFUSED: 'CONNREFUSED',
  ECANCELLED: 'TIMEOUT',
};

/** The `dns` check type. */
export const dnsCheck: CheckType<DnsCheckConfig> = {
  type: 'dns',
  normalize(value, path) {
    const c = configObject(value, path, ['query', 'recordType', 'server', 'port', 'expect', 'expectRcode']);
    const query = optString(c.query, `${path}.query`);
    if (query === undefined) throw validationError(`${path}.query`, 'a name to resolve', c.query);
    const recordType = (optString(c.recordType, `${path}.recordType`) ?? 'A').toUpperCase();
    if (!(DNS_RECORD_TYPES as readonly string[]).includes(recordType))
      throw validationError(`${path}.recordType`, DNS_RECORD_TYPES.join(', '), c.recordType);
    let expect: string[] | undefined;
    if (c.expect !== undefined) {
      if (!Array.isArray(c.expect)) throw validationError(`${path}.expect`, 'an array of strings', c.expect);
      expect = c.expect.map((e, i) => optString(e, `${path}.expect[${i}]`)!);
    }
    const server = optString(c.server, `${path}.server`);
    return {
      query,
      recordType: recordType as DnsRecordType,
      port: optInt(c.port, `${path}.port`, 53, 1, 65535),
      expectRcode: optString(c.expectRcode, `${path}.expectRcode`) ?? 'NOERROR',
      ...(server !== undefined ? { server } : {}),
      ...(expect !== undefined ? { expect } : {}),
    };
  },
  checkTarget(target, config) {
    // the target is the server asked (node:dns takes IP addresses only), unless `server` is set
    if (config.server !== undefined) return undefined;
    return target.url === undefined && target.port === undefined && isIP(target.host) !== 0
      ? undefined
      : 'the IP address of a DNS server (or set dns.server; dns.port for the port)';
  },
  async run(config, target, opts): Promise<CheckOutcome> {
    const server = config.server ?? target.host;
    const resolver = new Resolver({ timeout: Math.max(1, Math.floor(opts.timeoutMs)), tries: 1 });
    resolver.setServers([server.includes(':') ? `[${server}]:${config.port}` : `${server}:${config.port}`]);
    const onAbort = () => resolver.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const t0 = performance.now();
    const metrics: CheckMetrics = {};
    try {
      const { answers, ttl } = await query(resolver, config.query, config.recordType);
      metrics.rcode = 'NOERROR';
      answers.sort();
      metrics.answer = answers.join(' ');
      metrics.answers = answers.length;
      if (ttl !== undefined) metrics.ttl = ttl;
    } catch (err) {
      if (opts.signal?.aborted) throw abortedError(opts.signal);
      const code = (err as { code?: string }).code ?? '';
      metrics.rcode = DNS_ERROR_RCODES[code] ?? code;
      metrics.answers = 0;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    metrics.duration = since(t0, performance.now());
    metrics.rtt = metrics.duration;
    if (metrics.rcode !== config.expectRcode) return { metrics, error: `rcode ${metrics.rcode}` };
    const got = new Set(String(metrics.answer ?? '').split(' '));
    const missing = (config.expect ?? []).filter((e) => !got.has(e));
    if (missing.length > 0) return { metrics, error: `missing answers: ${missing.join(' ')}` };
    return { metrics };
  },
};

async function query(
  r: Resolver,
  name: string,
  type: DnsRecordType,
): Promise<{ answers: string[]; ttl?: number }> {
  switch (type) {
    case 'A':
    case 'AAAA': {
      const recs =
        type === 'A' ? await r.resolve4(name, { ttl: true }) : await r.resolve6(name, { ttl: true });
      return { answers: recs.map((x) => x.address), ttl: Math.min(...recs.map((x) => x.ttl)) };
    }
    case 'MX':
      return { answers: (await r.resolveMx(name)).map((x) => `${x.priority}:${x.exchange}`) };
    case 'TXT':
      return { answers: (await r.resolveTxt(name)).map((x) => x.join('')) };
    case 'SRV':
      return {
        answers: (await r.resolveSrv(name)).map((x) => `${x.priority}:${x.weight}:${x.port}:${x.name}`),
      };
    case 'SOA': {
      const s = await r.resolveSoa(name);
      return { answers: [`${s.nsname}:${s.hostmaster}:${s.serial}`] };
    }
    case 'CAA':
      return {
        answers: (await r.resolveCaa(name)).map(
          (x) => `${x.critical}:${Object.keys(x).find((k) => k !== 'critical') ?? ''}`,
        ),
      };
    case 'CNAME':
      return { answers: await r.resolveCname(name) };
    case 'NS':
      return { answers: await r.resolveNs(name) };
    case 'PTR':
      return { answers: await r.resolvePtr(name) };
  }
}
