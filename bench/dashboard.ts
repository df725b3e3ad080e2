/**
 * Dashboard benchmark: 10k nodes over 6 providers.
 * - API node listing (a query plus a page of 100) over HTTP: p50; in-process `inv.query` as the baseline.
 * - First render of the page in Chromium (sign-in to the first node row), when Chromium is installed.
 * - 100 SSE clients: delay from a check state change (the scheduler's `state` event) to its arrival at
 *   every client, p50/p99, and memory per client; baseline in the same run: 100 clients polling
 *   `/api/v1/checks` once a second.
 * The clients run in this process too, so their CPU competes with the server's: the delays are upper bounds.
 * `BENCH_QUICK=1`: fewer rounds and state changes.
 */
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CheckScheduler } from '../src/checks/scheduler.js';
import { createDashboard } from '../src/dashboard/index.js';
import { Inventory } from '../src/inventory/inventory.js';
import { MemoryMetricsStore } from '../src/metrics-store/memory.js';
import { staticProvider } from '../src/providers/static.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumMissing } from '../test/helpers/chromium.js';
import { onSseBlocks } from '../test/helpers/sse.js';
import { type BenchRow, seededRandom, writeResults } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const NODES = 10_000;
const PROVIDERS = 6;
const CLIENTS = 100;
const CHANGES = QUICK ? 6 : 30;
const LISTINGS = QUICK ? 30 : 200;
const TOKEN = 'bench-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const random = seededRandom(42);
const roles = ['web', 'db', 'cache', 'batch', 'edge'];
const providers = Array.from({ length: PROVIDERS }, (_, p) =>
  staticProvider({
    id: `cloud-${p}`,
    nodes: Array.from({ length: NODES / PROVIDERS + (p < NODES % PROVIDERS ? 1 : 0) }, (_, i) => ({
      id: `n${i}`,
      name: `node-${p}-${i}`,
      region: `region-${i % 4}`,
      privateIps: [`10.${p}.${(i >> 8) & 255}.${i & 255}`],
      state: random() < 0.9 ? ('running' as const) : ('stopped' as const),
      tags: { role: roles[i % roles.length]!, env: i % 3 === 0 ? 'prod' : 'dev', team: `t${i % 17}` },
    })),
  }),
);
const inventory = new Inventory({ providers });
await inventory.sync();

// a check target that flips between 200 and 500
let failing = false;
const target = createServer((_q, s) => {
  s.statusCode = failing ? 500 : 200;
  s.end();
});
await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
const targetPort = (target.address() as AddressInfo).port;
const store = new MemoryMetricsStore();
const scheduler = new CheckScheduler({ inventory, store });
scheduler.add({
  id: 'flip',
  type: 'http',
  targets: [`http://127.0.0.1:${targetPort}/`],
  periodMs: 100,
  timeoutMs: 80,
});
scheduler.start();
const emittedAt = new Map<number, number>();
let changes = 0;
scheduler.on('state', (e) => {
  emittedAt.set(e.ts, performance.now());
  changes++;
});

const dash = createDashboard({ inventory, scheduler, store, auth: { token: TOKEN }, maxPageSize: 500 });
const server = createServer(dash);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const rows: BenchRow[] = [];

// ---------------------------------------------------------------- listing
{
  const q = encodeURIComponent('tag:role=web and state:running and not tag:env=dev');
  const times: number[] = [];
  for (let i = 0; i < LISTINGS; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}api/v1/nodes?q=${q}&sort=name&limit=100&offset=${(i * 100) % 600}`, {
      headers: auth,
    });
    await res.json();
    times.push(performance.now() - t0);
  }
  const { listNodes } = await import('../src/dashboard/nodes.js');
  const params = new URLSearchParams({
    q: 'tag:role=web and state:running and not tag:env=dev',
    sort: 'name',
    limit: '100',
  });
  const compute: number[] = [];
  for (let i = 0; i < LISTINGS; i++) {
    const t0 = performance.now();
    JSON.stringify(listNodes(inventory, params, 500));
    compute.push(performance.now() - t0);
  }
  rows.push({
    case: 'node listing without HTTP (query, sort, page, JSON), p50',
    value: pct(compute, 0.5),
    unit: 'ms',
  });
  const inproc: number[] = [];
  for (let i = 0; i < LISTINGS; i++) {
    const t0 = performance.now();
    inventory.query('tag:role=web and state:running and not tag:env=dev');
    inproc.push(performance.now() - t0);
  }
  rows.push({
    case: 'API node listing (query, sort, page of 100), p50',
    value: pct(times, 0.5),
    unit: 'ms',
    note: `p99 ${pct(times, 0.99).toFixed(1)} ms over ${LISTINGS}`,
  });
  rows.push({ case: 'baseline: inv.query in process, p50', value: pct(inproc, 0.5), unit: 'ms' });
}

// ---------------------------------------------------------------- first render
const noChromium = chromiumMissing();
if (noChromium === undefined) {
  const { chromium: pw } = await import('playwright-core');
  const browser = await pw.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const renders: number[] = [];
  for (let i = 0; i < (QUICK ? 2 : 5); i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const t0 = performance.now();
    await page.goto(`${base}#token=${TOKEN}`);
    await page.waitForSelector('#nodes tbody tr');
    renders.push(performance.now() - t0);
    await ctx.close();
  }
  await browser.close();
  rows.push({
    case: 'first render in Chromium (navigation to first node row)',
    value: pct(renders, 0.5),
    unit: 'ms',
    note: `fresh context each; max ${Math.max(...renders).toFixed(0)} ms`,
  });
} else {
  console.error(`!!! ${noChromium}: first-render case skipped`);
}

// ---------------------------------------------------------------- SSE fan-out vs polling
interface Arrivals {
  byTs: Map<number, number[]>;
}
function sseClient(arr: Arrivals): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = get(`${base}api/v1/events`, { headers: auth, agent: false }, (res) => {
      onSseBlocks(res, (block) => {
        if (!block.includes('event: check')) return;
        const data = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { ts: number };
        let list = arr.byTs.get(data.ts);
        if (!list) {
          list = [];
          arr.byTs.set(data.ts, list);
        }
        list.push(performance.now());
      });
      resolve(res);
    });
    req.on('error', reject);
  });
}

async function flipAndWait(): Promise<number> {
  const before = changes;
  failing = !failing;
  const t0 = performance.now();
  while (changes === before && performance.now() - t0 < 5000) await sleep(5);
  return [...emittedAt.keys()].at(-1)!;
}

globalThis.gc?.();
const mem0 = process.memoryUsage();
const arrivals: Arrivals = { byTs: new Map() };
const streams = await Promise.all(Array.from({ length: CLIENTS }, () => sseClient(arrivals)));
await sleep(500);
globalThis.gc?.();
const mem1 = process.memoryUsage();
const perClientKiB = (mem1.rss - mem0.rss) / CLIENTS / 1024;
const heapPerClientKiB = (mem1.heapUsed + mem1.external - mem0.heapUsed - mem0.external) / CLIENTS / 1024;

const sseDelays: number[] = [];
const sseEvery: number[] = [];
for (let k = 0; k < CHANGES; k++) {
  const ts = await flipAndWait();
  await sleep(400);
  const list = arrivals.byTs.get(ts) ?? [];
  const d = list.map((t) => t - emittedAt.get(ts)!);
  sseDelays.push(...d);
  if (list.length === CLIENTS) sseEvery.push(Math.max(...d));
  else sseEvery.push(Number.POSITIVE_INFINITY);
}
for (const s of streams) s.destroy();
const everyP99 = pct(sseEvery, 0.99);
rows.push({
  case: `SSE: state change → arrival, ${CLIENTS} clients, p99 over all deliveries`,
  value: pct(sseDelays, 0.99),
  unit: 'ms',
  note: `p50 ${pct(sseDelays, 0.5).toFixed(1)} ms; ${CHANGES} changes`,
});
rows.push({
  case: `SSE: state change → arrival at every one of ${CLIENTS} clients, p99`,
  value: everyP99,
  unit: 'ms',
  goal: '<= 250 ms',
  met: everyP99 <= 250,
});
rows.push({
  case: 'SSE: memory per connected client (JS heap + external, client and server side)',
  value: heapPerClientKiB,
  unit: 'KiB',
  note: `RSS delta ${perClientKiB.toFixed(1)} KiB per client (noisy)`,
});
rows.push({ case: 'SSE: slow clients dropped', value: dash.stats().droppedSlowClients, unit: 'clients' });

// baseline: each client polls /api/v1/checks once a second (phases spread over the second)
{
  let stop = false;
  /** change ts → poller → when it first saw the change */
  const seen = new Map<number, Map<number, number>>();
  let want: { ts: number } | undefined;
  const poll = async (id: number, phase: number) => {
    await sleep(phase);
    while (!stop) {
      const t0 = performance.now();
      const res = await fetch(`${base}api/v1/checks?check=flip`, { headers: auth });
      const body = (await res.json()) as { targets: { state: string; since?: number }[] };
      const w = want;
      if (w && body.targets[0]?.since === w.ts) {
        let first = seen.get(w.ts);
        if (!first) {
          first = new Map();
          seen.set(w.ts, first);
        }
        if (!first.has(id)) first.set(id, performance.now());
      }
      await sleep(Math.max(0, 1000 - (performance.now() - t0)));
    }
  };
  const pollers = Array.from({ length: CLIENTS }, (_, i) => poll(i, (i * 1000) / CLIENTS));
  await sleep(1000);
  const pollDelays: number[] = [];
  const pollEvery: number[] = [];
  for (let k = 0; k < Math.min(CHANGES, 6); k++) {
    const ts = await flipAndWait();
    want = { ts };
    const t0 = performance.now();
    while ((seen.get(ts)?.size ?? 0) < CLIENTS && performance.now() - t0 < 6000) await sleep(20);
    const d = [...(seen.get(ts)?.values() ?? [])].map((t) => t - emittedAt.get(ts)!);
    pollDelays.push(...d);
    pollEvery.push(d.length >= CLIENTS ? Math.max(...d) : Number.POSITIVE_INFINITY);
  }
  stop = true;
  await Promise.all(pollers);
  const missed = pollEvery.filter((x) => !Number.isFinite(x)).length;
  rows.push({
    case: `baseline: polling once a second, ${CLIENTS} clients, state change → seen, p99 over all deliveries`,
    value: pct(pollDelays, 0.99),
    unit: 'ms',
    note: `p50 ${pct(pollDelays, 0.5).toFixed(0)} ms; changes not seen by every client within 6 s: ${missed} of ${pollEvery.length}`,
  });
}

dash.close();
await scheduler.stop();
server.closeAllConnections();
await new Promise<void>((r) => server.close(() => r()));
target.closeAllConnections();
await new Promise<void>((r) => target.close(() => r()));
await inventory.close();
await store.close();
writeResults('dashboard', rows, {
  nodes: NODES,
  providers: PROVIDERS,
  clients: CLIENTS,
  changes: CHANGES,
  quick: QUICK,
});
