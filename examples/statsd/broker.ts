/**
 * A MetricsBroker that takes StatsD / DogStatsD lines over UDP from programs in any language (see
 * `sender.py` beside this file) and keeps them in a MemoryMetricsStore.
 *
 *   npx tsx examples/statsd/broker.ts              # listens on 127.0.0.1:8125 (STATSD_PORT), Ctrl-C to stop
 *   python3 examples/statsd/sender.py --port 8125 --count 100
 *
 * Counters become per-window sums, timers (`ms`, `h`, `d`) DDSketch histograms (`.count`, `.p50`, …
 * points plus the sketch itself), gauges the last value, and sets the number of distinct members.
 */
import { pathToFileURL } from 'node:url';
import { MemoryMetricsStore, MetricsBroker, type MetricsStore } from '@fleetwatch/sdk';

/** Options of {@link main}. */
export interface StatsdBrokerOptions {
  /** UDP port; 0 picks a free one. @default 8125 */
  port?: number;
  /** Window length, ms. @default 10000 */
  intervalMs?: number;
}

/** What the sender's metrics add up to, read back from the store. */
export interface StatsdSummary {
  /** Sum of the `shop.requests` counter over every window. */
  requests: number;
  /** `shop.latency_ms` from the merged sketches. */
  latency: { count: number; p50: number; p99: number; max: number } | undefined;
  /** The last `shop.queue_depth` gauge value. */
  queueDepth: number | undefined;
  /** The most distinct `shop.users` members seen in one window. */
  users: number;
}

/** A running StatsD broker. */
export interface StatsdBroker {
  /** The bound UDP port. */
  port: number;
  broker: MetricsBroker;
  store: MetricsStore;
  /** Stop listening, write every open window, and sum up what arrived. */
  stop(): Promise<StatsdSummary>;
}

/** Read the sender's metrics back from the store. */
export async function summarize(store: MetricsStore, from: number, to: number): Promise<StatsdSummary> {
  const range = { from, to, resolution: 'raw' as const };
  const values = async (metric: string) =>
    (await store.query({ metric, ...range })).flatMap((s) =>
      s.points.map((p) => ('value' in p ? p.value : 0)),
    );
  const [latency] = await store.queryPercentiles({
    metric: 'shop.latency_ms',
    from,
    to,
    quantiles: [0.5, 0.99],
  });
  return {
    requests: (await values('shop.requests')).reduce((a, b) => a + b, 0),
    latency: latency && {
      count: latency.count,
      p50: latency.quantiles['0.5'] ?? Number.NaN,
      p99: latency.quantiles['0.99'] ?? Number.NaN,
      max: latency.max,
    },
    queueDepth: (await values('shop.queue_depth')).at(-1),
    users: Math.max(0, ...(await values('shop.users'))),
  };
}

/** Start the broker; `stop()` ends it and returns the summary. */
export async function main(options: StatsdBrokerOptions = {}): Promise<StatsdBroker> {
  const intervalMs = options.intervalMs ?? 10_000;
  const store = new MemoryMetricsStore();
  const broker = await MetricsBroker.start({
    store,
    intervalMs,
    statsd: { port: options.port ?? 8125, host: '127.0.0.1' },
  });
  const startedAt = Date.now();
  return {
    port: broker.statsdPort as number,
    broker,
    store,
    async stop() {
      await broker.close(); // writes the open windows too
      return summarize(store, startedAt - intervalMs, Date.now() + intervalMs);
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await main({ port: Number(process.env.STATSD_PORT ?? 8125) });
  console.log(`StatsD on udp://127.0.0.1:${running.port}; Ctrl-C prints the summary and exits`);
  running.broker.on('flush', ({ windowStart, points }) => {
    console.log(`window ${new Date(windowStart).toISOString()}: ${points} points stored`);
  });
  process.once('SIGINT', () => {
    running.stop().then((summary) => console.log(summary));
  });
}
