/**
 * Scheduler benchmark (npx tsx bench/scheduler.ts; BENCH_QUICK=1 for a short run): N TCP-connect
 * checks at a 10 s period against listeners on 127.0.0.1 (in a child process, so their CPU is not
 * counted). Reports start lateness p50/p99 (start − due), skipped runs and CPU per check for the
 * CheckScheduler (one timer over a heap, phase grid, p-queue) beside a baseline of one setTimeout chain
 * per check (Uptime Kuma style: first run at a random offset, then `period − elapsed`), same run.
 * The first WARMUP_S seconds of each are not counted.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { CheckScheduler } from '../src/checks/scheduler.js';
import { tcpCheck } from '../src/checks/tcp.js';
import { type BenchRow, quantile, writeResults } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const CHECKS = QUICK ? 2000 : 10_000;
const OURS_S = QUICK ? 14 : 60;
const BASE_S = QUICK ? 10 : 60;
/** Samples and CPU before this are warm-up (JIT, first connections) and not counted. */
const WARMUP_S = QUICK ? 3 : 10;
const PERIOD = 10_000;
const TIMEOUT = 5000;
const LISTENERS = 20;

// ---------------------------------------------------------------- listener child
if (process.argv[2] === '--listeners') {
  const ports: number[] = [];
  for (let i = 0; i < LISTENERS; i++) {
    const srv = createServer((s) => {
      s.on('error', () => {});
      s.destroy();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', 4096, r));
    ports.push((srv.address() as { port: number }).port);
  }
  process.send?.(ports);
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

async function main(): Promise<void> {
  const child = fork(new URL(import.meta.url).pathname, ['--listeners'], { execArgv: ['--import', 'tsx'] });
  const ports = await new Promise<number[]>((r) => child.once('message', (m) => r(m as number[])));
  const rows: BenchRow[] = [];
  try {
    const ours = await runScheduler(ports);
    const base = await runBaseline(ports);
    const add = (name: string, o: Result) => {
      rows.push(
        {
          case: `${name}: start lateness p50`,
          value: quantile(o.lateness, 0.5),
          unit: 'ms',
        },
        {
          case: `${name}: start lateness p99`,
          value: quantile(o.lateness, 0.99),
          unit: 'ms',
          ...(name === 'scheduler' ? { goal: '<= 50 ms', met: quantile(o.lateness, 0.99) <= 50 } : {}),
        },
        {
          case: `${name}: skipped runs`,
          value: o.skipped,
          unit: 'runs',
          ...(name === 'scheduler' ? { goal: '0', met: o.skipped === 0 } : {}),
        },
        { case: `${name}: runs`, value: o.runs, unit: 'runs', note: `${o.failed} failed, ${o.seconds} s` },
        { case: `${name}: CPU per check`, value: o.cpuUs / Math.max(1, o.runs), unit: 'µs' },
        { case: `${name}: event-loop delay p99`, value: o.loopP99, unit: 'ms' },
      );
    };
    add('scheduler', ours);
    add('baseline setTimeout chains', base);
  } finally {
    child.disconnect();
    child.kill();
  }
  writeResults('scheduler', rows, { checks: CHECKS, periodMs: PERIOD, quick: QUICK, listeners: LISTENERS });
  process.exit(0);
}

interface Result {
  lateness: number[];
  skipped: number;
  runs: number;
  failed: number;
  cpuUs: number;
  seconds: number;
  loopP99: number;
}

async function runScheduler(ports: number[]): Promise<Result> {
  const s = new CheckScheduler({ concurrency: 200 });
  const lateness: number[] = [];
  let failed = 0;
  let measuring = false;
  s.on('result', (r) => {
    if (!measuring) return;
    lateness.push(r.ts - r.scheduledAt);
    if (!r.ok) failed++;
  });
  for (let i = 0; i < CHECKS; i++) {
    s.add({
      id: `tcp-${i}`,
      type: 'tcp',
      targets: `127.0.0.1:${ports[i % ports.length]}`,
      periodMs: PERIOD,
      timeoutMs: TIMEOUT,
    });
  }
  s.start();
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  measuring = true;
  const skipped0 = s.stats();
  const cpu0 = process.cpuUsage();
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((r) => setTimeout(r, (OURS_S - WARMUP_S) * 1000));
  h.disable();
  const stats = s.stats();
  await s.stop();
  const cpu = process.cpuUsage(cpu0);
  return {
    lateness,
    skipped: stats.skippedOverrun + stats.skippedLate - skipped0.skippedOverrun - skipped0.skippedLate,
    runs: lateness.length,
    failed,
    cpuUs: cpu.user + cpu.system,
    seconds: OURS_S - WARMUP_S,
    loopP99: Math.max(0, h.percentile(99) / 1e6 - 10),
  };
}

async function runBaseline(ports: number[]): Promise<Result> {
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 10 });
  const lateness: number[] = [];
  let measuring = false;
  let failed = 0;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const config = tcpCheck.normalize({}, 'tcp');
  const beat = (i: number, intended: number) => {
    if (stopped) return;
    const start = Date.now();
    if (measuring) lateness.push(start - intended);
    const signal = AbortSignal.timeout(TIMEOUT);
    const port = ports[i % ports.length]!;
    tcpCheck
      .run(
        config,
        { key: String(i), host: '127.0.0.1', ip: '127.0.0.1', name: String(i), port },
        { signal, timeoutMs: TIMEOUT },
      )
      .then(
        (o) => {
          if (o.error && measuring) failed++;
        },
        () => {
          if (measuring) failed++;
        },
      )
      .finally(() => {
        if (stopped) return;
        const setAt = Date.now();
        const delay = Math.max(1, PERIOD - (setAt - start));
        const t = setTimeout(() => {
          timers.delete(t);
          beat(i, setAt + delay);
        }, delay);
        timers.add(t);
      });
  };
  const t0 = Date.now();
  for (let i = 0; i < CHECKS; i++) {
    const offset = Math.floor(Math.random() * PERIOD);
    const t = setTimeout(() => {
      timers.delete(t);
      beat(i, t0 + offset);
    }, offset);
    timers.add(t);
  }
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  measuring = true;
  const cpu0 = process.cpuUsage();
  h.enable();
  await new Promise((r) => setTimeout(r, (BASE_S - WARMUP_S) * 1000));
  stopped = true;
  for (const t of timers) clearTimeout(t);
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  return {
    lateness,
    skipped: 0,
    runs: lateness.length,
    failed,
    cpuUs: cpu.user + cpu.system,
    seconds: BASE_S - WARMUP_S,
    loopP99: Math.max(0, h.percentile(99) / 1e6 - 10),
  };
}
