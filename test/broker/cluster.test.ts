import { type ChildProcess, fork } from 'node:child_process';
import cluster from 'node:cluster';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { attachCluster, attachProcess, isClusterWindowMessage } from '../../src/broker/cluster.js';
import { decodeSketch } from '../../src/metrics/sketch.js';
import { latencies } from './fixtures/values.js';
import { FakeClock, RecordingStore } from './helpers.js';

const T0 = Date.UTC(2026, 10, 26, 6, 0, 0);
const workerScript = join(import.meta.dirname, 'fixtures', 'worker.ts');

const children: ChildProcess[] = [];
let broker: MetricsBroker | undefined;
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await broker?.close();
  broker = undefined;
});

/** Fork a worker and resolve once it reports `type` (resolves on the first message of that type). */
function waitFor(child: ChildProcess, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const on = (m: { type?: string }) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve();
    };
    child.on('message', on);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ${type}`)));
  });
}

function spawn(
  seed: number,
  n: number,
  mu: number,
  sigma: number,
  serialization: 'json' | 'advanced',
): ChildProcess {
  const child = fork(workerScript, [String(seed), String(n), String(T0), String(mu), String(sigma)], {
    execArgv: ['--import', 'tsx'],
    serialization,
  });
  children.push(child);
  return child;
}

/** The exact q-quantile with the sketch's rank convention: the value of rank ⌊q·(n−1)⌋. */
function exact(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('cluster / child_process IPC', () => {
  it('merges sketches of several forked workers; percentiles are within 1% of the exact ones', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = new RecordingStore();
    broker = await MetricsBroker.start({ store, id: 'primary', clock, autoFlush: false, selfMetrics: false });
    // One slow worker and three fast ones (the case where averaging per-worker percentiles fails).
    const specs = [
      { seed: 1, n: 5_000, mu: 5, sigma: 0.5, ser: 'advanced' as const },
      { seed: 2, n: 20_000, mu: 3, sigma: 0.7, ser: 'json' as const },
      { seed: 3, n: 20_000, mu: 3, sigma: 0.7, ser: 'advanced' as const },
      { seed: 4, n: 20_000, mu: 3, sigma: 0.7, ser: 'json' as const },
    ];
    await Promise.all(
      specs.map(async (s) => {
        const child = spawn(s.seed, s.n, s.mu, s.sigma, s.ser);
        attachProcess(broker!, child);
        await waitFor(child, 'sent');
      }),
    );
    // 'sent' can overtake the window message only if IPC reorders, which it does not; still, wait.
    const deadline = Date.now() + 5_000;
    while (broker.stats().frames < specs.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(broker.stats().frames).toBe(4);
    clock.t = T0 + 20_000;
    await broker.flushDue();

    const all = specs.flatMap((s) => latencies(s.seed, s.n, s.mu, s.sigma)).sort((a, b) => a - b);
    const merged = decodeSketch(store.sketches[0]!.points[0]!.sketch);
    expect(merged.count).toBe(all.length);
    expect(store.values('jobs')[0]!.value).toBe(65_000);
    const names: Record<number, string> = { 0.5: 'p50', 0.9: 'p90', 0.99: 'p99', 0.999: 'p999' };
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const truth = exact(all, q);
      const written = store.values(`lat.${names[q]}`)[0]!.value;
      expect(Math.abs(written - truth) / truth).toBeLessThanOrEqual(0.01);
    }
  });

  it('a worker killed with SIGKILL loses only its unsent window; totals stay monotonic', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = new RecordingStore();
    broker = await MetricsBroker.start({ store, id: 'primary', clock, autoFlush: false, selfMetrics: false });
    const a = spawn(10, 300, 3, 0.5, 'advanced');
    const b = spawn(20, 200, 3, 0.5, 'advanced');
    attachProcess(broker, a);
    attachProcess(broker, b);
    await Promise.all([waitFor(a, 'sent'), waitFor(b, 'sent')]);
    const recording = Promise.all([waitFor(a, 'recording'), waitFor(b, 'recording')]);
    a.send({ type: 'record' });
    b.send({ type: 'record' });
    await recording;
    const exited = new Promise((r) => a.once('exit', r));
    a.kill('SIGKILL'); // a's second window is lost with it
    await exited;
    b.send({ type: 'flush' });
    await waitFor(b, 'sent');
    const deadline = Date.now() + 5_000;
    while (broker.stats().frames < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    clock.t = T0 + 30_000;
    await broker.flushDue();
    expect(store.values('jobs').map((v) => [v.value])).toEqual([[500], [100]]); // window 1: a+b, window 2: b only
    expect(broker.totals().find((t) => t.name === 'jobs')?.value).toBe(600);
    expect(broker.stats()).toMatchObject({ frames: 3, badFrames: 0, gaps: 0 });
  });

  it('attachCluster() merges windows from real cluster workers', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = new RecordingStore();
    broker = await MetricsBroker.start({ store, id: 'primary', clock, autoFlush: false, selfMetrics: false });
    const detach = attachCluster(broker, { cluster });
    const workers = [5, 6].map((seed) => {
      cluster.setupPrimary({
        exec: workerScript,
        args: [String(seed), '1000', String(T0), '3', '0.5'],
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
      });
      return cluster.fork();
    });
    try {
      const deadline = Date.now() + 20_000;
      while (broker.stats().frames < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      clock.t = T0 + 20_000;
      await broker.flushDue();
      expect(store.values('jobs').map((v) => v.value)).toEqual([2_000]);
      expect(store.values('lat.count').map((v) => v.value)).toEqual([2_000]);
    } finally {
      detach();
      for (const w of workers) w.process.kill('SIGKILL');
    }
  });

  it('recognises window messages and counts a corrupted one as a bad frame', async () => {
    expect(isClusterWindowMessage({ fleetwatch: 'window', frame: 'AAAA' })).toBe(true);
    expect(isClusterWindowMessage({ fleetwatch: 'other' })).toBe(false);
    expect(isClusterWindowMessage('hello')).toBe(false);
    broker = await MetricsBroker.start({ autoFlush: false, selfMetrics: false });
    const fake = {
      on: (_e: string, fn: (m: unknown) => void) => fn({ fleetwatch: 'window', frame: 'AAAA' }),
      off: () => {},
    };
    attachProcess(broker, fake as unknown as ChildProcess);
    expect(broker.stats().badFrames).toBe(1);
  });
});
