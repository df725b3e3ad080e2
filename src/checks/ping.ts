/**
 * The `ping` check. Default backend `tcp`: `count` TCP connects to `port` (no raw sockets needed);
 * a refused connection still counts as a reply, since the host answered. Opt-in backend `system`
 * spawns the system `ping` where present. Metrics (Rackspace names): `available` (% replies),
 * `loss` (%), `count`, `minimum`, `average`, `maximum` (ms).
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { validationError } from '../errors.js';
import { abortedError, configObject, errorText, optInt, optString, since } from './config.js';
import { defaultCheckLookup } from './resolve.js';
import { hostTargetProblem } from './targets.js';
import type { CheckMetrics, CheckOutcome, CheckTarget, CheckType } from './types.js';

/** Config of a `ping` check. */
export interface PingCheckConfig {
  /** @default 'tcp' */
  backend: 'tcp' | 'system';
  /** Probes per run, 1..15. @default 3 */
  count: number;
  /** Port for the `tcp` backend. @default 80 (or the target's port) */
  port?: number;
  /** Pause between probes, ms. @default 100 */
  intervalMs: number;
}

/** The `ping` check type. */
export const pingCheck: CheckType<PingCheckConfig> = {
  type: 'ping',
  normalize(value, path) {
    const c = configObject(value, path, ['backend', 'count', 'port', 'intervalMs']);
    const backend = optString(c.backend, `${path}.backend`) ?? 'tcp';
    if (backend !== 'tcp' && backend !== 'system')
      throw validationError(`${path}.backend`, 'tcp or system', backend);
    const port = optInt(c.port, `${path}.port`, undefined, 1, 65535);
    return {
      backend,
      count: optInt(c.count, `${path}.count`, 3, 1, 15),
      intervalMs: optInt(c.intervalMs, `${path}.intervalMs`, 100, 0, 10_000),
      ...(port !== undefined ? { port } : {}),
    };
  },
  checkTarget(target, config) {
    return config.backend === 'system'
      ? hostTargetProblem(target, 'none', 'a host (no port with the system backend)')
      : hostTargetProblem(target, 'optional', 'a host or host:port');
  },
  run(config, target, opts) {
    return config.backend === 'system' ? systemPing(config, target, opts) : tcpPing(config, target, opts);
  },
};

/** Summarise round-trip times of `count` probes. */
export function pingMetrics(rtts: readonly number[], count: number): CheckMetrics {
  const m: CheckMetrics = {
    count,
    available: Math.round((rtts.length / count) * 10_000) / 100,
    loss: Math.round(((count - rtts.length) / count) * 10_000) / 100,
  };
  if (rtts.length > 0) {
    m.minimum = Math.min(...rtts);
    m.maximum = Math.max(...rtts);
    m.average = Math.round((rtts.reduce((a, b) => a + b, 0) / rtts.length) * 1000) / 1000;
  }
  return m;
}

function probe(
  host: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = connect({ host, port, lookup: defaultCheckLookup() });
    const finish = (rtt: number | undefined) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(rtt);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    timer.unref();
    const onAbort = () => {
      clearTimeout(timer);
      socket.destroy();
      reject(abortedError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(since(t0, performance.now())));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(err.code === 'ECONNREFUSED' ? since(t0, performance.now()) : undefined),
    );
  });
}

async function tcpPing(
  config: PingCheckConfig,
  target: CheckTarget,
  opts: { signal?: AbortSignal; timeoutMs: number },
): Promise<CheckOutcome> {
  const port = config.port ?? target.port ?? 80;
  const perProbe = Math.max(
    1,
    Math.floor((opts.timeoutMs - config.intervalMs * (config.count - 1)) / config.count),
  );
  const rtts: number[] = [];
  for (let i = 0; i < config.count; i++) {
    if (i > 0 && config.intervalMs > 0) await pause(config.intervalMs, opts.signal);
    const rtt = await probe(target.host, port, perProbe, opts.signal);
    if (rtt !== undefined) rtts.push(rtt);
  }
  const metrics = pingMetrics(rtts, config.count);
  return rtts.length === 0 ? { metrics, error: '100% loss' } : { metrics };
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    t.unref();
    const onAbort = () => {
      clearTimeout(t);
      reject(abortedError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Parse the summary of iputils/BSD `ping` output into RTTs-free metrics. */
export function parseSystemPing(output: string, count: number): CheckMetrics {
  const received = /(\d+) (?:packets )?received/.exec(output);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(output);
  const got = received ? Number(received[1]) : 0;
  const m: CheckMetrics = {
    count,
    available: Math.round((got / count) * 10_000) / 100,
    loss: Math.round(((count - got) / count) * 10_000) / 100,
  };
  if (rtt) {
    m.minimum = Number(rtt[1]);
    m.average = Number(rtt[2]);
    m.maximum = Number(rtt[3]);
  }
  return m;
}

function systemPing(
  config: PingCheckConfig,
  target: CheckTarget,
  opts: { signal?: AbortSignal; timeoutMs: number },
): Promise<CheckOutcome> {
  return new Promise((resolve, reject) => {
    const wait = Math.max(1, Math.floor(opts.timeoutMs / 1000 / config.count));
    const child = spawn(
      'ping',
      [
        '-n',
        '-c',
        String(config.count),
        '-i',
        String(Math.max(0.2, config.intervalMs / 1000)),
        '-W',
        String(wait),
        target.host,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'], ...(opts.signal ? { signal: opts.signal } : {}) },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('error', (err) => {
      if (opts.signal?.aborted) reject(abortedError(opts.signal));
      else resolve({ metrics: {}, error: `system ping: ${errorText(err)}` });
    });
    child.once('close', () => {
      if (opts.signal?.aborted) return;
      const metrics = parseSystemPing(out, config.count);
      resolve(metrics.available === 0 ? { metrics, error: '100% loss' } : { metrics });
    });
  });
}
