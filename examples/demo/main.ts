/**
 * `npm run demo`: the whole SDK working on one machine with nothing else installed.
 *
 * 1. starts local servers (healthy, slow, failing, expiring certificate) on loopback addresses;
 * 2. lists them through a static provider with tags and syncs an Inventory;
 * 3. schedules http, tcp and tls checks against tag queries, with alarms;
 * 4. forks two worker processes that make requests, record latency in DDSketch histograms and
 *    report each window to a MetricsBroker over IPC;
 * 5. stores everything in a MemoryMetricsStore (`--cassandra`: the local Cassandra);
 * 6. shows a live view (node, check, state, p50/p99 from the merged sketches, progress) and ends
 *    with a summary read back from the store at 5m resolution.
 *
 * Exits 0 only when every part really ran. Options: `--duration <seconds>` (default 20), `--cassandra`,
 * `--serve` (keep running with the dashboard on 127.0.0.1 and print its URL), `--port`, `--help`.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  attachProcess,
  type CheckResultEvent,
  CheckScheduler,
  type CheckStateEvent,
  Inventory,
  MemoryMetricsStore,
  MetricsBroker,
  type MetricsStore,
  staticProvider,
} from '@fleetwatch/sdk';
import { serveDashboard } from './serve.js';
import { startDemoServers } from './servers.js';
import { renderSummary, renderView, type ViewRow } from './view.js';

const USAGE = `Usage: npm run demo -- [options]

  --duration <s>  run for this many seconds, then print the summary (6-3600, default 20)
  --cassandra     keep metrics in the local Cassandra instead of memory
  --serve         keep running with the dashboard on 127.0.0.1 and print its URL (Ctrl-C ends it)
  --port <n>      the dashboard's port with --serve (default 8080; 0 picks a free one)
  -h, --help      show this help`;

let parsed: ReturnType<typeof parseDemoArgs>;
function parseDemoArgs() {
  return parseArgs({
    options: {
      duration: { type: 'string', default: '20' },
      cassandra: { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
      port: { type: 'string', default: '8080' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}
try {
  parsed = parseDemoArgs();
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed.help) {
  console.log(USAGE);
  process.exit(0);
}
const durationS = Number(parsed.duration);
if (!Number.isFinite(durationS) || durationS < 6 || durationS > 3600) {
  console.error('--duration takes a number of seconds between 6 and 3600');
  process.exit(2);
}
const port = Number(parsed.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('--port takes a port number (0-65535)');
  process.exit(2);
}
const useCassandra = parsed.cassandra;
const serve = parsed.serve;
const INTERVAL_MS = 2000;
const FIVE_MIN = 300_000;

/** The store's clock: real time, fast-forwarded past the current 5-minute slot at the end. */
let clockOffset = 0;
const clock = { now: () => Date.now() + clockOffset };

async function openStore(): Promise<MetricsStore> {
  if (!useCassandra) return new MemoryMetricsStore({ clock });
  const { CassandraMetricsStore } = await import('@fleetwatch/sdk/cassandra');
  const contact = process.env.FLEETWATCH_CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042';
  try {
    return await CassandraMetricsStore.connect({
      contactPoints: contact.split(','),
      localDataCenter: process.env.FLEETWATCH_CASSANDRA_DC ?? 'datacenter1',
      keyspace: 'fleetwatch_demo',
      clock,
    });
  } catch (err) {
    console.error(`--cassandra: cannot reach Cassandra at ${contact} (${(err as Error).message}).`);
    console.error('Start the local one with `scripts/cassandra start`.');
    process.exit(1);
  }
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const servers = await startDemoServers();
  const store = await openStore();
  const broker = await MetricsBroker.start({
    store,
    intervalMs: INTERVAL_MS,
    graceMs: 500,
    id: 'demo-broker',
  });
  let windowsFlushed = 0;
  broker.on('flush', () => {
    windowsFlushed++;
  });

  // Inventory over a static provider: the servers no cloud API knows.
  const provider = staticProvider({
    id: 'lab',
    nodes: servers.servers.map((s) => ({
      id: s.name,
      name: s.name,
      privateIps: [s.ip],
      region: 'local',
      tags: { role: s.role, behaviour: s.behaviour, env: 'demo' },
    })),
  });
  const inventory = new Inventory({ providers: [provider] });
  const syncReport = await inventory.sync();
  const nodes = inventory.query('tag:env=demo');

  // Checks against tag queries, with alarms.
  const scheduler = new CheckScheduler({
    inventory,
    store,
    concurrency: 8,
    ipPreference: 'private',
    flushIntervalMs: 1000,
  });
  scheduler.add({
    id: 'web-http',
    type: 'http',
    targets: 'tag:role=web',
    periodMs: 2000,
    timeoutMs: 1500,
    http: { url: `http://{ip}:${servers.httpPort}/health` },
    alarm: `if (metric['code'] != 200) { return new AlarmStatus(CRITICAL, 'HTTP #{code}'); }
            if (metric['duration'] > 250) { return new AlarmStatus(WARNING, 'slow: #{duration} ms'); }
            return new AlarmStatus(OK, 'HTTP #{code}');`,
  });
  scheduler.add({
    id: 'web-tcp',
    type: 'tcp',
    targets: 'tag:role=web',
    periodMs: 2000,
    timeoutMs: 1000,
    tcp: { port: servers.httpPort },
  });
  scheduler.add({
    id: 'edge-tls',
    type: 'tls',
    targets: 'tag:role=edge',
    periodMs: 3000,
    timeoutMs: 2000,
    tls: { port: servers.httpsPort, ca: servers.ca },
    alarm: `if (metric['cert_end_in'] < 7d) { return new AlarmStatus(WARNING, 'certificate expires in #{cert_end_in} s'); }
            return new AlarmStatus(OK);`,
  });
  const latest = new Map<string, ViewRow>();
  const stateChanges: CheckStateEvent[] = [];
  let results = 0;
  /** The live-view row of one check on one target, made on first sight. */
  const rowFor = (e: { checkId: string; target: string; node?: string }): ViewRow => {
    const key = `${e.checkId}|${e.target}`;
    let row = latest.get(key);
    if (row === undefined) {
      const node = nodes.find((n) => n.uid === e.node)?.name ?? e.target;
      row = { node, check: e.checkId, state: 'UNKNOWN', message: '', durationMs: 0 };
      latest.set(key, row);
    }
    return row;
  };
  scheduler.on('result', (r: CheckResultEvent) => {
    results++;
    rowFor(r).durationMs = r.durationMs;
  });
  scheduler.on('state', (e: CheckStateEvent) => {
    stateChanges.push(e);
    const row = rowFor(e);
    row.state = e.state;
    row.message = e.message;
  });
  scheduler.start();
  const dashboard = serve ? await serveDashboard({ inventory, scheduler, store, broker, port }) : undefined;

  // Two workers recording request metrics, reporting to the broker over IPC.
  const workerFile = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const targets = servers.servers
    .filter((s) => s.behaviour === 'healthy' || s.behaviour === 'slow')
    .filter((s) => s.role === 'web')
    .map((s) => ({ name: s.name, url: `http://${s.ip}:${s.port}/api` }));
  const workers = [1, 2].map((n) =>
    fork(workerFile, [], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        DEMO_WORKER: String(n),
        DEMO_TARGETS: JSON.stringify(targets),
        DEMO_INTERVAL_MS: String(INTERVAL_MS),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const detach = workers.map((w) => attachProcess(broker, w));
  const exited = workers.map(
    (w) => new Promise<number | null>((resolve) => w.on('exit', (code) => resolve(code))),
  );

  // The live view.
  const tty = process.stdout.isTTY === true;
  const endAt = t0 + durationS * 1000;
  let lastPrint = 0;
  const percentiles = async () => {
    const res = await store.queryPercentiles({
      metric: 'demo.request_ms',
      from: t0 - INTERVAL_MS,
      to: Date.now() + INTERVAL_MS,
      quantiles: [0.5, 0.99],
    });
    const byTarget = new Map<string, { p50: number; p99: number; count: number }>();
    for (const r of res) {
      const t = r.tags.target ?? '?';
      byTarget.set(t, { p50: r.quantiles['0.5']!, p99: r.quantiles['0.99']!, count: r.count });
    }
    return byTarget;
  };
  let stopRequested = false;
  if (serve) {
    const stop = () => {
      stopRequested = true;
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  while (serve ? !stopRequested : Date.now() < endAt) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = Date.now();
    if (!tty && now - lastPrint < 5000 && now < endAt) continue;
    lastPrint = now;
    const view = renderView({
      rows: [...latest.values()],
      latency: await percentiles(),
      progress: {
        elapsedS: Math.round((now - t0) / 1000),
        durationS,
        nodes: nodes.length,
        checkRuns: results,
        windows: windowsFlushed,
        frames: broker.stats().frames,
      },
    });
    const banner = dashboard ? `dashboard: ${dashboard.url}  (Ctrl-C stops the demo)\n` : '';
    process.stdout.write(tty ? `\x1b[2J\x1b[H${banner}${view}\n` : `${banner}${view}\n`);
  }

  // Shut down in order: workers send their last window, then the checks, then the broker, then the store.
  for (const w of workers) if (w.connected) w.send('stop');
  const codes = await Promise.race([
    Promise.all(exited),
    new Promise<null[]>((r) => setTimeout(() => r([null, null]), 10_000)),
  ]);
  for (const d of detach) d();
  await dashboard?.close();
  await scheduler.stop();
  await broker.close();
  const brokerStats = broker.stats();
  await servers.close();

  // Fast-forward the store's clock past the current 5-minute slot so it closes and rolls up, as it would
  // after five real minutes, then read the summary back at 5m resolution.
  clockOffset = FIVE_MIN + INTERVAL_MS;
  await store.flush();
  const from = Math.floor(t0 / FIVE_MIN) * FIVE_MIN;
  const to = Math.ceil((Date.now() + 1) / FIVE_MIN) * FIVE_MIN;
  const checkDurations = await store.query({ metric: 'check.duration', from, to, resolution: '5m' });
  const requestCounts = await store.query({ metric: 'demo.requests', from, to, resolution: '5m' });
  const merged = await store.queryPercentiles({
    metric: 'demo.request_ms',
    tags: { target: 'web-2' },
    from,
    to,
    quantiles: [0.5, 0.99],
  });
  await store.close();

  const checks = [...latest.values()];
  const stateOf = (node: string, check: string) =>
    checks.find((r) => r.node === node && r.check === check)?.state;
  const verdicts: Array<[string, boolean]> = [
    [
      'inventory synced 4 nodes from the static provider',
      syncReport.providers.every((p) => !p.error) && nodes.length === 4,
    ],
    [
      'http, tcp and tls checks ran',
      ['web-http', 'web-tcp', 'edge-tls'].every((c) => checks.some((r) => r.check === c)),
    ],
    ['healthy web-1 is OK', stateOf('web-1', 'web-http') === 'OK'],
    ['slow web-2 is WARNING', stateOf('web-2', 'web-http') === 'WARNING'],
    ['failing web-3 is CRITICAL', stateOf('web-3', 'web-http') === 'CRITICAL'],
    ['expiring certificate on edge-1 is WARNING', stateOf('edge-1', 'edge-tls') === 'WARNING'],
    ['both workers exited cleanly', codes.every((c) => c === 0)],
    ['the broker merged frames from both workers', brokerStats.frames >= 4 && windowsFlushed > 0],
    ['5m rollups of check durations were read back', checkDurations.some((s) => s.points.length > 0)],
    ['5m rollups of request counts were read back', requestCounts.some((s) => s.points.length > 0)],
    ['merged p99 of both workers from stored sketches', merged.length > 0 && merged.some((m) => m.count > 0)],
  ];
  process.stdout.write(
    `${renderSummary({ checkDurations, requestCounts, merged, verdicts, stateChanges: stateChanges.length, store: useCassandra ? 'Cassandra' : 'memory' })}\n`,
  );
  return verdicts.every(([, ok]) => ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error('demo failed:', err);
    process.exit(1);
  },
);
