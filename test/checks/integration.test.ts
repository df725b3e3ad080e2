import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckResultEvent, CheckScheduler } from '../../src/checks/scheduler.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import type { Node, Provider } from '../../src/providers/types.js';
import { FakeTime } from './fake-time.js';
import { type TestServer, tcpServer, until } from './servers.js';

function node(id: string, role: string): Node {
  return {
    uid: `lab:${id}`,
    id,
    name: id,
    provider: 'lab',
    kind: 'static',
    state: 'running',
    rawState: 'running',
    publicIps: ['127.0.0.1'],
    privateIps: [],
    tags: { role },
    extra: {},
  };
}

describe('CheckScheduler with a real Inventory and MemoryMetricsStore', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await tcpServer((s) => {
      s.end('220 ready\r\n');
      s.on('error', () => {});
    });
  });
  afterAll(() => server.close());

  it('targets follow inventory syncs and results land in the store as check.<metric>', async () => {
    const nodes = [node('web-1', 'web'), node('db-1', 'db')];
    const provider: Provider = {
      id: 'lab',
      kind: 'static',
      async *listNodes() {
        yield* nodes;
      },
      async getNode(id) {
        return nodes.find((n) => n.id === id);
      },
    };
    const inv = new Inventory({ providers: [provider] });
    await inv.sync();
    const store = new MemoryMetricsStore();
    const time = new FakeTime(Date.now());
    const registry = new MetricsRegistry();
    const s = new CheckScheduler({
      inventory: inv,
      store,
      registry,
      clock: time.clock,
      timers: time.api,
      location: 'lab1',
    });
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e));
    const results: CheckResultEvent[] = [];
    s.on('result', (r) => results.push(r));
    s.add({
      id: 'smtp',
      type: 'tcp',
      targets: 'tag:role=web',
      periodMs: 10_000,
      timeoutMs: 5000,
      tcp: { port: server.port, expect: '^220' },
      alarm: "if (metric['banner_match'] == false) return CRITICAL; return OK",
    });
    s.start();
    expect(s.targetsOf('smtp')).toEqual(['lab:web-1']);

    nodes.push(node('web-2', 'web'));
    await inv.sync();
    await time.settle();
    expect(s.targetsOf('smtp').sort()).toEqual(['lab:web-1', 'lab:web-2']);

    // step fake time, letting each run's real socket I/O finish before the timeout timer could fire
    for (let i = 0; i < 100; i++) {
      await time.advance(100);
      await until(() => s.stats().running === 0 && s.stats().queued === 0);
    }
    await until(() => results.length === 2);
    await s.drain();
    expect(results.map((r) => [r.ok, r.error, r.metrics.banner])).toEqual([
      [true, undefined, '220 ready'],
      [true, undefined, '220 ready'],
    ]);

    const series = await store.query({
      metric: 'check.tt_connect',
      from: time.now - 60_000,
      to: time.now + 60_000,
      resolution: 'raw',
    });
    expect(series.map((x) => x.tags.node).sort()).toEqual(['lab:web-1', 'lab:web-2']);
    expect(series[0]!.tags).toMatchObject({ check: 'smtp', provider: 'lab', location: 'lab1' });
    const ok = await store.query({
      metric: 'check.ok',
      from: time.now - 60_000,
      to: time.now + 60_000,
      resolution: 'raw',
    });
    expect(ok.flatMap((x) => x.points.map((p) => ('value' in p ? p.value : -1)))).toEqual([1, 1]);

    const gauges = registry.snapshot().series.filter((x) => x.name === 'check.banner_match');
    expect(gauges.map((g) => [g.tags.node, g.value]).sort()).toEqual([
      ['lab:web-1', 1],
      ['lab:web-2', 1],
    ]);
    expect(errors).toEqual([]);

    nodes.splice(0, 1);
    await inv.sync();
    await time.settle();
    expect(s.targetsOf('smtp')).toEqual(['lab:web-2']);
    await s.stop();
    await store.close();
  });
});
