import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { connectBroker } from '../../src/broker/client.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import { until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'fw-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('registry → socket client → broker → MemoryMetricsStore', () => {
  it('delivers every update of two registries with 200 ms windows, percentiles from the merged sketch', async () => {
    const socketPath = join(dir, 'e2e.sock');
    const store = new MemoryMetricsStore({ maintenanceIntervalMs: 0 });
    const broker = await MetricsBroker.start({
      store,
      socketPath,
      intervalMs: 200,
      graceMs: 50,
      selfMetrics: false,
    });
    const regs = [
      new MetricsRegistry({ tags: { svc: 'api' } }),
      new MetricsRegistry({ tags: { svc: 'api' } }),
    ];
    const clients = await Promise.all(
      regs.map((_, i) => connectBroker({ socketPath, intervalMs: 200, sourceId: `p${i}` })),
    );
    const reports = regs.map((r, i) => r.reportTo(clients[i]!, { jitter: 0 }));
    const t0 = Date.now();
    let n = 0;
    while (Date.now() - t0 < 450) {
      for (const [i, r] of regs.entries()) {
        r.counter('jobs', { route: '/' }).inc();
        r.histogram('lat').record(i === 0 ? 10 : 1000);
        n++;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(reports.map((r) => r.stop()));
    await until(() => clients.every((c) => c.stats().unacked === 0));
    expect(broker.totals().find((t) => t.name === 'jobs')?.value).toBe(n);
    await Promise.all(clients.map((c) => c.close()));
    await broker.close();
    const series = await store.query({
      metric: 'jobs',
      from: t0 - 1_000,
      to: Date.now() + 1_000,
      resolution: 'raw',
    });
    const stored = series.flatMap((s) => (s.resolution === 'raw' ? s.points.map((p) => p.value) : []));
    expect(stored.reduce((a, b) => a + b, 0)).toBe(n);
    expect(series[0]?.tags).toEqual({ route: '/', svc: 'api' });
    const [pct] = await store.queryPercentiles({
      metric: 'lat',
      from: t0 - 1_000,
      to: Date.now() + 1_000,
      quantiles: [0.25, 0.75],
    });
    expect(pct?.count).toBe(n);
    expect(pct?.quantiles['0.25']).toBeCloseTo(10, -0.5);
    expect(pct?.quantiles['0.75']).toBeGreaterThan(990);
    await store.close();
  });
});
