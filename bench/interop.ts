/**
 * Interop benchmarks (npx tsx bench/interop.ts; BENCH_QUICK=1 for a short run):
 *  1. OTLP/HTTP ingest into the broker (protobuf, 1000 monotonic-sum points per request, and 200
 *     exponential-histogram points per request): data points/s over HTTP, and the event-loop block per
 *     request through the receiver (the longest gap of a setImmediate probe while one body is read,
 *     decoded, translated, ingested and answered; also ~1 MiB bodies of sums and of histograms, with
 *     maxBodyBytes raised). Baseline, same run: binary frames of 1000 counters over the broker's Unix
 *     socket.
 *  2. Prometheus exposition of 10k series vs prom-client's `registry.metrics()` on the same data.
 */
import { request as httpRequest } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import client from 'prom-client';
import { MetricsBroker } from '../src/broker/broker.js';
import { FrameEncoder, type WireSeries } from '../src/broker/protocol.js';
import { encodeOtlpMetrics } from '../src/interop/otlp-codec.js';
import type { OtlpMetric, OtlpMetricsRequest } from '../src/interop/otlp-types.js';
import { toExponentialHistogram } from '../src/metrics/exponential.js';
import { toPrometheusText } from '../src/metrics/prometheus.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { DDSketch } from '../src/metrics/sketch.js';
import { watchLoop } from '../test/helpers/loop-stall.js';
import { type BenchRow, quantile, seededRandom, socketFramesRate, writeResults } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const T0 = Math.floor(Date.now() / 60_000) * 60_000;
const rows: BenchRow[] = [];
const random = seededRandom(7);

function request(metrics: OtlpMetric[]): OtlpMetricsRequest {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
        scopeMetrics: [{ scope: { name: 'bench' }, metrics }],
      },
    ],
  };
}
const time = String(BigInt(T0) * 1_000_000n);
/** A delta monotonic Sum of 1000 points (routes /r0…/r999), each 1. */
const sumMetric = (name: string): OtlpMetric => ({
  name,
  sum: {
    aggregationTemporality: 1,
    isMonotonic: true,
    dataPoints: Array.from({ length: 1000 }, (_, i) => ({
      attributes: [{ key: 'route', value: { stringValue: `/r${i}` } }],
      timeUnixNano: time,
      asInt: 1,
    })),
  },
});
/** A delta exponential histogram of 200 points (routes /r0…/r199), each of 200 values in [1, 101). */
const histMetric = (name: string): OtlpMetric => ({
  name,
  exponentialHistogram: {
    aggregationTemporality: 1,
    dataPoints: Array.from({ length: 200 }, (_, i) => {
      const s = new DDSketch({ scale: 4 });
      for (let j = 0; j < 200; j++) s.add(1 + 100 * random());
      const p = toExponentialHistogram(s);
      return {
        ...p,
        positive: { offset: p.positive.offset, bucketCounts: [...p.positive.bucketCounts] },
        negative: { offset: 0, bucketCounts: [] },
        attributes: [{ key: 'route', value: { stringValue: `/r${i}` } }],
        timeUnixNano: time,
      };
    }),
  },
});
const counterBody = encodeOtlpMetrics(request([sumMetric('app.req')]), 'protobuf');
const histBody = encodeOtlpMetrics(request([histMetric('app.latency')]), 'protobuf');
/** ~1 MiB: 28 metrics of 1000 sum points each. */
const bigBody = encodeOtlpMetrics(
  request(Array.from({ length: 28 }, (_, m) => sumMetric(`app.req${m}`))),
  'protobuf',
);
/** ~1 MiB: 30 metrics of 200 exponential-histogram points each. */
const bigHistBody = encodeOtlpMetrics(
  request(Array.from({ length: 30 }, (_, m) => histMetric(`app.latency${m}`))),
  'protobuf',
);
const BIG_LIMIT = 2 * 1024 * 1024;

// ---------------------------------------------------------------- 1. OTLP ingest
/** POST one protobuf body; resolves with the status once the answer is read. */
function post(url: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A broker on a fixed clock, taking OTLP/HTTP with bodies up to `maxBodyBytes`. */
const otlpBroker = (maxBodyBytes = BIG_LIMIT) =>
  MetricsBroker.start({
    clock: { now: () => T0 + 1_000 },
    autoFlush: false,
    selfMetrics: false,
    otlp: { port: 0, maxBodyBytes },
  });

async function otlpHttp(body: Uint8Array, points: number, requests: number): Promise<number> {
  const broker = await otlpBroker();
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) {
    const status = await post(broker.otlpUrl!, body);
    if (status !== 200) throw new Error(`OTLP answered ${status}`);
  }
  const s = (performance.now() - t0) / 1000;
  await broker.close();
  return (points * requests) / s;
}

/**
 * The longest the event loop is held while the receiver takes one request (read, decode, translate,
 * ingest into the window, answer: all in the broker's process, as in production), per request: the
 * largest gap between turns of a `setImmediate` probe, as wall-clock ms and as this process's CPU ms
 * (user + system) in that gap. On a shared, overloaded machine the wall-clock gap also counts time the
 * OS did not run the process at all; the CPU time does not (it may count GC helper threads). The same
 * broker takes every request, so from the second on every series is already in the window.
 */
async function otlpBlock(body: Uint8Array, runs: number): Promise<{ wall: number[]; cpu: number[] }> {
  const broker = await otlpBroker();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const {
      value: status,
      stallMs,
      cpuStallMs,
    } = await watchLoop(() => post(broker.otlpUrl!, body), {
      tickMs: 0,
    });
    if (status !== 200) throw new Error(`OTLP answered ${status}`);
    wall.push(stallMs);
    cpu.push(cpuStallMs);
  }
  await broker.close();
  return { wall, cpu };
}

const enc = new FrameEncoder();
const series: WireSeries[] = Array.from({ length: 1000 }, (_, i) => ({
  key: `app.req\0route\0/r${i}`,
  kind: 'counter',
  policy: 'last',
  value: 1,
}));
const frameBodies = (n: number) =>
  Array.from({ length: n }, (_, seq) =>
    enc.window({ sourceId: 'bench', epoch: 1, seq, windowStart: T0, intervalMs: 60_000 }, series),
  );

{
  const requests = QUICK ? 30 : 200;
  await otlpHttp(counterBody, 1000, 5);
  const sums = Math.max(
    await otlpHttp(counterBody, 1000, requests),
    await otlpHttp(counterBody, 1000, requests),
  );
  const hists = Math.max(await otlpHttp(histBody, 200, requests), await otlpHttp(histBody, 200, requests));
  await socketFramesRate(frameBodies(5), 1000, T0 + 1_000);
  const frames = Math.max(
    await socketFramesRate(frameBodies(requests), 1000, T0 + 1_000),
    await socketFramesRate(frameBodies(requests), 1000, T0 + 1_000),
  );
  rows.push({
    case: 'OTLP/HTTP protobuf ingest, 1000 sum points/request',
    value: sums,
    unit: 'points/s',
    note: `${(sums / frames).toFixed(2)}x the socket baseline; ${counterBody.length} B/request, sequential POSTs`,
  });
  rows.push({
    case: 'OTLP/HTTP protobuf ingest, 200 exp-histogram points/request',
    value: hists,
    unit: 'points/s',
    note: `${histBody.length} B/request`,
  });
  rows.push({
    case: 'baseline: broker socket, binary frames of 1000 counters',
    value: frames,
    unit: 'series-deltas/s',
  });
  const bigRuns = QUICK ? 5 : 20;
  const blocks: Array<[string, Uint8Array, number]> = [
    ['1000 sums', counterBody, requests],
    ['200 exp histograms', histBody, requests],
    ['~1 MiB, 28 000 sums', bigBody, bigRuns],
    ['~1 MiB, 6 000 exp histograms', bigHistBody, bigRuns],
  ];
  for (const [what, body, runs] of blocks) {
    const b = await otlpBlock(body, runs);
    const max = Math.max(...b.cpu);
    rows.push({
      case: `event-loop block per OTLP/HTTP request (${what}, ${body.length} B), max of ${runs}, CPU ms`,
      value: max,
      unit: 'ms',
      goal: '< 50 ms',
      met: max < 50,
      note: `p50 ${quantile(b.cpu, 0.5).toFixed(1)} ms; wall-clock max ${Math.max(...b.wall).toFixed(1)} ms, p50 ${quantile(b.wall, 0.5).toFixed(1)} ms (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)${
        body.length > 128 * 1024 ? '; maxBodyBytes raised to 2 MiB' : ''
      }`,
    });
  }
}

// ---------------------------------------------------------------- 2. exposition of 10k series
{
  const n = 10_000;
  const ours = new MetricsRegistry({ maxSeriesPerMetric: 20_000 });
  const prom = new client.Registry();
  const pc = new client.Counter({
    name: 'req_total',
    help: 'requests',
    labelNames: ['route', 'code'],
    registers: [prom],
  });
  const pg = new client.Gauge({ name: 'queue', help: 'queue', labelNames: ['route'], registers: [prom] });
  const ph = new client.Histogram({ name: 'lat', help: 'latency', labelNames: ['route'], registers: [prom] });
  for (let i = 0; i < n; i++) {
    const route = `/r${Math.floor(i / 4)}`;
    const v = Math.round(random() * 1000);
    if (i % 4 < 2) {
      const code = String(200 + (i % 4));
      ours.counter('req', { route, code }).inc(v);
      pc.inc({ route, code }, v);
    } else if (i % 4 === 2) {
      ours.gauge('queue', { route }).set(v);
      pg.set({ route }, v);
    } else {
      for (let j = 0; j < 20; j++) {
        const x = random() * 10;
        ours.histogram('lat', { route }).record(x);
        ph.observe({ route }, x);
      }
    }
  }
  const timeIt = async (fn: () => unknown, runs: number) => {
    await fn();
    const t: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await fn();
      t.push(performance.now() - t0);
    }
    return quantile(t, 0.5);
  };
  const runs = QUICK ? 5 : 20;
  const promMs = await timeIt(() => prom.metrics(), runs);
  const histOnly = await timeIt(
    () =>
      toPrometheusText(ours, {
        histograms: 'histogram',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
    runs,
  );
  const both = await timeIt(() => toPrometheusText(ours), runs);
  const om = await timeIt(() => toPrometheusText(ours, { format: 'openmetrics' }), runs);
  rows.push({
    case: 'exposition, 10k series, classic histograms with prom-client buckets',
    value: histOnly,
    unit: 'ms',
    note: `${(promMs / histOnly).toFixed(2)}x prom-client's speed (same series, same 11 buckets)`,
  });
  rows.push({ case: 'exposition, 10k series, summary + histogram (default)', value: both, unit: 'ms' });
  rows.push({ case: 'exposition, 10k series, OpenMetrics', value: om, unit: 'ms' });
  rows.push({ case: 'baseline: prom-client registry.metrics(), same data', value: promMs, unit: 'ms' });
}

writeResults('interop', rows, { quick: QUICK });
