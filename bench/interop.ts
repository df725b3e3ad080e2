/**
 * Interop benchmarks (npx tsx bench/interop.ts; BENCH_QUICK=1 for a short run):
 *  1. OTLP/HTTP ingest into the broker (protobuf, 1000 monotonic-sum points per request, and 200
 *     exponential-histogram points per request): data points/s over HTTP, and the event-loop block per
 *     request (the longest slice of decoding, translating and ingesting one body, also for a ~1 MiB
 *     body). Baseline, same run: binary
 *     frames of 1000 counters over the broker's Unix socket.
 *  2. Prometheus exposition of 10k series vs prom-client's `registry.metrics()` on the same data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import client from 'prom-client';
import { MetricsBroker } from '../src/broker/broker.js';
import { FrameEncoder, type WireSeries } from '../src/broker/protocol.js';
import { decodeOtlpMetricsSliced, encodeOtlpMetrics } from '../src/interop/otlp-codec.js';
import { OtlpTranslator } from '../src/interop/otlp-translate.js';
import type { OtlpMetric, OtlpMetricsRequest } from '../src/interop/otlp-types.js';
import { toExponentialHistogram } from '../src/metrics/exponential.js';
import { toPrometheusText } from '../src/metrics/prometheus.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { DDSketch } from '../src/metrics/sketch.js';
import { type BenchRow, quantile, seededRandom, writeResults } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const T0 = Math.floor(Date.now() / 60_000) * 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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
const counterBody = encodeOtlpMetrics(
  request([
    {
      name: 'app.req',
      sum: {
        aggregationTemporality: 1,
        isMonotonic: true,
        dataPoints: Array.from({ length: 1000 }, (_, i) => ({
          attributes: [{ key: 'route', value: { stringValue: `/r${i}` } }],
          timeUnixNano: time,
          asInt: 1,
        })),
      },
    },
  ]),
  'protobuf',
);
const histBody = encodeOtlpMetrics(
  request([
    {
      name: 'app.latency',
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
    },
  ]),
  'protobuf',
);

/** ~1 MiB: 28 metrics of 1000 sum points each. */
const bigBody = encodeOtlpMetrics(
  request(
    Array.from({ length: 28 }, (_, m) => ({
      name: `app.req${m}`,
      sum: {
        aggregationTemporality: 1,
        isMonotonic: true,
        dataPoints: Array.from({ length: 1000 }, (_, i) => ({
          attributes: [{ key: 'route', value: { stringValue: `/r${i}` } }],
          timeUnixNano: time,
          asInt: 1,
        })),
      },
    })),
  ),
  'protobuf',
);

// ---------------------------------------------------------------- 1. OTLP ingest
async function otlpHttp(body: Uint8Array, points: number, requests: number): Promise<number> {
  const broker = await MetricsBroker.start({
    clock: { now: () => T0 + 1_000 },
    autoFlush: false,
    selfMetrics: false,
    otlp: { port: 0 },
  });
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) {
    const res = await fetch(broker.otlpUrl!, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-protobuf' },
    });
    if (res.status !== 200) throw new Error(`OTLP answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }
  const s = (performance.now() - t0) / 1000;
  await broker.close();
  return (points * requests) / s;
}

/**
 * The longest the event loop is held while one request is decoded (in slices), translated (in
 * slices) and ingested (one batch): the largest gap between turns of a `setImmediate` probe, ms per run.
 */
async function otlpBlock(body: Uint8Array, runs: number): Promise<number[]> {
  const broker = await MetricsBroker.start({
    clock: { now: () => T0 + 1_000 },
    autoFlush: false,
    selfMetrics: false,
  });
  const translator = new OtlpTranslator();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    let running = true;
    let last = performance.now();
    let longest = 0;
    const probe = () => {
      const t = performance.now();
      longest = Math.max(longest, t - last);
      last = t;
      if (running) setImmediate(probe);
    };
    setImmediate(probe);
    const t = await translator.translateSliced(await decodeOtlpMetricsSliced(body, 'protobuf'), T0);
    const r = broker.ingest({ source: 'bench', items: t.items });
    if ('rejected' in r) throw new Error(r.reason);
    t.commit();
    await new Promise((resolve) => setImmediate(resolve));
    running = false;
    out.push(Math.max(longest, performance.now() - last));
  }
  await broker.close();
  return out;
}

async function socketFrames(frames: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fw-bench-'));
  const socketPath = join(dir, 'b.sock');
  const enc = new FrameEncoder();
  const series: WireSeries[] = Array.from({ length: 1000 }, (_, i) => ({
    key: `app.req\0route\0/r${i}`,
    kind: 'counter',
    policy: 'last',
    value: 1,
  }));
  const bodies = Array.from({ length: frames }, (_, seq) =>
    enc.window({ sourceId: 'bench', epoch: 1, seq, windowStart: T0, intervalMs: 60_000 }, series),
  );
  const broker = await MetricsBroker.start({
    socketPath,
    clock: { now: () => T0 + 1_000 },
    autoFlush: false,
    selfMetrics: false,
  });
  const c = createConnection(socketPath);
  await new Promise((r) => c.once('connect', r));
  const t0 = performance.now();
  for (const f of bodies) c.write(f);
  while (broker.stats().frames < frames) await sleep(1);
  await broker.flushDue();
  const s = (performance.now() - t0) / 1000;
  c.destroy();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
  return (1000 * frames) / s;
}

{
  const requests = QUICK ? 30 : 200;
  await otlpHttp(counterBody, 1000, 5);
  const sums = Math.max(
    await otlpHttp(counterBody, 1000, requests),
    await otlpHttp(counterBody, 1000, requests),
  );
  const hists = Math.max(await otlpHttp(histBody, 200, requests), await otlpHttp(histBody, 200, requests));
  await socketFrames(5);
  const frames = Math.max(await socketFrames(requests), await socketFrames(requests));
  const blockSums = await otlpBlock(counterBody, requests);
  const blockHists = await otlpBlock(histBody, requests);
  const blockBig = await otlpBlock(bigBody, QUICK ? 5 : 20);
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
  rows.push({
    case: 'event-loop block per OTLP request (1000 sums), p50 / max',
    value: quantile(blockSums, 0.5),
    unit: 'ms',
    goal: '< 50 ms',
    met: Math.max(...blockSums) < 50,
    note: `max ${Math.max(...blockSums).toFixed(2)} ms (longest slice of decode, translate, ingest)`,
  });
  rows.push({
    case: 'event-loop block per OTLP request (200 exp histograms), p50 / max',
    value: quantile(blockHists, 0.5),
    unit: 'ms',
    goal: '< 50 ms',
    met: Math.max(...blockHists) < 50,
    note: `max ${Math.max(...blockHists).toFixed(2)} ms`,
  });
  rows.push({
    case: `event-loop block per ~1 MiB OTLP request (28 000 sums, ${bigBody.length} B), p50 / max`,
    value: quantile(blockBig, 0.5),
    unit: 'ms',
    goal: '< 50 ms',
    met: Math.max(...blockBig) < 50,
    note: `max ${Math.max(...blockBig).toFixed(2)} ms; the one broker.ingest of the whole request is most of it`,
  });
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
