import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connectBroker } from '../../src/broker/client.js';
import { FRAME_MAGIC, FrameEncoder, PROTOCOL_VERSION } from '../../src/broker/protocol.js';
import type { BrokerStats } from '../../src/broker/stats.js';
import { until } from './helpers.js';

const MiB = 1024 * 1024;
const fixture = join(import.meta.dirname, 'fixtures', 'flood-broker.ts');
const dir = mkdtempSync(join(tmpdir(), 'fw-abuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A broker process, and a function that asks it something. */
async function spawnBroker(socketPath: string, options: object) {
  const child: ChildProcess = fork(fixture, [socketPath, JSON.stringify(options)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
  });
  cleanup.push(() => child.kill('SIGKILL'));
  const ask = <T>(msg: object, reply: string) =>
    new Promise<T>((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type !== reply) return;
        child.off('message', on);
        resolve(m as T);
      };
      child.on('message', on);
      child.send(msg);
    });
  await new Promise<void>((r) => child.on('message', (m: { type: string }) => m.type === 'ready' && r()));
  const { rss, heap } = await ask<{ rss: number; heap: number }>({ type: 'baseline' }, 'baseline');
  const stats = () => ask<{ stats: BrokerStats; peak: number }>({ type: 'stats' }, 'stats');
  const heapNow = async () => (await ask<{ heap: number }>({ type: 'heap' }, 'heap')).heap;
  const close = (metrics: string[]) =>
    ask<{ sums: Record<string, number>; peak: number; rss: number; heap: number }>(
      { type: 'close', metrics },
      'closed',
    );
  return { baseline: rss, heapBaseline: heap, stats, heapNow, close };
}

/** Open a connection and write `bytes` of one frame announcing `announced` bytes, then go quiet. */
function partialFrame(socketPath: string, announced: number, bytes: number): Promise<Socket> {
  return new Promise((resolve) => {
    const sock = createConnection(socketPath);
    cleanup.push(() => sock.destroy());
    sock.on('error', () => {});
    const head = Buffer.alloc(8);
    head.writeUInt32LE(announced, 0);
    head.writeUInt16LE(FRAME_MAGIC, 4);
    head[6] = PROTOCOL_VERSION;
    head[7] = 1;
    const chunk = Buffer.alloc(MiB, 7);
    let sent = 0;
    const pump = () => {
      while (sent < bytes && !sock.destroyed) {
        const n = Math.min(chunk.length, bytes - sent);
        const ok = sock.write(
          sent === 0 ? Buffer.concat([head, chunk.subarray(8, n)]) : chunk.subarray(0, n),
        );
        sent += n;
        if (!ok) return void sock.once('drain', pump);
      }
      resolve(sock);
    };
    sock.on('close', () => resolve(sock));
    sock.on('connect', pump);
  });
}

/** A legitimate client sends `windows` windows of counter `legit` = 1, 2, …; returns the expected total. */
async function legitTraffic(
  socketPath: string,
  windows: number,
  b: { stats(): Promise<{ stats: BrokerStats }> },
): Promise<number> {
  const before = (await b.stats()).stats.frames;
  const c = await connectBroker({ socketPath, sourceId: 'legit', reconnectMinMs: 10, reconnectMaxMs: 50 });
  cleanup.push(() => void c.close());
  await c.whenConnected();
  const start = Math.floor(Date.now() / 10_000) * 10_000;
  let total = 0;
  for (let i = 1; i <= windows; i++) {
    c.send({
      windowStart: start,
      intervalMs: 10_000,
      series: [{ name: 'legit', kind: 'counter', tags: {}, value: i }],
    });
    total += i;
  }
  await until(async () => (await b.stats()).stats.frames >= before + windows);
  return total;
}

/** A broker on `<name>.sock`, and 6 connections that each send `sent` bytes of a `frame`-byte frame. */
async function sixPartialFrames(name: string, options: object, frame: number, sent: number) {
  const socketPath = join(dir, `${name}.sock`);
  const b = await spawnBroker(socketPath, options);
  await Promise.all(Array.from({ length: 6 }, () => partialFrame(socketPath, frame, sent)));
  return { socketPath, b };
}

/** After the abuse: legitimate traffic (3 windows), then close; what arrived, what was sent, peak RSS growth. */
async function legitThenClose(socketPath: string, b: Awaited<ReturnType<typeof spawnBroker>>) {
  const expected = await legitTraffic(socketPath, 3, b);
  const { sums, peak } = await b.close(['legit']);
  return { expected, legit: sums.legit, rssGrowth: peak - b.baseline };
}

describe('bounded memory under abuse', () => {
  it('6 connections × 63 MiB of a 64 MiB frame, then silence: refused at the header, RSS ≤ +64 MiB', async () => {
    const { socketPath, b } = await sixPartialFrames('big', {}, 64 * MiB, 63 * MiB);
    await until(async () => (await b.stats()).stats.oversizedFrames === 6);
    const after = await legitThenClose(socketPath, b);
    expect(after.legit).toBe(after.expected);
    expect(after.rssGrowth).toBeLessThanOrEqual(64 * MiB);
  }, 60_000);

  it('6 connections × 15 MiB of a 16 MiB frame (under the frame limit): the byte budget and the frame timeout bound it', async () => {
    const { socketPath, b } = await sixPartialFrames(
      'partial',
      { frameTimeoutMs: 1_500 },
      16 * MiB,
      15 * MiB,
    );
    const s1 = (await b.stats()).stats;
    expect(s1.bufferOverflows).toBeGreaterThanOrEqual(4); // only two fit the 32 MiB budget
    expect(s1.bufferedBytes).toBeLessThanOrEqual(32 * MiB);
    await new Promise((r) => setTimeout(r, 2_000));
    const s2 = (await b.stats()).stats;
    expect(s2.frameTimeouts).toBe(6 - s1.bufferOverflows);
    expect(s2.bufferedBytes).toBe(0);
    const after = await legitThenClose(socketPath, b);
    expect(after.legit).toBe(after.expected);
    expect(after.rssGrowth).toBeLessThanOrEqual(64 * MiB);
  }, 60_000);

  it('200k small valid frames, each from a new source: the source table stays bounded, totals exact, memory held and peak RSS bounded', async () => {
    const socketPath = join(dir, 'sources.sock');
    const b = await spawnBroker(socketPath, {});
    const expected = await legitTraffic(socketPath, 2, b);
    const enc = new FrameEncoder();
    const start = Math.floor(Date.now() / 10_000) * 10_000;
    const sock = createConnection(socketPath);
    cleanup.push(() => sock.destroy());
    await new Promise((r) => sock.once('connect', r));
    const N = 200_000;
    for (let i = 0; i < N; i += 1000) {
      const batch: Buffer[] = [];
      for (let j = i; j < i + 1000; j++) {
        batch.push(
          enc.window({ sourceId: `s${j}`, epoch: 1, seq: 0, windowStart: start, intervalMs: 10_000 }, [
            { key: 'flood', kind: 'counter', policy: 'last', value: 1 },
          ]),
        );
      }
      if (!sock.write(Buffer.concat(batch))) await new Promise((r) => sock.once('drain', r));
    }
    await until(async () => (await b.stats()).stats.frames >= N + 2, 60_000);
    const { stats } = await b.stats();
    // What the open window holds for its 200k frames, JS heap plus ArrayBuffers: 20 bytes per frame
    // in the window's ledger (a typed array), nothing per source beyond the fixed table (it was ~90
    // bytes per frame, 18 MiB, when each frame kept a record).
    const heapOpen = await b.heapNow();
    expect(heapOpen, 'heap held with the window open').toBeLessThanOrEqual(b.heapBaseline + 12 * MiB);
    // the default table holds 4096 streams: all but the last ones seen were forgotten
    expect(stats.sourcesEvicted).toBeGreaterThanOrEqual(N - 4_096);
    expect(stats.sourcesEvicted).toBeLessThanOrEqual(N + 101);
    const { sums, heap, peak } = await b.close(['legit', 'flood']);
    expect(sums).toEqual({ legit: expected, flood: N });
    expect(heap - b.heapBaseline, 'heap retained after the window is written').toBeLessThanOrEqual(64 * MiB);
    // RSS sampled every 10 ms from before the flood until the window is written: the source table
    // holds numbers in typed arrays (no object per stream), so the flood's garbage dies young.
    expect(peak - b.baseline, 'peak RSS during the flood').toBeLessThanOrEqual(64 * MiB);
  }, 90_000);

  it('refuses connections beyond maxConnections and closes idle ones, counting both', async () => {
    const socketPath = join(dir, 'conns.sock');
    const b = await spawnBroker(socketPath, { maxConnections: 3, idleTimeoutMs: 300 });
    const socks = Array.from({ length: 5 }, () => {
      const s = createConnection(socketPath);
      s.on('error', () => {});
      cleanup.push(() => s.destroy());
      return s;
    });
    await until(async () => (await b.stats()).stats.connectionsRefused === 2);
    await until(async () => (await b.stats()).stats.idleTimeouts === 3);
    expect(socks.every((s) => s.destroyed || s.readableEnded)).toBe(true);
    const expected = await legitTraffic(socketPath, 2, b);
    expect((await b.close(['legit'])).sums.legit).toBe(expected);
  }, 30_000);
});
