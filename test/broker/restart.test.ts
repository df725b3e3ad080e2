import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { type BrokerClient, connectBroker } from '../../src/broker/client.js';
import type { FleetwatchError } from '../../src/errors.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import type { MetricsStore } from '../../src/metrics-store/types.js';
import { counterSeries, frameBody, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'fw-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const window = (intervalMs: number) => Math.floor(Date.now() / intervalMs) * intervalMs;

/** The stored total of a counter over the last hour. */
async function total(store: MetricsStore, metric: string): Promise<number> {
  const now = Date.now();
  const series = await store.query({ metric, from: now - 3_600_000, to: now + 60_000, resolution: 'raw' });
  let sum = 0;
  for (const s of series) for (const p of s.points) if ('value' in p) sum += p.value;
  return sum;
}

async function client(socketPath: string, intervalMs: number): Promise<BrokerClient> {
  const c = await connectBroker({
    socketPath,
    sourceId: 'p1',
    intervalMs,
    reconnectMinMs: 10,
    reconnectMaxMs: 50,
  });
  cleanup.push(() => c.close());
  return c;
}

function send(c: BrokerClient, intervalMs: number, value: number): void {
  c.send({
    windowStart: window(intervalMs),
    intervalMs,
    series: [{ name: 'req', kind: 'counter', tags: {}, value }],
  });
}

describe('exactly once across graceful restarts', () => {
  for (const sameId of [true, false]) {
    it(`socket clients: close() writes and acknowledges the final windows; nothing is resent or counted twice (${sameId ? 'same' : 'new'} broker id)`, async () => {
      const socketPath = join(dir, `graceful-${sameId}.sock`);
      const store = new MemoryMetricsStore();
      const intervalMs = 60_000; // one open window for the whole test
      let sent = 0;
      const c = await client(socketPath, intervalMs);
      for (let restart = 0; restart < 3; restart++) {
        const b = await MetricsBroker.start({
          store,
          socketPath,
          id: sameId ? 'b' : `b${restart}`,
          intervalMs,
          selfMetrics: false,
        });
        await c.whenConnected();
        for (let i = 1; i <= 3; i++) {
          send(c, intervalMs, i);
          sent += i;
        }
        await until(() => b.stats().frames === 3);
        await b.close();
        expect(c.stats().unacked).toBe(0); // the ACKs went out before the socket closed
        await until(() => !c.connected);
      }
      expect(await total(store, 'req')).toBe(sent);
      expect(c.stats().resent).toBe(0);
    });
  }

  for (const sameId of [true, false]) {
    it(`cluster IPC: a restarted broker adds to, never replaces, the window the previous one wrote in part (${sameId ? 'same' : 'new'} id)`, async () => {
      const store = new MemoryMetricsStore();
      const start = window(60_000);
      let expected = 0;
      const seq = new Map<string, number>();
      for (let restart = 0; restart < 3; restart++) {
        const b = await MetricsBroker.start({
          store,
          id: sameId ? 'primary' : `primary-${restart}`,
          intervalMs: 60_000,
          selfMetrics: false,
        });
        for (const w of ['w1', 'w2', 'w3']) {
          const s = seq.get(w) ?? 0;
          seq.set(w, s + 1);
          b.ingestFrame(frameBody(w, s, start, [counterSeries('jobs', 10 + restart)])); // what attachCluster() does
          expected += 10 + restart;
        }
        await b.close();
      }
      expect(await total(store, 'jobs')).toBe(expected);
    });
  }
});

describe('exactly once across SIGKILL', () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'rpc-broker.ts');

  /** A broker process over the parent's store; `killAfterHighWater` kills it right after its high-water write lands (the ACK is never sent). */
  async function spawnBroker(
    socketPath: string,
    id: string,
    store: MemoryMetricsStore,
    killAfterHighWater: boolean,
  ) {
    const child: ChildProcess = fork(fixture, [socketPath, id], { execArgv: ['--import', 'tsx'] });
    cleanup.push(() => child.kill('SIGKILL'));
    let killed = false;
    child.on(
      'message',
      async (m: { type: string; id: number; op: 'write' | 'writeSketches' | 'query'; args: unknown[] }) => {
        if (m.type !== 'rpc') return;
        try {
          const result = await (store[m.op] as (...a: unknown[]) => Promise<unknown>).apply(store, m.args);
          const points = m.args[0] as Array<{ metric?: string }>;
          if (killAfterHighWater && m.op === 'write' && points[0]?.metric === 'fleetwatch.broker.highWater') {
            killed = true;
            child.kill('SIGKILL'); // the window and its high-water mark are stored; the ACK never leaves
            return;
          }
          if (!killed) child.send({ type: 'rpc', id: m.id, result });
        } catch (err) {
          const e = err as FleetwatchError;
          child.send({ type: 'rpc', id: m.id, error: { code: e.code ?? 'E_INTERNAL', message: e.message } });
        }
      },
    );
    await new Promise<void>((r) => child.on('message', (m: { type: string }) => m.type === 'ready' && r()));
    return child;
  }

  for (const sameId of [true, false]) {
    it(`a window written whose ACK was lost is not counted again by the next broker (${sameId ? 'same' : 'new'} id)`, async () => {
      const socketPath = join(dir, `kill-${sameId}.sock`);
      const store = new MemoryMetricsStore();
      const a = await spawnBroker(socketPath, 'a', store, true);
      const c = await client(socketPath, 1_000);
      send(c, 1_000, 5);
      send(c, 1_000, 7);
      await new Promise<void>((r) => a.once('exit', () => r())); // killed after writing, before acknowledging
      expect(await total(store, 'req')).toBe(12);
      expect(c.stats().unacked).toBe(2);
      const b = await spawnBroker(socketPath, sameId ? 'a' : 'b', store, false);
      await until(() => c.stats().unacked === 0 && c.stats().acked === 2); // resent, recognised, acknowledged
      send(c, 1_000, 1);
      await until(() => c.stats().acked === 3);
      expect(await total(store, 'req')).toBe(13);
      b.send({ type: 'close' });
      await new Promise<void>((r) => b.once('exit', () => r()));
    }, 30_000);
  }

  for (const sameId of [true, false]) {
    it(`cluster IPC: only the killed broker's open window is lost; what it wrote stays and nothing counts twice (${sameId ? 'same' : 'new'} id)`, async () => {
      const store = new MemoryMetricsStore();
      const frame = (w: string, seq: number, value: number, ahead = 0) => ({
        type: 'frame',
        frame: frameBody(w, seq, window(1_000) + ahead, [counterSeries('jobs', value)]).toString('base64'),
      });
      const a = await spawnBroker(join(dir, `ipc-kill-${sameId}.sock`), 'p', store, false);
      a.send(frame('w1', 0, 1));
      a.send(frame('w2', 0, 2));
      await until(async () => (await total(store, 'jobs')) === 3, 10_000); // A wrote that window
      a.send(frame('w1', 1, 100, 10_000)); // in a window still open when A dies: the documented loss
      a.send(frame('w2', 1, 200, 10_000));
      await new Promise((r) => setTimeout(r, 100));
      a.kill('SIGKILL');
      await new Promise<void>((r) => a.once('exit', () => r()));
      const b = await spawnBroker(join(dir, `ipc-kill-${sameId}-b.sock`), sameId ? 'p' : 'q', store, false);
      b.send(frame('w1', 2, 10)); // new windows from the workers
      b.send(frame('w2', 2, 20));
      b.send({ type: 'close' });
      await new Promise<void>((r) => b.once('exit', () => r()));
      expect(await total(store, 'jobs')).toBe(3 + 10 + 20);
    }, 30_000);
  }
});
