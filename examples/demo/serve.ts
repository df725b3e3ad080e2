/**
 * `npm run demo -- --serve`: the dashboard over the demo's inventory, checks, broker and store, on
 * 127.0.0.1 only, behind a random token carried in the printed URL's fragment (never sent to the
 * server or logged; the page signs in with it and drops it from the address bar).
 *
 * Check run times are also kept as DDSketches per check and target and written to the store every
 * 10 s, so the page's latency charts show p50/p99 from sketches beside the 5m rollups.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CheckResultEvent,
  type CheckScheduler,
  DDSketch,
  type Inventory,
  type MetricsBroker,
  type MetricsStore,
} from '@fleetwatch/sdk';
import { createDashboard } from '@fleetwatch/sdk/dashboard';

/** The running dashboard: its URL (with the token in the fragment) and how to stop it. */
export interface ServedDashboard {
  url: string;
  close(): Promise<void>;
}

/** Serve the dashboard on 127.0.0.1:`port` (0 picks a free port). */
export async function serveDashboard(o: {
  inventory: Inventory;
  scheduler: CheckScheduler;
  store: MetricsStore;
  broker: MetricsBroker;
  port: number;
}): Promise<ServedDashboard> {
  const token = randomBytes(24).toString('base64url');
  const dash = createDashboard({
    inventory: o.inventory,
    scheduler: o.scheduler,
    store: o.store,
    broker: o.broker,
    auth: { token },
  });
  const sketches = new Map<string, { tags: Record<string, string>; sketch: DDSketch }>();
  const onResult = (r: CheckResultEvent) => {
    const key = `${r.checkId}\u0000${r.target}`;
    let s = sketches.get(key);
    if (s === undefined) {
      s = { tags: { check: r.checkId, target: r.target }, sketch: new DDSketch() };
      sketches.set(key, s);
    }
    s.sketch.add(r.durationMs);
  };
  o.scheduler.on('result', onResult);
  const flushSketches = async () => {
    const ts = Date.now();
    const points = [...sketches.values()].map((s) => ({
      metric: 'check.duration',
      tags: s.tags,
      ts,
      sketch: s.sketch.encode(),
    }));
    sketches.clear();
    if (points.length > 0) await o.store.writeSketches(points, { source: 'demo-dashboard' });
  };
  const timer = setInterval(() => {
    flushSketches().catch((err: Error) => console.error('demo: writing check sketches failed:', err.message));
  }, 10_000);
  timer.unref();

  const server = createServer(dash);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    async close() {
      clearInterval(timer);
      o.scheduler.off('result', onResult);
      dash.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
