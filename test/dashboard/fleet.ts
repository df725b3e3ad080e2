/**
 * A small real fleet for the dashboard tests: three static providers, an Inventory, a CheckScheduler
 * running an http check against a local target server that can be told to fail, a MemoryMetricsStore,
 * and the dashboard on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CheckScheduler } from '../../src/checks/scheduler.js';
import { createDashboard, type Dashboard, type DashboardOptions } from '../../src/dashboard/index.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { DDSketch } from '../../src/metrics/sketch.js';
import { MemoryMetricsStore, type MemoryMetricsStoreOptions } from '../../src/metrics-store/memory.js';
import { staticProvider } from '../../src/providers/static.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
export const HOSTILE_TAG = '</script><script>alert(2)</script>';
export const SECRET = 'hunter2-super-secret-value';

/** An HTTP target on 127.0.0.1 answering 200, or 500 once `failing` is set. */
export interface Target {
  port: number;
  failing: boolean;
  close(): Promise<void>;
}

export async function startTarget(): Promise<Target> {
  const t = { port: 0, failing: false } as Target;
  const server: Server = createServer((_req, res) => {
    res.statusCode = t.failing ? 500 : 200;
    res.end(t.failing ? 'down' : 'ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.port = (server.address() as AddressInfo).port;
  t.close = () => new Promise((r) => server.close(() => r()));
  return t;
}

export interface Fleet {
  url: string;
  dash: Dashboard;
  inventory: Inventory;
  scheduler: CheckScheduler;
  store: MemoryMetricsStore;
  target: Target;
  server: Server;
  close(): Promise<void>;
}

/** Start the fleet; `dashOptions` overrides dashboard options, `storeOptions` the store's. */
export async function startFleet(
  dashOptions: Partial<DashboardOptions> = {},
  storeOptions: MemoryMetricsStoreOptions = {},
): Promise<Fleet> {
  const target = await startTarget();
  const providers = [
    staticProvider({
      id: 'aws-lab',
      nodes: [
        {
          id: 'web-1',
          name: 'web-1',
          privateIps: ['127.0.0.1'],
          region: 'us-east-1',
          tags: { role: 'web', env: 'prod' },
        },
        {
          id: 'db-1',
          name: 'db-1',
          privateIps: ['10.0.0.2'],
          region: 'us-east-1',
          tags: { role: 'db', env: 'prod' },
          extra: { password: SECRET },
        },
      ],
    }),
    staticProvider({
      id: 'do-lab',
      nodes: [
        {
          id: 'web-2',
          name: 'web-2',
          privateIps: ['127.0.0.1'],
          region: 'fra1',
          tags: { role: 'web', env: 'staging' },
        },
        {
          id: 'evil',
          name: HOSTILE_NAME,
          privateIps: ['10.0.0.9'],
          region: 'fra1',
          tags: { role: 'cache', note: HOSTILE_TAG },
        },
      ],
    }),
    staticProvider({
      id: 'gce-lab',
      nodes: [
        {
          id: 'batch-1',
          name: 'batch-1',
          privateIps: ['10.1.0.1'],
          region: 'europe-west1',
          state: 'stopped',
          tags: { role: 'batch' },
        },
      ],
    }),
  ];
  const inventory = new Inventory({ providers });
  await inventory.sync();
  const store = new MemoryMetricsStore(storeOptions);
  const scheduler = new CheckScheduler({ inventory, store, ipPreference: 'private', flushIntervalMs: 200 });
  scheduler.add({
    id: 'web-http',
    type: 'http',
    targets: 'tag:role=web and provider:aws-lab',
    periodMs: 300,
    timeoutMs: 250,
    http: { url: `http://{ip}:${target.port}/health` },
  });
  scheduler.start();
  const dash = createDashboard({ inventory, scheduler, store, auth: { token: TOKEN }, ...dashOptions });
  const server = createServer(dash);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    dash,
    inventory,
    scheduler,
    store,
    target,
    server,
    async close() {
      dash.close();
      await new Promise<void>((r) => server.close(() => r()));
      await scheduler.stop();
      await inventory.close();
      await store.close();
      await target.close();
    },
  };
}

/** GET a path with the bearer token (or none). */
export async function api(fleet: Fleet, path: string, init: RequestInit & { token?: string | null } = {}) {
  const headers = new Headers(init.headers);
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(new URL(path, fleet.url), { ...init, headers });
  const text = await res.text();
  return { res, text, json: () => JSON.parse(text) };
}

/**
 * Writes `values` as `check.duration` points one second apart from `slot`, and their DDSketch as one
 * sketch point at `slot + 1 s`, under `tags` (the caller flushes).
 */
export async function writeDurations(
  fleet: Fleet,
  tags: Record<string, string>,
  slot: number,
  values: readonly number[],
): Promise<void> {
  await fleet.store.write(
    values.map((v, i) => ({ metric: 'check.duration', tags, ts: slot + i * 1000, value: v })),
  );
  const sketch = new DDSketch();
  for (const v of values) sketch.add(v);
  await fleet.store.writeSketches([
    { metric: 'check.duration', tags, ts: slot + 1000, sketch: sketch.encode() },
  ]);
}
