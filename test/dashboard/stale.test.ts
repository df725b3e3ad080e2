import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CheckScheduler } from '../../src/checks/scheduler.js';
import { createDashboard, type SummaryResponse } from '../../src/dashboard/index.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import { staticProvider } from '../../src/providers/static.js';
import { TOKEN } from './fleet.js';

it('GET /api/v1/summary - a provider whose listing fails shows as stale with its last error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-dash-'));
  const file = join(dir, 'nodes.json');
  writeFileSync(
    file,
    JSON.stringify([
      { id: 'a', region: 'r1' },
      { id: 'b', region: 'r2' },
    ]),
  );
  const inventory = new Inventory({
    providers: [
      staticProvider({ id: 'filed', file }),
      staticProvider({ id: 'inline', nodes: [{ id: 'c' }] }),
    ],
  });
  await inventory.sync();
  writeFileSync(file, '{ not json');
  const report = await inventory.sync();
  expect(report.ok).toBe(false);
  const store = new MemoryMetricsStore();
  const scheduler = new CheckScheduler({ inventory });
  const dash = createDashboard({ inventory, scheduler, store, auth: { token: TOKEN } });
  const server = createServer(dash);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/summary`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const s = (await res.json()) as SummaryResponse;
    const filed = s.providers.find((p) => p.id === 'filed')!;
    expect(filed.nodes).toBe(2);
    expect(filed.staleNodes).toBe(2);
    expect(filed.lastError?.code).toBeTypeOf('string');
    expect(filed.lastError?.message.length).toBeGreaterThan(0);
    expect(Object.keys(filed.lastError!)).toEqual(['code', 'message']);
    expect(s.providers.find((p) => p.id === 'inline')).toMatchObject({ nodes: 1, staleNodes: 0 });
    expect(s.providers.find((p) => p.id === 'inline')?.lastError).toBeUndefined();
  } finally {
    dash.close();
    await new Promise<void>((r) => server.close(() => r()));
    await inventory.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
