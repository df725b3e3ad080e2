import { createConnection, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import { until } from '../broker/helpers.js';

let broker: MetricsBroker | undefined;
const cleanup: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await broker?.close();
  broker = undefined;
});

async function start(otlp: object) {
  broker = await MetricsBroker.start({
    store: new MemoryMetricsStore(),
    id: 'slow',
    autoFlush: false,
    selfMetrics: false,
    otlp: { port: 0, host: '127.0.0.1', ...otlp },
  });
  return broker;
}

const body = JSON.stringify({
  resourceMetrics: [
    {
      scopeMetrics: [
        {
          metrics: [
            {
              name: 'ok',
              sum: {
                aggregationTemporality: 1,
                isMonotonic: true,
                dataPoints: [{ asInt: 1, timeUnixNano: String(BigInt(Date.now()) * 1_000_000n) }],
              },
            },
          ],
        },
      ],
    },
  ],
});

/** A client that sends `head` at once, then one byte of `rest` every 20 ms; resolves with how long its connection lived. */
function slowClient(url: URL, head: string, rest: string): { sock: Socket; lifetime: Promise<number> } {
  const sock = createConnection({ host: url.hostname, port: Number(url.port) });
  sock.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  cleanup.push(() => {
    clearInterval(timer);
    sock.destroy();
  });
  const lifetime = new Promise<number>((resolve) => {
    let opened = 0;
    sock.on('connect', () => {
      opened = Date.now();
      sock.write(head);
      let i = 0;
      timer = setInterval(() => {
        if (i < rest.length && !sock.destroyed) sock.write(rest[i++] as string);
      }, 20);
    });
    sock.on('close', () => {
      clearInterval(timer);
      resolve(Date.now() - opened);
    });
  });
  return { sock, lifetime };
}

const postOk = (url: string) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

describe('OTLP receiver under slow clients', () => {
  it('cuts byte-a-time headers and bodies at the timeouts, counting them, while a normal client is served', async () => {
    const b = await start({ headersTimeoutMs: 1_000, requestTimeoutMs: 2_500 });
    const url = new URL(b.otlpUrl as string);
    const longHeader = `x-pad: ${'a'.repeat(200)}\r\n`;
    const slowHeaders = Array.from({ length: 20 }, () =>
      slowClient(url, 'POST /v1/metrics HTTP/1.1\r\nhost: x\r\n', longHeader),
    );
    const slowBodies = Array.from({ length: 20 }, () =>
      slowClient(
        url,
        `POST /v1/metrics HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
        body,
      ),
    );
    await until(() => (b.otlpStats()?.connections ?? 0) >= 40);
    // more slow clients than decoding slots (4): a normal request is still served at once
    const res = await postOk(b.otlpUrl as string);
    expect(res.status).toBe(200);
    expect(b.otlpStats()).toMatchObject({ dataPoints: 1, requestTimeouts: 0 }); // served while they hung on

    const headerLives = await Promise.all(slowHeaders.map((c) => c.lifetime));
    const bodyLives = await Promise.all(slowBodies.map((c) => c.lifetime));
    // each was cut at its timeout (timer slack allowed), long before it would have finished
    for (const ms of headerLives) expect(ms).toBeGreaterThanOrEqual(990);
    for (const ms of headerLives) expect(ms).toBeLessThan(20 * longHeader.length);
    for (const ms of bodyLives) expect(ms).toBeGreaterThanOrEqual(2_490);
    for (const ms of bodyLives) expect(ms).toBeLessThan(20 * body.length);
    const s = b.otlpStats();
    expect(s).toMatchObject({ requestTimeouts: 20, dataPoints: 1 });
    // the 20 slow ones, plus the normal client's kept-alive connection if it sat idle past the timeout
    expect(s?.headersTimeouts).toBeGreaterThanOrEqual(20);
    expect(s?.headersTimeouts).toBeLessThanOrEqual(21);
    expect((await postOk(b.otlpUrl as string)).status).toBe(200);
  }, 30_000);

  it('refuses connections beyond maxConnections (counted), so open connections and held bodies stay bounded', async () => {
    const b = await start({ maxConnections: 8, headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 });
    const url = new URL(b.otlpUrl as string);
    const clients = Array.from({ length: 30 }, () =>
      slowClient(url, 'POST /v1/metrics HTTP/1.1\r\n', 'x'.repeat(100)),
    );
    let most = 0;
    const sample = setInterval(() => {
      most = Math.max(most, b.otlpStats()?.connections ?? 0);
    }, 5);
    cleanup.push(() => clearInterval(sample));
    await Promise.all(clients.map((c) => c.lifetime));
    clearInterval(sample);
    expect(most).toBeLessThanOrEqual(8);
    const s = b.otlpStats();
    // 30 tried, at most 8 open at once: the rest were refused (fewer than 22 when an early one was cut
    // before a late one connected); every one is counted under one reason or the other
    expect(s?.connectionsRefused).toBeGreaterThanOrEqual(1);
    expect((s?.connectionsRefused ?? 0) + (s?.headersTimeouts ?? 0)).toBe(30);
    await until(() => b.otlpStats()?.connections === 0);
    expect((await postOk(b.otlpUrl as string)).status).toBe(200);
  }, 30_000);

  it('rejects bad timeout and connection options naming the field', async () => {
    await expect(start({ headersTimeoutMs: 0 })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'options.otlp.headersTimeoutMs',
    });
    await expect(start({ maxConnections: 1.5 })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'options.otlp.maxConnections',
    });
  });
});
