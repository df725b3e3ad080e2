import { request as httpRequest } from 'node:http';
import { afterEach } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { encodeOtlpMetrics } from '../../src/interop/otlp-codec.js';
import type { OtlpMetric } from '../../src/interop/otlp-types.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import { watchLoop } from '../helpers/loop-stall.js';

/** The fixed time the OTLP tests' brokers run at (their window starts here). */
export const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const NANOS = String(BigInt(T0) * 1_000_000n);

/**
 * A broker at {@link T0} (60 s windows, no timers, no self-metrics) over a memory store, taking
 * OTLP/HTTP on a free port of 127.0.0.1; `extra` overrides any option (`otlp` as a whole).
 */
export async function startOtlpBroker(
  extra: Partial<Parameters<typeof MetricsBroker.start>[0]> = {},
): Promise<{ store: MemoryMetricsStore; broker: MetricsBroker }> {
  const store = new MemoryMetricsStore({ clock: { now: () => T0 + 60_000 } });
  const broker = await MetricsBroker.start({
    store,
    id: 'b1',
    clock: { now: () => T0 },
    intervalMs: 60_000,
    autoFlush: false,
    selfMetrics: false,
    otlp: { port: 0, host: '127.0.0.1' },
    ...extra,
  });
  return { store, broker };
}

/**
 * Returns `start(extra)`: {@link startOtlpBroker}, with an `afterEach` that closes every broker
 * `start()` made (as the broker tests' `useTestBroker` does).
 */
export function useOtlpBroker() {
  const brokers: MetricsBroker[] = [];
  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.close();
  });
  return async (extra: Parameters<typeof startOtlpBroker>[0] = {}) => {
    const started = await startOtlpBroker(extra);
    brokers.push(started.broker);
    return started;
  };
}

/** A metric of each kind OTLP has, `points` data points each, with a few attributes per point. */
export function metricsFor(i: number, points: number): OtlpMetric[] {
  const attrs = (j: number) => [
    { key: 'host', value: { stringValue: `host-${j}` } },
    { key: 'route', value: { stringValue: `/api/v1/items/${j % 7}` } },
  ];
  const range = Array.from({ length: points }, (_, j) => j);
  const at = (j: number) => ({ attributes: attrs(j), timeUnixNano: NANOS });
  return [
    {
      name: `gauge_${i}`,
      gauge: {
        dataPoints: range.map((j) => ({ asDouble: j + 0.5, attributes: attrs(j), timeUnixNano: NANOS })),
      },
    },
    {
      name: `count_${i}`,
      sum: {
        aggregationTemporality: 1,
        isMonotonic: true,
        dataPoints: range.map((j) => ({ asInt: String(j + 1), attributes: attrs(j), timeUnixNano: NANOS })),
      },
    },
    {
      name: `lat_${i}`,
      exponentialHistogram: {
        aggregationTemporality: 1,
        dataPoints: range.map((j) => ({
          ...at(j),
          scale: 6,
          count: '36',
          sum: 123.5,
          min: 1.1,
          max: 90,
          zeroCount: '0',
          positive: { offset: 10 + j, bucketCounts: Array.from({ length: 8 }, (_, k) => String(k + 1)) },
        })),
      },
    },
    {
      name: `size_${i}`,
      histogram: {
        aggregationTemporality: 1,
        dataPoints: range.map((j) => ({
          ...at(j),
          count: '10',
          sum: 55,
          explicitBounds: [1, 5, 10, 50],
          bucketCounts: ['1', '2', '3', '4', '0'],
        })),
      },
    },
  ];
}

/** A request of about `bytes` in `encoding`: several resources and scopes, each metric kind. */
export function requestOf(
  bytes: number,
  encoding: 'protobuf' | 'json',
): { body: Uint8Array; points: number } {
  const resource = (i: number) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${i % 3}` } }] },
    scopeMetrics: [{ scope: { name: `scope-${i}` }, metrics: metricsFor(i, 40) }],
  });
  // Sized from one resource's encoding (all are about the same size), encoded once.
  const each = encodeOtlpMetrics({ resourceMetrics: [resource(0)] }, encoding).length;
  const n = Math.floor(bytes / each);
  const body = encodeOtlpMetrics(
    { resourceMetrics: Array.from({ length: n }, (_, i) => resource(i)) },
    encoding,
  );
  return { body, points: n * 4 * 40 };
}

/**
 * The longest the event loop went without running a 1 ms timer while `work` ran, in CPU time of
 * this process (user + system; see {@link watchLoop}'s `cpuStallMs`).
 */
export async function longestBlock(work: () => Promise<unknown>): Promise<number> {
  return (await watchLoop(work, { tickMs: 1, settleMs: 5 })).cpuStallMs;
}

/**
 * POST `body` to `url` with node:http (not `fetch`, whose first call loads undici in the test's own
 * event loop); resolves with the status and the answer's text.
 */
export function postOtlp(
  url: string,
  body: Uint8Array,
  encoding: 'protobuf' | 'json',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': `application/${encoding === 'json' ? 'json' : 'x-protobuf'}`,
        'content-length': body.length,
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
