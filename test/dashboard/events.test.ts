import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { type Fleet, startFleet, TOKEN } from './fleet.js';
import { openStream } from './sse-client.js';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const tagged = (f: Fleet, n: number) => f.inventory.setTags('gce-lab:batch-1', { seq: String(n) });

describe('GET /api/v1/events', () => {
  it('sends inventory changes as `node` events with increasing ids', async () => {
    fleet = await startFleet();
    const s = await openStream(fleet.url);
    expect(s.res.statusCode).toBe(200);
    expect(s.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.res.headers['cache-control']).toBe('no-cache, no-transform');
    await tagged(fleet, 1);
    const f = await s.waitFor((x) => x.event === 'node');
    const data = JSON.parse(f.data);
    expect(data).toMatchObject({
      type: 'changed',
      node: { uid: 'gce-lab:batch-1', localTags: { seq: '1' } },
    });
    expect(data.fields).toEqual(['localTags.seq']);
    expect(data.node.extra).toBeUndefined();
    s.close();
  });

  it('Last-Event-ID - a reconnecting client gets exactly the events it missed', async () => {
    fleet = await startFleet();
    const a = await openStream(fleet.url);
    await tagged(fleet, 1);
    const first = await a.waitFor((x) => x.event === 'node');
    a.close();
    for (let i = 2; i <= 6; i++) await tagged(fleet, i);
    const b = await openStream(fleet.url, { lastEventId: first.id! });
    const last = await b.waitFor((x) => x.event === 'node' && JSON.parse(x.data).node.localTags.seq === '6');
    const seqs = b.frames.filter((x) => x.event === 'node').map((x) => JSON.parse(x.data).node.localTags.seq);
    expect(seqs).toEqual(['2', '3', '4', '5', '6']);
    const ids = b.frames.filter((x) => x.event === 'node').map((x) => Number(x.id));
    expect(ids).toEqual([1, 2, 3, 4, 5].map((k) => Number(first.id) + k));
    expect(Number(last.id)).toBe(fleet.dash.stats().lastEventId);
    b.close();
  });

  it('Last-Event-ID older than the replay buffer - a `reset` event (the page refetches)', async () => {
    fleet = await startFleet({ replayBuffer: 10 });
    for (let i = 1; i <= 15; i++) await tagged(fleet, i);
    const s = await openStream(fleet.url, { lastEventId: '1' });
    const reset = await s.waitFor((x) => x.event === 'reset');
    const { oldest } = JSON.parse(reset.data) as { oldest: number };
    expect(oldest).toBeGreaterThan(2);
    expect(oldest).toBeLessThanOrEqual(fleet.dash.stats().lastEventId - 9);
    expect(s.frames.filter((x) => x.event === 'node')).toEqual([]);
    const ahead = await openStream(fleet.url, { lastEventId: '999999' });
    await ahead.waitFor((x) => x.event === 'reset');
    s.close();
    ahead.close();
  });

  it('sends broker window summaries as `window` events', async () => {
    const broker = await MetricsBroker.start({
      intervalMs: 200,
      graceMs: 0,
      statsd: { port: 0 },
      selfMetrics: false,
    });
    fleet = await startFleet({ broker });
    const s = await openStream(fleet.url);
    const udp = createSocket('udp4');
    const send = () => udp.send('dash.hits:3|c', broker.statsdPort!, '127.0.0.1');
    send();
    const timer = setInterval(send, 100);
    try {
      const f = await s.waitFor((x) => x.event === 'window' && JSON.parse(x.data).points > 0, 10_000);
      const w = JSON.parse(f.data);
      expect(w.windowStart).toBeTypeOf('number');
      expect(w.durationMs).toBeGreaterThanOrEqual(0);
    } finally {
      clearInterval(timer);
      udp.close();
      s.close();
      await fleet.close();
      fleet = undefined;
      await broker.close();
    }
  });

  it('sends heartbeat comments', async () => {
    fleet = await startFleet({ heartbeatMs: 50 });
    const s = await openStream(fleet.url);
    await expect.poll(() => s.comments, { timeout: 3000 }).toBeGreaterThanOrEqual(2);
    s.close();
  });

  it('drops and counts a client that stops reading; others keep receiving', async () => {
    fleet = await startFleet({ maxClientBufferBytes: 64 * 1024 });
    const port = new URL(fleet.url).port;
    const stalled = connect(Number(port), '127.0.0.1');
    stalled.write(`GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    stalled.pause();
    let stalledClosed = false;
    stalled.on('close', () => {
      stalledClosed = true;
    });
    const healthy = await openStream(fleet.url);
    await expect.poll(() => fleet!.dash.stats().clients).toBe(2);
    const big = 'x'.repeat(4000);
    const tags = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, big]));
    // ~64 KB per event: far past what the kernel buffers for the stalled socket
    for (let i = 0; i < 300 && fleet.dash.stats().droppedSlowClients === 0; i++) {
      await fleet.inventory.setTags('gce-lab:batch-1', { ...tags, seq: String(i) });
      await new Promise((r) => setImmediate(r));
    }
    expect(fleet.dash.stats().droppedSlowClients).toBe(1);
    // once it reads again, it finds its stream ended by the server
    stalled.resume();
    await expect.poll(() => stalledClosed, { timeout: 10_000 }).toBe(true);
    expect(fleet.dash.stats().clients).toBe(1);
    await tagged(fleet, 42);
    await healthy.waitFor(
      (x) => x.event === 'node' && JSON.parse(x.data).node.localTags.seq === '42',
      10_000,
    );
    healthy.close();
    stalled.destroy();
  });

  it('maxClients - one more stream gets 429 E_RATE_LIMIT and is counted', async () => {
    fleet = await startFleet({ maxClients: 1 });
    const a = await openStream(fleet.url);
    const b = await openStream(fleet.url);
    expect(b.res.statusCode).toBe(429);
    expect(fleet.dash.stats().refusedClients).toBe(1);
    a.close();
    b.close();
  });

  it('close() - ends every stream, and a closed dashboard answers 503 E_CLOSED', async () => {
    fleet = await startFleet();
    const s = await openStream(fleet.url);
    const ended = new Promise<void>((r) => s.res.on('close', () => r()));
    fleet.dash.close();
    await ended;
    const res = await fetch(new URL('api/v1/nodes', fleet.url), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_CLOSED');
  });

  it('without credentials - 401, no stream', async () => {
    fleet = await startFleet();
    const s = await openStream(fleet.url, { token: 'not-the-token-at-all' });
    expect(s.res.statusCode).toBe(401);
    expect(fleet.dash.stats().clients).toBe(0);
    s.close();
  });
});
