/**
 * Metrics from a node:cluster app: each worker records into its own MetricsRegistry and reports every
 * window to the primary over IPC (`clusterReporter()`); the primary runs a MetricsBroker fed by
 * `attachCluster()`, which merges the workers' windows — counters summed, DDSketch histograms merged —
 * into a store. Percentiles read back are those of all requests of all workers, not an average of
 * per-worker percentiles.
 *
 * Bounded: each worker handles `requests` requests, sends its last window and exits.
 * The request handler here is simulated with a known latency (request i takes (i % 100) + 1 ms,
 * every 10th fails) so the merged numbers can be checked.
 *
 *   npx tsx examples/cluster-broker.ts      # WORKERS (default 2), REQUESTS (default 500)
 *
 */
import cluster from 'node:cluster';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  attachCluster,
  clusterReporter,
  MemoryMetricsStore,
  MetricsBroker,
  MetricsRegistry,
} from '@fleetwatch/sdk';

/** Options of {@link main}. */
export interface ClusterBrokerOptions {
  /** Worker processes. @default 2 */
  workers?: number;
  /** Requests each worker handles before exiting. @default 500 */
  requests?: number;
  /** Window length, ms. @default 1000 */
  intervalMs?: number;
}

/** What the primary read back from the store after the workers exited. */
export interface ClusterBrokerResult {
  /** Exit codes of the workers. */
  exitCodes: Array<number | null>;
  /** Window frames the broker merged. */
  frames: number;
  /** Sum of the `requests` counter, by outcome. */
  requests: { ok: number; error: number };
  /** `request_ms` percentiles from the merged sketches. */
  latency: { count: number; p50: number; p90: number; p99: number; max: number };
}

/** The primary: start the broker, fork the workers, wait for them, read the merged metrics. */
export async function main(options: ClusterBrokerOptions = {}): Promise<ClusterBrokerResult> {
  const workers = options.workers ?? 2;
  const requests = options.requests ?? 500;
  const intervalMs = options.intervalMs ?? 1000;
  const store = new MemoryMetricsStore();
  const broker = await MetricsBroker.start({ store, intervalMs, graceMs: 200, selfMetrics: false });
  const detach = attachCluster(broker);
  const t0 = Date.now();

  cluster.setupPrimary({
    exec: fileURLToPath(import.meta.url),
    execArgv: ['--import', 'tsx'], // this file is TypeScript; a built app leaves this out
    serialization: 'advanced', // frames travel as bytes instead of base64
  });
  const env = { EXAMPLE_REQUESTS: String(requests), EXAMPLE_INTERVAL_MS: String(intervalMs) };
  const exitCodes = await Promise.all(
    Array.from({ length: workers }, () => {
      const worker = cluster.fork(env);
      return new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
    }),
  );
  detach();
  await broker.close(); // writes every window still open

  const range = { from: t0 - intervalMs, to: Date.now() + intervalMs };
  const counts = { ok: 0, error: 0 };
  for (const s of await store.query({ metric: 'requests', ...range, resolution: 'raw' })) {
    const outcome = s.tags.outcome === 'ok' ? 'ok' : 'error';
    for (const p of s.points) if ('value' in p) counts[outcome] += p.value;
  }
  const [merged] = await store.queryPercentiles({
    metric: 'request_ms',
    ...range,
    quantiles: [0.5, 0.9, 0.99],
  });
  return {
    exitCodes,
    frames: broker.stats().frames,
    requests: counts,
    latency: {
      count: merged?.count ?? 0,
      p50: merged?.quantiles['0.5'] ?? Number.NaN,
      p90: merged?.quantiles['0.9'] ?? Number.NaN,
      p99: merged?.quantiles['0.99'] ?? Number.NaN,
      max: merged?.max ?? Number.NaN,
    },
  };
}

/** A worker: handle the requests, report each window, send the last one, exit. */
async function worker(): Promise<void> {
  const requests = Number(process.env.EXAMPLE_REQUESTS);
  const registry = new MetricsRegistry({ tags: { service: 'api' } });
  const report = registry.reportTo(clusterReporter({ intervalMs: Number(process.env.EXAMPLE_INTERVAL_MS) }));
  const latency = registry.histogram('request_ms', { route: '/orders' });
  for (let i = 0; i < requests; i++) {
    const simulatedMs = (i % 100) + 1; // a real handler would time itself with registry.timer()
    latency.record(simulatedMs);
    registry.counter('requests', { route: '/orders', outcome: i % 10 === 9 ? 'error' : 'ok' }).inc();
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5)); // let the report timer run
  }
  // sends the partial last window and resolves once it is handed to the IPC channel
  await report.stop();
  cluster.worker?.disconnect();
}

if (cluster.isWorker) {
  await worker();
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const workers = Number(process.env.WORKERS ?? 2);
  const result = await main({ workers, requests: Number(process.env.REQUESTS ?? 500) });
  const l = result.latency;
  console.log(`workers exited with ${result.exitCodes.join(', ')}; broker merged ${result.frames} windows`);
  console.log(`requests: ${result.requests.ok} ok, ${result.requests.error} failed`);
  console.log(
    `request_ms over all workers: n=${l.count} p50=${l.p50.toFixed(1)} p90=${l.p90.toFixed(1)} p99=${l.p99.toFixed(1)} max=${l.max}`,
  );
}
