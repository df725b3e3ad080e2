/**
 * The `tcp` check: connect (optionally over TLS), optionally send a payload, optionally read a banner
 * and match it. Metrics (ms from start): `tt_connect`, `tt_tls` (with `tls`), `tt_firstbyte`
 * (when reading), `duration`; `banner` (first line, ≤ 256 chars), `banner_match`, `bytes`.
 */
import { performance } from 'node:perf_hooks';
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
  since,
} from './config.js';
import type { SafeRegex } from './safe-regex.js';
import { hostTargetProblem } from './targets.js';
import { isIp, openConnection } from './tls.js';
import type { CheckMetrics, CheckOutcome, CheckType } from './types.js';

/** Config of a `tcp` check. */
export interface TcpCheckConfig {
  /** Port; required unless the target is `host:port`. */
  port?: number;
  /** Bytes to send after connecting. */
  send?: string;
  /**
   * Regex (RE2 syntax, linear-time) the received data (≤ `maxBytes`) must match; setting it makes the
   * check read. It reads at most `maxMatchChars` characters, fewer for a large pattern
   * (`floor(MATCH_WORK_BUDGET / programSize)`), so one test holds the event loop ≤ ~50 ms.
   */
  expect?: SafeRegex;
  /** Read a banner even without `expect`. @default false */
  readBanner: boolean;
  /** Wrap the connection in TLS (certificate not verified; use a `tls` check for that). @default false */
  tls: boolean;
  /** Bytes read at most. @default 1024 */
  maxBytes: number;
  /** Characters `expect` reads at most (1..1 Mi; see `expect`). @default 65536 */
  maxMatchChars: number;
}

/** The `tcp` check type. */
export const tcpCheck: CheckType<TcpCheckConfig> = {
  type: 'tcp',
  normalize(value, path) {
    const c = configObject(value, path, [
      'port',
      'send',
      'expect',
      'readBanner',
      'tls',
      'maxBytes',
      'maxMatchChars',
    ]);
    const port = optInt(c.port, `${path}.port`, undefined, 1, 65535);
    const send = optString(c.send, `${path}.send`);
    const expect = optRegex(c.expect, `${path}.expect`);
    return {
      readBanner: optBool(c.readBanner, `${path}.readBanner`, false),
      tls: optBool(c.tls, `${path}.tls`, false),
      maxBytes: optInt(c.maxBytes, `${path}.maxBytes`, 1024, 1, 1_048_576),
      maxMatchChars: optMaxMatchChars(c.maxMatchChars, path),
      ...(port !== undefined ? { port } : {}),
      ...(send !== undefined ? { send } : {}),
      ...(expect !== undefined ? { expect } : {}),
    };
  },
  checkTarget(target, config) {
    return hostTargetProblem(
      target,
      config.port === undefined ? 'required' : 'optional',
      config.port === undefined ? 'host:port (or set tcp.port)' : 'a host or host:port',
    );
  },
  async run(config, target, opts): Promise<CheckOutcome> {
    const port = config.port ?? target.port;
    if (port === undefined) throw validationError('tcp.port', 'a port (or a host:port target)', undefined);
    let conn: Awaited<ReturnType<typeof openConnection>>;
    try {
      conn = await openConnection(
        target.host,
        port,
        config.tls ? (isIp(target.host) ? {} : { servername: target.host }) : undefined,
        opts,
      );
    } catch (err) {
      return failedRun(err, opts.signal, {});
    }
    const { socket, t0 } = conn;
    const metrics: CheckMetrics = { tt_connect: conn.ttConnect };
    if (conn.ttTls !== undefined) metrics.tt_tls = conn.ttTls;
    try {
      if (config.send !== undefined) socket.write(config.send);
      if (config.expect || config.readBanner) {
        const data = await readSome(socket, config, opts.signal);
        metrics.tt_firstbyte = since(t0, data.firstByteAt);
        metrics.bytes = data.text.length;
        metrics.banner = (data.text.split(/\r?\n/, 1)[0] ?? '').slice(0, 256);
        if (config.expect) {
          metrics.banner_match = config.expect.test(data.text, config.maxMatchChars);
          if (!metrics.banner_match) {
            metrics.duration = since(t0, performance.now());
            return { metrics, error: `response did not match ${config.expect.source}` };
          }
        }
      }
      metrics.duration = since(t0, performance.now());
      return { metrics };
    } catch (err) {
      return failedRun(err, opts.signal, metrics, t0);
    } finally {
      socket.destroy();
    }
  },
};

/** Pause after the last chunk before testing `expect` on data that has not doubled since the last test. */
const EXPECT_IDLE_MS = 10;

/**
 * Read until `expect` matches, `maxBytes` arrived, or the peer ends. The pattern is tested again only
 * when the data has doubled since the last test or the peer has paused, so a peer sending one byte at
 * a time costs linear time in all, not one full test per byte.
 */
function readSome(
  socket: import('node:net').Socket,
  config: Pick<TcpCheckConfig, 'maxBytes' | 'expect' | 'maxMatchChars'>,
  signal: AbortSignal | undefined,
): Promise<{ text: string; firstByteAt: number }> {
  const { maxBytes, expect, maxMatchChars } = config;
  return new Promise((resolve, reject) => {
    let text = '';
    let firstByteAt = 0;
    let tested = 0;
    let idle: NodeJS.Timeout | undefined;
    const done = (err?: unknown) => {
      clearTimeout(idle);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve({ text, firstByteAt });
    };
    const testNow = () => {
      tested = text.length;
      if (expect?.test(text, maxMatchChars)) done();
    };
    const onData = (chunk: Buffer) => {
      if (firstByteAt === 0) firstByteAt = performance.now();
      text += chunk.toString('latin1');
      if (text.length >= maxBytes) {
        text = text.slice(0, maxBytes);
        done();
      } else if (expect) {
        clearTimeout(idle);
        if (text.length >= 2 * tested) testNow();
        else idle = setTimeout(testNow, EXPECT_IDLE_MS);
      }
    };
    const onEnd = () => (firstByteAt === 0 ? done(new Error('connection closed before any data')) : done());
    const onError = (err: Error) => done(err);
    const onAbort = () => {
      socket.destroy();
      done(abortedError(signal!));
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
  });
}
