import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { type BrokerClient, connectBroker } from '../../src/broker/client.js';
import type { WindowSnapshot } from '../../src/metrics/types.js';
import { FakeClock, RecordingStore, until } from './helpers.js';

const T0 = Date.UTC(2026, 10, 26, 6, 0, 0);
const fixture = join(import.meta.dirname, 'fixtures', 'broker-process.ts');
const dir = mkdtempSync(join(tmpdir(), 'fw-broker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanup: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c.close();
});

function snap(windowStart: number, value: number, name = 'req'): WindowSnapshot {
  return {
    windowStart,
    intervalMs: 10_000,
    series: [{ name, kind: 'counter', tags: { svc: 'api' }, value }],
  };
}

async function startBroker(opts: Parameters<typeof MetricsBroker.start>[0]) {
  const b = await MetricsBroker.start({ id: 'b', autoFlush: false, selfMetrics: false, ...opts });
  cleanup.push(b);
  return b;
}
async function client(opts: Parameters<typeof connectBroker>[0]): Promise<BrokerClient> {
  const c = await connectBroker({ reconnectMinMs: 10, reconnectMaxMs: 50, ...opts });
  cleanup.push(c);
  return c;
}

describe('socket transport', () => {
  it('carries windows over a Unix socket and acknowledges them once written', async () => {
    const socketPath = join(dir, 'a.sock');
    const clock = new FakeClock(T0 + 1_000);
    const store = new RecordingStore();
    const broker = await startBroker({ store, socketPath, clock });
    const c = await client({ socketPath, sourceId: 'p1' });
    expect(c.connected).toBe(true);
    c.send(snap(T0, 2));
    c.send(snap(T0, 3));
    await until(() => broker.stats().frames === 2);
    expect(c.stats().unacked).toBe(2);
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(store.values('req')).toEqual([{ value: 5, combine: 'sum', tags: { svc: 'api' } }]);
    await until(() => c.stats().acked === 2);
    expect(c.stats().unacked).toBe(0);
  });

  it('carries windows over TCP on 127.0.0.1 with an ephemeral port', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = new RecordingStore();
    const broker = await startBroker({ store, port: 0, clock });
    expect(broker.port).toBeGreaterThan(0);
    const c = await client({ port: broker.port!, sourceId: 'p1' });
    c.send(snap(T0, 4));
    await until(() => broker.stats().frames === 1);
    await broker.close();
    expect(store.sum('req')).toBe(4);
  });

  it('loses nothing when the broker is SIGKILLed: clients resend unacknowledged windows to the next one', async () => {
    const socketPath = join(dir, 'restart.sock');
    const intervalMs = 2_000;
    const spawnBroker = async () => {
      const child = fork(fixture, [socketPath, String(intervalMs), '1000'], {
        execArgv: ['--import', 'tsx'],
      });
      cleanup.push({ close: async () => void child.kill('SIGKILL') });
      const writes: number[] = [];
      child.on('message', (m: { type: string; points?: Array<{ metric: string; value: number }> }) => {
        if (m.type === 'write') for (const p of m.points ?? []) if (p.metric === 'req') writes.push(p.value);
      });
      await new Promise<void>((r) => child.on('message', (m: { type: string }) => m.type === 'ready' && r()));
      const stats = () =>
        new Promise<{ frames: number; duplicates: number }>((r) => {
          const on = (m: { type: string; stats?: { frames: number; duplicates: number } }) => {
            if (m.type !== 'stats') return;
            child.off('message', on);
            r(m.stats!);
          };
          child.on('message', on);
          child.send({ type: 'stats' });
        });
      return { child, writes, stats };
    };
    const window = () => Math.floor(Date.now() / intervalMs) * intervalMs;

    const a = await spawnBroker();
    const c = await client({ socketPath, sourceId: 'p1', intervalMs });
    c.send(snap(window(), 1));
    await until(() => c.stats().acked === 1); // written by A, then acknowledged
    c.send(snap(window(), 2));
    while ((await a.stats()).frames < 2) await new Promise((r) => setTimeout(r, 5)); // A has it, window open
    a.child.kill('SIGKILL');
    await until(() => !c.connected);
    c.send(snap(window(), 4)); // while no broker is up
    expect(c.stats().unacked).toBe(2);

    const b = await spawnBroker();
    await until(() => c.stats().acked === 3 && c.stats().unacked === 0);
    expect(a.writes).toEqual([1]);
    expect(b.writes.reduce((x, y) => x + y, 0)).toBe(6); // the resent window and the held one
    expect(c.stats().reconnects).toBe(1);
  });

  it('does not count a resent frame twice after a dropped connection (broker alive)', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = new RecordingStore();
    const broker = await startBroker({ store, port: 0, clock });
    // A TCP proxy between client and broker whose connections the test can cut.
    const links = new Set<Socket>();
    const proxy = createServer((down) => {
      const up = createConnection(broker.port!, '127.0.0.1');
      links.add(down).add(up);
      down.pipe(up).pipe(down);
      const cut = () => {
        down.destroy();
        up.destroy();
      };
      down.on('error', cut).on('close', cut);
      up.on('error', cut).on('close', cut);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanup.push({ close: () => new Promise<void>((r) => proxy.close(() => r())) });
    const port = (proxy.address() as AddressInfo).port;
    const c = await client({ port, sourceId: 'p1' });
    c.send(snap(T0, 5));
    await until(() => broker.stats().frames === 1);
    for (const l of links) l.destroy(); // the network drops; the frame is unacknowledged
    await until(() => broker.stats().duplicates === 1); // resent on reconnect, recognised
    expect(c.stats()).toMatchObject({ reconnects: 1, resent: 1 });
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(store.sum('req')).toBe(5);
    await until(() => c.stats().acked === 1); // the ack goes to the new connection
  });

  it('drops a connection that sends garbage, counts it, and keeps serving others', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const broker = await startBroker({ store: new RecordingStore(), port: 0, clock });
    const bad = createConnection(broker.port!, '127.0.0.1');
    await new Promise((r) => bad.once('connect', r));
    bad.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await new Promise((r) => bad.once('close', r));
    expect(broker.stats().badFrames).toBe(1);
    const c = await client({ port: broker.port!, sourceId: 'ok' });
    c.send(snap(T0, 1));
    await until(() => broker.stats().frames === 1);
  });

  it('drops the oldest windows beyond maxUnsentWindows while the broker is away', async () => {
    const c = await client({ socketPath: join(dir, 'nobody.sock'), maxUnsentWindows: 2 });
    expect(c.connected).toBe(false);
    for (let i = 0; i < 5; i++) c.send(snap(T0 + i * 10_000, 1));
    expect(c.stats()).toMatchObject({ windows: 5, unacked: 2, droppedWindows: 3 });
  });
});

describe('connectBroker() client', () => {
  it('applies back-pressure: a broker that stops reading does not make the socket buffer grow', async () => {
    const accepted: Socket[] = [];
    const stalled = createServer((sock) => {
      sock.pause();
      accepted.push(sock);
    });
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    cleanup.push({
      close: () =>
        new Promise<void>((r) => {
          for (const s of accepted) s.destroy();
          stalled.close(() => r());
        }),
    });
    const c = await client({ port: (stalled.address() as AddressInfo).port, maxUnsentWindows: 50 });
    const big: WindowSnapshot = {
      windowStart: T0,
      intervalMs: 10_000,
      series: Array.from({ length: 50_000 }, (_, i) => ({
        name: 'm',
        kind: 'counter' as const,
        tags: { i: String(i) },
        value: 1,
      })),
    };
    for (let i = 0; i < 20; i++) c.send({ ...big, windowStart: T0 + i * 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    const st = c.stats();
    expect(st.windows).toBe(20);
    expect(st.unacked).toBe(20);
    expect(st.written).toBeLessThan(10); // the rest wait for 'drain'
  });

  it('validates options and snapshots, and refuses sends after close()', async () => {
    await expect(connectBroker({ socketPath: '/x', port: 1 })).rejects.toMatchObject({
      code: 'E_VALIDATION',
    });
    await expect(connectBroker({})).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'options.socketPath',
    });
    await expect(connectBroker({ port: 1, maxUnsentWindows: 0 })).rejects.toMatchObject({
      path: 'options.maxUnsentWindows',
    });
    const c = await client({ socketPath: join(dir, 'none.sock') });
    expect(() => c.send({ windowStart: -1, intervalMs: 10, series: [] })).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'snapshot.windowStart' }),
    );
    await c.close();
    expect(() => c.send(snap(T0, 1))).toThrow(expect.objectContaining({ code: 'E_CLOSED' }));
  });
});

describe('StatsD over UDP', () => {
  it('aggregates lines from real datagrams, counting bad ones', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = new RecordingStore();
    const broker = await startBroker({ store, clock, statsd: { port: 0 } });
    const udp = createSocket('udp4');
    const sendUdp = (s: string) =>
      new Promise<void>((r) => udp.send(s, broker.statsdPort!, '127.0.0.1', () => r()));
    await sendUdp('a:1|c\na:2|c|#k:v');
    await sendUdp('a:3|c\nnot a line');
    udp.close();
    await until(() => broker.stats().statsdPackets === 2);
    await broker.close();
    expect(store.values('a').map((v) => [v.value, v.tags])).toEqual([
      [4, {}],
      [2, { k: 'v' }],
    ]);
    expect(broker.stats()).toMatchObject({ statsdLines: 4, badStatsdLines: 1 });
  });
});
