/**
 * Inventory query and sync-diff benchmark.
 *
 * - query evaluation over 100k nodes (compiled query vs a hand-written JS filter for the same
 *   predicate, in the same run); goal ≥ 1M node-matches/s.
 * - sync diff of 100k nodes (1% changed, 0.5% added, 0.5% removed) through `Inventory.sync()` with
 *   an in-memory provider and the memory store; baselines: listing into a Map (the floor) and a naive
 *   JSON.stringify diff. Goal ≤ 200 ms.
 *
 * Run: `npx tsx bench/inventory-query.ts` (BENCH_QUICK=1 for a short run).
 */
import { performance } from 'node:perf_hooks';
import { diffNodes } from '../src/inventory/diff.js';
import { Inventory } from '../src/inventory/inventory.js';
import { compileQuery } from '../src/inventory/query.js';
import { mergeTags } from '../src/inventory/store.js';
import type { InventoryNode } from '../src/inventory/types.js';
import type { Node, NodeState, Provider } from '../src/providers/types.js';
import { type BenchRow, writeResults } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const N = 100_000;
const ROUNDS = QUICK ? 3 : 7;
const ROLES = ['web', 'db', 'cache', 'queue', 'batch'];
const STATES: NodeState[] = ['running', 'running', 'running', 'stopped', 'pending'];
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-south-1'];
const PROVIDERS = ['aws-prod', 'aws-dev', 'do', 'gce', 'azure'];

function makeNode(i: number, variant = 0): Node {
  const provider = PROVIDERS[i % PROVIDERS.length]!;
  const id = `n${i}`;
  return {
    uid: `${provider}:${id}`,
    id,
    name: `host-${i}`,
    provider,
    kind: 'static',
    state: STATES[(i + variant) % STATES.length]!,
    rawState: STATES[(i + variant) % STATES.length]!,
    region: REGIONS[i % REGIONS.length]!,
    zone: `${REGIONS[i % REGIONS.length]}a`,
    publicIps: [`54.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
    privateIps: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
    size: 'm5.large',
    image: 'ami-1',
    tags: { role: ROLES[i % ROLES.length]!, env: i % 3 === 0 ? 'dev' : 'prod', team: `t${i % 17}` },
    extra: { vpc: 'vpc-1' },
  };
}

function inventoryNode(n: Node): InventoryNode {
  const localTags = {};
  return { ...n, localTags, mergedTags: mergeTags(n.tags, localTags), stale: false };
}

/** Best-of-rounds milliseconds of `fn`. */
function bestMs(fn: () => void, rounds = ROUNDS): number {
  fn();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

async function bestMsAsync(fn: () => Promise<void>, rounds: number): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

const rows: BenchRow[] = [];
const nodes = Array.from({ length: N }, (_, i) => inventoryNode(makeNode(i)));

// ------------------------------------------------------------------- query evaluation
const cases: Array<{ name: string; query: string; baseline: (n: InventoryNode) => boolean }> = [
  {
    name: 'tag:role=web and state:running',
    query: 'tag:role=web and state:running',
    baseline: (n) => n.mergedTags.role === 'web' && n.state === 'running',
  },
  {
    name: '(provider:aws-* or region:us-*) and not tag:env=dev',
    query: '(provider:aws-* or region:us-*) and not tag:env=dev',
    baseline: (n) =>
      (n.provider.startsWith('aws-') || (n.region ?? '').startsWith('us-')) && n.mergedTags.env !== 'dev',
  },
  {
    name: 'ip:10.1.0.0/16',
    query: 'ip:10.1.0.0/16',
    baseline: (n) =>
      n.privateIps.some((ip) => ip.startsWith('10.1.')) || n.publicIps.some((ip) => ip.startsWith('10.1.')),
  },
];

for (const c of cases) {
  const { matches } = compileQuery(c.query);
  let hits = 0;
  let baseHits = 0;
  const compiledMs = bestMs(() => {
    hits = 0;
    for (let i = 0; i < nodes.length; i++) if (matches(nodes[i]!)) hits++;
  });
  const baseMs = bestMs(() => {
    baseHits = 0;
    for (let i = 0; i < nodes.length; i++) if (c.baseline(nodes[i]!)) baseHits++;
  });
  if (hits !== baseHits) throw new Error(`${c.name}: compiled found ${hits}, baseline ${baseHits}`);
  const rate = N / (compiledMs / 1000);
  const baseRate = N / (baseMs / 1000);
  rows.push({
    case: `query ${c.name}`,
    value: rate,
    unit: 'node-matches/s',
    goal: '>= 1,000,000',
    met: rate >= 1_000_000,
    note: `${hits} hits; ${compiledMs.toFixed(2)} ms per 100k`,
  });
  rows.push({
    case: `baseline hand-written filter: ${c.name}`,
    value: baseRate,
    unit: 'node-matches/s',
    note: `compiled/baseline = ${(rate / baseRate).toFixed(2)}`,
  });
}

const parseMs = bestMs(() => {
  for (let i = 0; i < 1000; i++) compileQuery({ type: 'field', field: 'name', value: `x${i}` });
});
rows.push({ case: 'compile an AST (uncached)', value: (parseMs * 1000) / 1000, unit: 'µs/query' });

// ------------------------------------------------------------------- sync diff
class BenchProvider implements Provider {
  readonly kind = 'static' as const;
  list: Node[] = [];
  constructor(readonly id: string) {}
  async *listNodes(): AsyncIterable<Node> {
    yield* this.list;
  }
  async getNode(): Promise<undefined> {
    return undefined;
  }
}

const provider = new BenchProvider('bench');
const base = Array.from({ length: N }, (_, i) => ({ ...makeNode(i), provider: 'bench', uid: `bench:n${i}` }));
const syncTimes: number[] = [];
let events = 0;
const SYNC_ROUNDS = QUICK ? 3 : 6;
for (let r = 0; r < SYNC_ROUNDS; r++) {
  const inv = new Inventory({ providers: [provider] });
  provider.list = base;
  await inv.sync();
  // 1% changed state, 0.5% removed, 0.5% added
  const next: Node[] = [];
  for (let i = 0; i < N; i++) {
    if (i % 200 === 1) continue;
    const n = base[i]!;
    next.push(i % 100 === 0 ? { ...n, state: 'stopped', rawState: 'stopped' } : n);
  }
  for (let i = 0; i < N / 200; i++)
    next.push({ ...makeNode(N + i), provider: 'bench', uid: `bench:n${N + i}` });
  provider.list = next.map((n) => ({ ...n, tags: { ...n.tags }, publicIps: [...n.publicIps] }));
  inv.on('changed', () => events++);
  const [ms] = await bestMsAsync(async () => {
    await inv.sync();
  }, 1);
  syncTimes.push(ms!);
}
syncTimes.sort((a, b) => a - b);
const syncMedian = syncTimes[Math.floor(syncTimes.length / 2)]!;
rows.push({
  case: 'sync diff 100k nodes (1% changed, 0.5% added, 0.5% removed)',
  value: syncMedian,
  unit: 'ms',
  goal: '<= 200',
  met: syncMedian <= 200,
  note: `median of ${SYNC_ROUNDS}; best ${syncTimes[0]!.toFixed(1)} ms; listing + diff + memory store + events`,
});

// Baselines: listing into a Map (the floor) and a naive JSON.stringify diff of the same lists.
const listed = provider.list;
const floorMs = bestMs(() => {
  const m = new Map<string, Node>();
  for (const n of listed) m.set(n.uid, n);
});
rows.push({ case: 'baseline: index 100k listed nodes into a Map', value: floorMs, unit: 'ms' });
const prevMap = new Map(base.map((n) => [n.uid, JSON.stringify(n)]));
const naiveMs = bestMs(
  () => {
    let changed = 0;
    const seen = new Set<string>();
    for (const n of listed) {
      seen.add(n.uid);
      const p = prevMap.get(n.uid);
      if (p === undefined || p !== JSON.stringify(n)) changed++;
    }
    for (const uid of prevMap.keys()) if (!seen.has(uid)) changed++;
    if (changed === 0) throw new Error('naive diff found nothing');
  },
  QUICK ? 2 : 4,
);
rows.push({ case: 'baseline: naive JSON.stringify diff of 100k nodes', value: naiveMs, unit: 'ms' });

const copies = listed.map((n) => ({ ...n, tags: { ...n.tags }, publicIps: [...n.publicIps] }));
const diffMs = bestMs(
  () => {
    let changed = 0;
    for (let i = 0; i < listed.length; i++) if (diffNodes(listed[i]!, copies[i]!).length > 0) changed++;
    if (changed !== 0) throw new Error('copies differ');
  },
  QUICK ? 3 : 7,
);
rows.push({ case: 'diff step only: diffNodes() over 100k unchanged node pairs', value: diffMs, unit: 'ms' });
rows.push({
  case: 'sync diff vs naive JSON.stringify diff',
  value: syncMedian / naiveMs,
  unit: 'ratio',
  goal: '< 1 (faster than naive)',
  met: syncMedian < naiveMs,
});

writeResults('inventory-query', rows, { nodes: N, quick: QUICK, changedEvents: events });
