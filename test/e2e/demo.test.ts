/**
 * `npm run demo` end to end: the real demo process, its servers, workers, broker, checks and store.
 * It must exit 0 (every part ran) and print a summary read back from the store at 5m resolution.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeCassandra } from '../cassandra/cassandra-env.js';
import { describeWithService } from '../helpers/services.js';

const root = resolve(import.meta.dirname, '../..');

function runDemo(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/main.ts', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => done({ code, out }));
  });
}

function expectEveryPartRan(code: number | null, out: string, store: string) {
  expect(out, out).toContain(`summary from the ${store} store at 5m resolution`);
  expect(out).not.toMatch(/^FAIL /m);
  for (const part of [
    'inventory synced 4 nodes',
    'slow web-2 is WARNING',
    'failing web-3 is CRITICAL',
    'expiring certificate on edge-1 is WARNING',
    'the broker merged frames from both workers',
    '5m rollups of check durations were read back',
    'merged p99 of both workers from stored sketches',
  ]) {
    expect(out).toMatch(new RegExp(`^ok +${part}`, 'm'));
  }
  // the merged latency of the slow server reflects its 300-500 ms replies
  const m = /web-2 latency merged across workers: n=(\d+) p50=([\d.]+) ms p99=([\d.]+) ms/.exec(out);
  expect(m).not.toBeNull();
  expect(Number(m![1])).toBeGreaterThan(5);
  expect(Number(m![2])).toBeGreaterThanOrEqual(290);
  expect(Number(m![3])).toBeLessThan(1500);
  expect(code).toBe(0);
}

describe('npm run demo', () => {
  it('runs every part on the memory store and exits 0', async () => {
    const { code, out } = await runDemo(['--duration', '8']);
    expectEveryPartRan(code, out, 'memory');
  }, 90_000);

  it('rejects a bad --duration', async () => {
    const { code, out } = await runDemo(['--duration', 'abc']);
    expect(code).toBe(2);
    expect(out).toContain('--duration takes a number of seconds');
  }, 30_000);
});

describeWithService('npm run demo --cassandra', await probeCassandra(), () => {
  it('runs every part on the local Cassandra and exits 0', async () => {
    // 12 s, not 8: under CI load the two workers (tsx child processes) can take most of 8 s to start,
    // and one run stored only 5 web-2 samples.
    const { code, out } = await runDemo(['--duration', '12', '--cassandra']);
    expectEveryPartRan(code, out, 'Cassandra');
  }, 120_000);
});
