import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { encodeOtlpMetrics } from '../../src/interop/otlp-codec.js';
import type { OtlpMetricsRequest } from '../../src/interop/otlp-types.js';
import { T0, useOtlpBroker } from './otlp-requests.js';

const run = promisify(execFile);
const SENDER = new URL('./peers/otel-sender.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'fw-otlp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = useOtlpBroker();

/** Deterministic values: a small LCG, log-uniform latencies in [5, 500] ms. */
function valuesFor(seed: number, n: number) {
  let x = seed >>> 0;
  const next = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
  return {
    counter: Array.from({ length: 50 }, () => 1 + Math.floor(next() * 5)),
    latency: Array.from({ length: n }, () => Math.round(5 * 100 ** next() * 1000) / 1000),
  };
}

function post(url: string, body: Uint8Array | string, headers: Record<string, string>) {
  return fetch(url, { method: 'POST', body, headers });
}

const counterReq = (name: string, value: number): OtlpMetricsRequest => ({
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
      scopeMetrics: [
        {
          scope: { name: 't' },
          metrics: [
            {
              name,
              sum: {
                aggregationTemporality: 1,
                isMonotonic: true,
                dataPoints: [{ asInt: value, timeUnixNano: String(BigInt(T0) * 1_000_000n) }],
              },
            },
          ],
        },
      ],
    },
  ],
});

describe('MetricsBroker OTLP/HTTP receiver with the OpenTelemetry JS SDK as sender', () => {
  it('merges 4 SDK processes (JSON and protobuf, delta and cumulative): exact totals, percentiles within the scale accuracy', async () => {
    const { store, broker: b } = await start();
    const url = b.otlpUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/metrics$/);
    const senders = [
      ['json', 'delta'],
      ['proto', 'cumulative'],
      ['json', 'cumulative'],
      ['proto', 'delta'],
    ] as const;
    const all = senders.map((_, i) => valuesFor(1000 + i, 1500));
    await Promise.all(
      senders.map(([protocol, temporality], i) => {
        const file = join(dir, `values-${i}.json`);
        writeFileSync(file, JSON.stringify(all[i]));
        return run(process.execPath, [SENDER, file, url, protocol, temporality, '3'], { timeout: 60_000 });
      }),
    );
    expect(b.otlpStats()).toMatchObject({ rejectedRequests: 0, rejectedDataPoints: 0 });
    // 3 flushes each; cumulative senders export once more on shutdown (their state is never empty).
    expect(b.otlpStats()!.requests).toBeGreaterThanOrEqual(12);
    await b.close();

    const tags = { route: '/pay', 'service.name': 'checkout' };
    const expectedTotal = all.reduce((a, v) => a + v.counter.reduce((x, y) => x + y, 0), 0);
    const series = await store.query({ metric: 'requests', tags, from: T0 - 60_000, to: T0 + 60_000 });
    expect(series).toHaveLength(1);
    const total = series[0]!.points.reduce((a, p) => a + ('value' in p ? p.value : 0), 0);
    expect(total).toBe(expectedTotal);

    const latencies = all.flatMap((v) => v.latency).sort((x, y) => x - y);
    const qs = [0.5, 0.9, 0.99, 0.999];
    const [pr] = await store.queryPercentiles({
      metric: 'latency',
      tags,
      from: T0 - 60_000,
      to: T0 + 60_000,
      quantiles: qs,
    });
    expect(pr!.count).toBe(latencies.length);
    expect(pr!.sum).toBeCloseTo(
      latencies.reduce((a, v) => a + v, 0),
      6,
    );
    expect(pr!.min).toBe(latencies[0]);
    expect(pr!.max).toBe(latencies[latencies.length - 1]);
    const sketch = b.totals().find((t) => t.name === 'latency')!.sketch!;
    const scale = (sketch as { scale?: number }).scale!;
    expect(scale).toBeGreaterThanOrEqual(3);
    const gamma = 2 ** (2 ** -scale);
    const alpha = (gamma - 1) / (gamma + 1);
    for (const q of qs) {
      const exact = latencies[Math.floor(q * (latencies.length - 1))]!;
      const got = pr!.quantiles[String(q)]!;
      expect(Math.abs(got - exact) / exact, `p${q * 100}: ${got} vs exact ${exact}`).toBeLessThanOrEqual(
        alpha * (1 + 1e-9),
      );
    }
  }, 120_000);
});

describe('MetricsBroker OTLP/HTTP receiver hardening', () => {
  it('answers a JSON request with {} and a protobuf one with an empty message, in the request type', async () => {
    const { broker: b } = await start();
    const json = await post(
      b.otlpUrl!,
      new TextDecoder().decode(encodeOtlpMetrics(counterReq('a', 2), 'json')),
      {
        'content-type': 'application/json',
      },
    );
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(await json.json()).toEqual({});
    const pb = await post(b.otlpUrl!, gzipSync(encodeOtlpMetrics(counterReq('a', 3), 'protobuf')), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    expect(pb.status).toBe(200);
    expect(pb.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await pb.arrayBuffer()).byteLength).toBe(0);
    expect(b.otlpStats()).toMatchObject({ requests: 2, dataPoints: 2, rejectedRequests: 0 });
  });

  it('refuses malformed, oversized, wrongly typed and invalid requests whole, and counts them', async () => {
    const { broker: b } = await start({ otlp: { port: 0, maxBodyBytes: 4096 } });
    const url = b.otlpUrl!;
    const bad = await post(url, Buffer.from([0x0a, 0xff, 0xff, 0xff]), {
      'content-type': 'application/x-protobuf',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/^E_MALFORMED_REQUEST/);
    const badJson = await post(url, '{"resourceMetrics": [', { 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { message: string }).message).toMatch(/^E_MALFORMED_REQUEST/);
    const big = await post(url, Buffer.alloc(5000), { 'content-type': 'application/x-protobuf' });
    expect(big.status).toBe(413);
    const bomb = await post(url, gzipSync(Buffer.alloc(1_000_000)), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    expect(bomb.status).toBe(413);
    const type = await post(url, 'x', { 'content-type': 'text/plain' });
    expect(type.status).toBe(415);
    const get = await fetch(url);
    expect(get.status).toBe(405);
    // One valid metric and one with an invalid name: nothing of the request is taken.
    const mixed = counterReq('good', 5);
    mixed.resourceMetrics![0]!.scopeMetrics![0]!.metrics!.push({
      ...counterReq('bad name!', 1).resourceMetrics![0]!.scopeMetrics![0]!.metrics![0]!,
    });
    const refused = await post(url, encodeOtlpMetrics(mixed, 'protobuf'), {
      'content-type': 'application/x-protobuf',
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(
      /E_VALIDATION at resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[1\]\.name/,
    );
    expect(b.otlpStats()).toMatchObject({
      requests: 7,
      rejectedRequests: 7,
      dataPoints: 0,
      rejectedDataPoints: 0,
    });
    await b.close();
    expect(b.totals().find((t) => t.name === 'good')).toBeUndefined();
  });

  it('turns cumulative sums into deltas per stream and counts a restart in full', async () => {
    const { broker: b } = await start();
    const cumulative = (value: number, start: bigint): OtlpMetricsRequest => {
      const r = counterReq('c', value);
      const sum = r.resourceMetrics![0]!.scopeMetrics![0]!.metrics![0]!.sum!;
      sum.aggregationTemporality = 2;
      sum.dataPoints![0]!.startTimeUnixNano = String(start);
      return r;
    };
    for (const [v, s] of [
      [10, 1n],
      [15, 1n],
      [4, 2n], // restarted: new start time
      [6, 2n],
    ] as const) {
      const res = await post(b.otlpUrl!, encodeOtlpMetrics(cumulative(v, s), 'protobuf'), {
        'content-type': 'application/x-protobuf',
      });
      expect(res.status).toBe(200);
    }
    await b.close();
    expect(b.totals().find((t) => t.name === 'c')?.value).toBe(15 + 6);
  });

  it('reports Summary points as rejected data points (partial success), never silently', async () => {
    const { broker: b } = await start();
    const req = counterReq('s', 1);
    req.resourceMetrics![0]!.scopeMetrics![0]!.metrics!.push({
      name: 'summary',
      summary: { dataPoints: [{ count: 1, sum: 2, quantileValues: [{ quantile: 0.5, value: 2 }] }] },
    });
    const res = await post(b.otlpUrl!, encodeOtlpMetrics(req, 'json'), {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      partialSuccess: { rejectedDataPoints: '1', errorMessage: expect.stringMatching(/Summary/) },
    });
    expect(b.otlpStats()).toMatchObject({ dataPoints: 1, rejectedDataPoints: 1 });
  });

  it('rejects bad otlp options with the field', async () => {
    await expect(MetricsBroker.start({ otlp: { port: -1 } })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'options.otlp.port',
    });
    await expect(MetricsBroker.start({ otlp: { port: 0, nope: 1 } as never })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'options.otlp.nope',
    });
  });
});
