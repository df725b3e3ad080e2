/**
 * Prometheus scraping: a small web app records its requests in a MetricsRegistry and serves
 *
 * - `/metrics`       — this process's registry (`prometheusHandler(registry)`, which answers in the
 *                      format the scraper's `Accept` header asks for);
 * - `/metrics/fleet` — a MetricsBroker's merged view of every process that reports to it
 *                      (`prometheusHandler(broker)`): counters summed, summaries from merged DDSketches.
 *
 * Here the app reports to a broker in the same process over TCP; in production the broker is one
 * process per host and each app process runs `registry.reportTo(await connectBroker({ port }))`.
 *
 *   npx tsx examples/prometheus.ts     # http://127.0.0.1:9464 (METRICS_PORT); curl it, Ctrl-C to stop
 *
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { connectBroker, MetricsBroker, MetricsRegistry, prometheusHandler } from '@fleetwatch/sdk';

/** Options of {@link main}. */
export interface PrometheusExampleOptions {
  /** HTTP port on 127.0.0.1; 0 picks a free one. @default 9464 */
  port?: number;
  /** Broker window length, ms: the fleet view lags by up to one window plus a fifth of it. @default 10000 */
  intervalMs?: number;
}

/** The running example. */
export interface PrometheusExample {
  /** `http://127.0.0.1:<port>` */
  url: string;
  registry: MetricsRegistry;
  broker: MetricsBroker;
  close(): Promise<void>;
}

/** Start the app, the broker and the scrape endpoints. */
export async function main(options: PrometheusExampleOptions = {}): Promise<PrometheusExample> {
  const intervalMs = options.intervalMs ?? 10_000;
  const registry = new MetricsRegistry({ tags: { service: 'web' } });
  const broker = await MetricsBroker.start({ port: 0, intervalMs, graceMs: Math.ceil(intervalMs / 5) });
  const report = registry.reportTo(await connectBroker({ port: broker.port as number, intervalMs }));

  const metrics = prometheusHandler(registry);
  const fleetMetrics = prometheusHandler(broker);
  const server = createServer((req, res) => {
    if (req.url === '/metrics') return metrics(req, res);
    if (req.url === '/metrics/fleet') return fleetMetrics(req, res);
    // The application: every request is counted and timed.
    const t0 = performance.now();
    const status = req.url === '/hello' ? 200 : 404;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'hello\n' : 'not found\n');
    const tags = { route: status === 200 ? (req.url as string) : 'other', status: String(status) };
    registry.counter('http.requests', tags).inc();
    registry.histogram('http.request_ms', tags).record(performance.now() - t0);
  });
  server.listen(options.port ?? 9464, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    registry,
    broker,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await report.stop(); // sends the last partial window (the client then closes with the broker)
      await broker.close();
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = await main({ port: Number(process.env.METRICS_PORT ?? 9464) });
  console.log(`try: curl ${app.url}/hello; curl ${app.url}/metrics; curl ${app.url}/metrics/fleet`);
  process.once('SIGINT', () => void app.close());
}
