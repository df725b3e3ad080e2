/**
 * report.stop() on a registry reporting to clusterReporter() resolves only once the last window is
 * handed to the IPC channel, so a worker may disconnect right after it without losing that window.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { attachProcess } from '../../src/broker/cluster.js';

const stopWorker = join(import.meta.dirname, 'fixtures', 'stop-worker.ts');
const SERIES = 2_000;

const children: ChildProcess[] = [];
let broker: MetricsBroker | undefined;
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await broker?.close();
  broker = undefined;
});

describe('clusterReporter() and report.stop()', () => {
  for (const serialization of ['json', 'advanced'] as const) {
    it(`report.stop() then process.disconnect(): the broker has the last window (${serialization})`, async () => {
      broker = await MetricsBroker.start({ autoFlush: false, selfMetrics: false });
      const child = fork(stopWorker, [String(SERIES)], { execArgv: ['--import', 'tsx'], serialization });
      children.push(child);
      attachProcess(broker, child);
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      // 0: the window's send callback had run when stop() resolved (3: stop() did not wait for it)
      expect(code).toBe(0);
      expect(broker.stats()).toMatchObject({ frames: 1, badFrames: 0 });
      await broker.close();
      const jobs = broker.totals().filter((t) => t.name === 'jobs');
      expect(jobs).toHaveLength(SERIES);
      expect(jobs.reduce((sum, t) => sum + (t.value ?? 0), 0)).toBe(SERIES);
      broker = undefined;
    });
  }
});
