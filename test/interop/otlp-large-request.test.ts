import { describe, expect, it } from 'vitest';
import type { MetricsBroker } from '../../src/broker/broker.js';
import { decodeOtlpMetrics, encodeOtlpMetrics } from '../../src/interop/otlp-codec.js';
import { longestBlock, postOtlp, requestOf, useOtlpBroker } from './otlp-requests.js';

/** Generous: the goal (bench/interop.ts) is < 50 ms; this catches a request taken in one step. */
const BLOCK_BOUND_MS = Number(process.env.FLEETWATCH_TIME_BOUND_MS) || 100;
const MIB = 1024 * 1024;

const startBroker = useOtlpBroker();
async function start() {
  const started = await startBroker({
    otlp: { port: 0, host: '127.0.0.1', maxBodyBytes: 2 * MIB }, // above the 128 KiB default
  });
  return started.broker;
}

const post = (b: MetricsBroker, body: Uint8Array, encoding: 'protobuf' | 'json') =>
  postOtlp(b.otlpUrl!, body, encoding);

/** Counter total of a request from `requestOf`: count_i sums 1..40 per resource, 160 points each. */
const counterTotal = (points: number) => (points / 160) * ((40 * 41) / 2);

describe('OTLP receiver: ~1 MiB requests with maxBodyBytes raised', () => {
  it('takes protobuf and JSON requests whole, never holding the event loop past the bound', async () => {
    const b = await start();
    let expected = 0;
    for (const encoding of ['protobuf', 'json'] as const) {
      const { body, points } = requestOf(MIB, encoding);
      expect(body.length).toBeGreaterThan(MIB * 0.9);
      let status = 0;
      const block = await longestBlock(async () => {
        status = (await post(b, body, encoding)).status;
      });
      expect(status).toBe(200);
      expected += points;
      expect(block, `${encoding}: the loop was held ${block.toFixed(1)} ms (CPU time)`).toBeLessThan(
        BLOCK_BOUND_MS,
      );
    }
    expect(b.otlpStats()).toMatchObject({ rejectedRequests: 0, dataPoints: expected });
    await b.close();
    const counters = b.totals().filter((t) => t.name.startsWith('count_'));
    expect(counters.reduce((n, t) => n + t.value, 0)).toBe(counterTotal(expected));
  }, 120_000);

  it('counts nothing of a request whose last data point is invalid', async () => {
    const b = await start();
    const { body } = requestOf(MIB, 'protobuf');
    // The last counter point of the last resource becomes negative: refused by translation.
    const request = decodeOtlpMetrics(body, 'protobuf');
    const last = request.resourceMetrics!.at(-1)!.scopeMetrics![0]!.metrics![1]!;
    last.sum!.dataPoints!.at(-1)!.asInt = '-1';
    const res = await post(b, encodeOtlpMetrics(request, 'protobuf'), 'protobuf');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/E_VALIDATION at resourceMetrics\[\d+\]\.scopeMetrics\[0\]\.metrics\[1\]/);
    expect(b.otlpStats()).toMatchObject({ rejectedRequests: 1, dataPoints: 0 });
    await b.close();
    expect(b.totals()).toEqual([]);
  }, 120_000);

  it('counts nothing of a request refused mid-way because another source took one of its series', async () => {
    const b = await start();
    const { body } = requestOf(MIB, 'protobuf');
    const request = decodeOtlpMetrics(body, 'protobuf');
    const n = request.resourceMetrics!.length;
    // The last series of the request (count_<n-1> of its last data point), as a gauge from elsewhere,
    // sent once the body has been read: while the request is decoded, translated or staged.
    const tags = { 'service.name': `svc-${(n - 1) % 3}`, host: 'host-39', route: '/api/v1/items/4' };
    let injected: unknown;
    const inject = () => {
      if ((b.otlpStats()?.bytes ?? 0) === 0) {
        setImmediate(inject);
        return;
      }
      injected = b.ingest({
        source: 'other',
        items: [{ kind: 'gauge', name: `count_${n - 1}`, tags, value: 7 }],
      });
    };
    setImmediate(inject);
    const res = await post(b, body, 'protobuf');
    expect(injected).toEqual({ accepted: 1 });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/kindConflicts/);
    expect(b.otlpStats()).toMatchObject({ rejectedRequests: 1, dataPoints: 0 });
    expect(b.stats().kindConflicts).toBeGreaterThan(0);
    await b.close();
    expect(b.totals().map((t) => [t.name, t.kind, t.value])).toEqual([[`count_${n - 1}`, 'gauge', 7]]);
  }, 120_000);
});
