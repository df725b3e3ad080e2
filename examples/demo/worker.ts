/**
 * A demo worker process: it makes requests to the demo's web servers, records their latency in a
 * DDSketch histogram and a counter, and reports each window to the parent's MetricsBroker over IPC.
 * It runs until the parent sends 'stop' (or disconnects), then sends its last window and exits.
 */
import { request } from 'node:http';
import { clusterReporter, MetricsRegistry } from '@fleetwatch/sdk';

const targets = JSON.parse(process.env.DEMO_TARGETS ?? '[]') as Array<{ name: string; url: string }>;
const intervalMs = Number(process.env.DEMO_INTERVAL_MS ?? 2000);
const registry = new MetricsRegistry({ tags: { service: 'demo-api' } });
const report = registry.reportTo(clusterReporter({ intervalMs }));

let running = true;
process.on('message', (msg) => {
  if (msg === 'stop') running = false;
});
process.on('disconnect', () => {
  running = false;
});
// Ctrl-C reaches the whole process group: the parent decides when workers stop (with 'stop')
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => {});

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  });
}

const pending: Promise<void>[] = [];
for (const target of targets) {
  const latency = registry.histogram('demo.request_ms', { target: target.name });
  const ok = registry.counter('demo.requests', { target: target.name, outcome: 'ok' });
  const failed = registry.counter('demo.requests', { target: target.name, outcome: 'error' });
  pending.push(
    (async () => {
      // bounded: at most one request in flight per target, and only while the parent says run
      for (let i = 0; running && i < 100_000; i++) {
        const t0 = performance.now();
        const status = await get(target.url);
        latency.record(performance.now() - t0);
        (status >= 200 && status < 400 ? ok : failed).inc();
        await new Promise((r) => setTimeout(r, 25));
      }
    })(),
  );
}
await Promise.all(pending);
await report.stop();
process.disconnect?.();
