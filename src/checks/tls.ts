/**
 * The `tls` check: a TLS handshake that reports the certificate chain's validity and expiry,
 * issuer, subject, SANs and the negotiated protocol. Metrics: `tt_connect`, `tt_tls`, `duration`
 * (ms from start), `cert_end_in` (s until the earliest expiry in the chain), `cert_start`, `cert_end`
 * (epoch s of the leaf), `cert_issuer`, `cert_subject`, `cert_subject_alternative_names`,
 * `cert_valid`, `cert_error`, `protocol`, `cipher`.
 */
import { connect as netConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type DetailedPeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { AbortOptions } from '../core.js';
import { abortedError, configObject, failedRun, optBool, optInt, optString, since } from './config.js';
import { defaultCheckLookup } from './resolve.js';
import { hostTargetProblem } from './targets.js';
import type { CheckMetrics, CheckOutcome, CheckTarget, CheckType } from './types.js';

/** Config of a `tls` check. */
export interface TlsCheckConfig {
  /** @default 443 (or the target's port) */
  port?: number;
  /** SNI name. @default the target host when it is a name, none for an IP */
  servername?: string;
  /** Fail the run when the chain does not verify (expired, self-signed, wrong name). @default true */
  verify: boolean;
  /** Extra trusted CA certificate(s), PEM. */
  ca?: string;
}

/** Metrics of a peer certificate chain, with the earliest expiry in the chain. */
export function certMetrics(socket: TLSSocket, nowMs: number): CheckMetrics {
  const out: CheckMetrics = {};
  const leaf = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  if (!leaf || Object.keys(leaf).length === 0) return out;
  let earliest = Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  for (
    let c: DetailedPeerCertificate | undefined = leaf;
    c && !seen.has(c.fingerprint256);
    c = c.issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    const end = Date.parse(c.valid_to);
    if (Number.isFinite(end) && end < earliest) earliest = end;
  }
  const start = Date.parse(leaf.valid_from);
  const end = Date.parse(leaf.valid_to);
  if (Number.isFinite(earliest)) out.cert_end_in = Math.floor((earliest - nowMs) / 1000);
  if (Number.isFinite(start)) out.cert_start = Math.floor(start / 1000);
  if (Number.isFinite(end)) out.cert_end = Math.floor(end / 1000);
  out.cert_subject = formatName(leaf.subject);
  out.cert_issuer = formatName(leaf.issuer);
  if (leaf.subjectaltname) out.cert_subject_alternative_names = leaf.subjectaltname;
  out.cert_valid = socket.authorized;
  if (socket.authorizationError) out.cert_error = String(socket.authorizationError);
  return out;
}

function formatName(name: object | undefined): string {
  if (!name) return '';
  return Object.entries(name as Record<string, string | string[]>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

/** True when `host` is an IP literal (SNI must not be an IP). */
export function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Open a TCP (and optionally TLS) connection with honest timings; resolves with the socket. */
export function openConnection(
  host: string,
  port: number,
  tls: { servername?: string; ca?: string } | undefined,
  opts: AbortOptions,
): Promise<{ socket: import('node:net').Socket; ttConnect: number; ttTls?: number; t0: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const signal = opts.signal;
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const raw = netConnect({ host, port, lookup: defaultCheckLookup() });
    let socket: import('node:net').Socket = raw;
    let ttConnect = 0;
    const onAbort = () => {
      socket.destroy();
      raw.destroy();
      reject(abortedError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const fail = (err: Error) => {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      raw.destroy();
      reject(err);
    };
    raw.once('error', fail);
    raw.once('connect', () => {
      ttConnect = since(t0, performance.now());
      if (!tls) {
        raw.off('error', fail);
        signal?.removeEventListener('abort', onAbort);
        resolve({ socket: raw, ttConnect, t0 });
        return;
      }
      const s = tlsConnect({
        socket: raw,
        // the identity check compares the certificate with `host` (else 'localhost') when there is no SNI name
        host,
        rejectUnauthorized: false,
        ...(tls.servername ? { servername: tls.servername } : {}),
        ...(tls.ca ? { ca: tls.ca } : {}),
      });
      socket = s;
      s.once('error', fail);
      s.once('secureConnect', () => {
        s.off('error', fail);
        raw.off('error', fail);
        signal?.removeEventListener('abort', onAbort);
        resolve({ socket: s, ttConnect, ttTls: since(t0, performance.now()), t0 });
      });
    });
  });
}

/** The `tls` check type. */
export const tlsCheck: CheckType<TlsCheckConfig> = {
  type: 'tls',
  normalize(value, path) {
    const c = configObject(value, path, ['port', 'servername', 'verify', 'ca']);
    const port = optInt(c.port, `${path}.port`, undefined, 1, 65535);
    const servername = optString(c.servername, `${path}.servername`);
    const ca = optString(c.ca, `${path}.ca`);
    return {
      verify: optBool(c.verify, `${path}.verify`, true),
      ...(port !== undefined ? { port } : {}),
      ...(servername !== undefined ? { servername } : {}),
      ...(ca !== undefined ? { ca } : {}),
    };
  },
  checkTarget(target) {
    return hostTargetProblem(target, 'optional', 'a host or host:port');
  },
  async run(config: TlsCheckConfig, target: CheckTarget, opts): Promise<CheckOutcome> {
    const port = config.port ?? target.port ?? 443;
    const servername = config.servername ?? (isIp(target.host) ? undefined : target.host);
    let conn: Awaited<ReturnType<typeof openConnection>>;
    try {
      conn = await openConnection(
        target.host,
        port,
        { ...(servername ? { servername } : {}), ...(config.ca ? { ca: config.ca } : {}) },
        opts,
      );
    } catch (err) {
      return failedRun(err, opts.signal, {});
    }
    const s = conn.socket as TLSSocket;
    const metrics: CheckMetrics = {
      tt_connect: conn.ttConnect,
      tt_tls: conn.ttTls ?? 0,
      ...certMetrics(s, Date.now()),
      protocol: s.getProtocol() ?? '',
      cipher: s.getCipher()?.name ?? '',
    };
    metrics.duration = since(conn.t0, performance.now());
    s.destroy();
    if (config.verify && !s.authorized)
      return { metrics, error: `certificate: ${String(s.authorizationError)}` };
    return { metrics };
  },
};
