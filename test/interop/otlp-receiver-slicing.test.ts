import { afterEach, describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import {
  decodeOtlpMetrics,
  decodeOtlpMetricsSliced,
  encodeOtlpMetrics,
} from '../../src/interop/otlp-codec.js';
import { ExportMetricsServiceRequest } from '../../src/interop/otlp-schema.js';
import { OtlpTranslator } from '../../src/interop/otlp-translate.js';
import type { OtlpMetric } from '../../src/interop/otlp-types.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import { PER_INPUT_BOUND_MS } from '../helpers/fuzz.js';

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const NANOS = String(BigInt(T0) * 1_000_000n);

let broker: MetricsBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

/** A metric of each kind OTLP has, `points` data points each, with a few attributes per point. */
function metricsFor(i: number, points: number): OtlpMetric[] {
  const attrs = (j: number) => [
    { key: 'host', value: { stringValue: `host-${j}` } },
    { key: 'route', value: { stringValue: `/api/v1/items/${j % 7}` } },
  ];
  const range = Array.from({ length: points }, (_, j) => j);
  return [
    {
      name: `gauge_${i}`,
      gauge: {
        dataPoints: range.map((j) => ({ asDouble: j + 0.5, attributes: attrs(j), timeUnixNano: NANOS })),
      },
    },
    {
      name: `count_${i}`,
      sum: {
        aggregationTemporality: 1,
        isMonotonic: true,
        dataPoints: range.map((j) => ({ asInt: String(j + 1), attributes: attrs(j), timeUnixNano: NANOS })),
      },
    },
    {
      name: `lat_${i}`,
      exponentialHistogram: {
        aggregationTemporality: 1,
        dataPoints: range.map((j) => ({
          attributes: attrs(j),
          timeUnixNano: NANOS,
          scale: 6,
          count: '36',
          sum: 123.5,
          min: 1.1,
          max: 90,
          zeroCount: '0',
          positive: { offset: 10 + j, bucketCounts: Array.from({ length: 8 }, (_, k) => String(k + 1)) },
        })),
      },
    },
    {
      name: `size_${i}`,
      histogram: {
        aggregationTemporality: 1,
        dataPoints: range.map((j) => ({
          attributes: attrs(j),
          timeUnixNano: NANOS,
          count: '10',
          sum: 55,
          explicitBounds: [1, 5, 10, 50],
          bucketCounts: ['1', '2', '3', '4', '0'],
        })),
      },
    },
  ];
}

/** A request of about `bytes` in `encoding`: several resources and scopes, each metric kind. */
function requestOf(bytes: number, encoding: 'protobuf' | 'json'): { body: Uint8Array; points: number } {
  const resource = (i: number) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${i % 3}` } }] },
    scopeMetrics: [{ scope: { name: `scope-${i}` }, metrics: metricsFor(i, 40) }],
  });
  // Sized from one resource's encoding (all are about the same size), encoded once.
  const each = encodeOtlpMetrics({ resourceMetrics: [resource(0)] }, encoding).length;
  const n = Math.floor(bytes / each);
  const body = encodeOtlpMetrics(
    { resourceMetrics: Array.from({ length: n }, (_, i) => resource(i)) },
    encoding,
  );
  return { body, points: n * 4 * 40 };
}

/**
 * The longest the event loop went without running a 1 ms timer while `work` ran, in CPU time of
 * this process (user + system): on a shared, overloaded machine the wall-clock gaps also count the
 * time the OS did not run the process at all, which no code change can shorten.
 */
async function longestBlock(work: () => Promise<unknown>): Promise<number> {
  const cpu = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  let last = cpu();
  let longest = 0;
  const probe = setInterval(() => {
    const t = cpu();
    longest = Math.max(longest, t - last);
    last = t;
  }, 1);
  try {
    await work();
    await new Promise((r) => setTimeout(r, 5));
  } finally {
    clearInterval(probe);
  }
  return Math.max(longest, cpu() - last);
}

describe('OTLP receiver: large requests never block the event loop', () => {
  it('decodes in slices exactly what protobufjs decodes whole (protobuf and JSON)', async () => {
    for (const encoding of ['protobuf', 'json'] as const) {
      const { body } = requestOf(64 * 1024, encoding);
      const whole =
        encoding === 'protobuf'
          ? ExportMetricsServiceRequest.decode(body)
          : ExportMetricsServiceRequest.fromObject(JSON.parse(new TextDecoder().decode(body)));
      const expected = ExportMetricsServiceRequest.toObject(whole, {
        longs: String,
        enums: Number,
        bytes: String,
        defaults: false,
      });
      expect(await decodeOtlpMetricsSliced(body, encoding)).toEqual(expected);
      expect(decodeOtlpMetrics(body, encoding)).toEqual(expected);
    }
  });

  it('refuses a bad nested message or a non-array list as E_MALFORMED_REQUEST', async () => {
    // resourceMetrics[0].scopeMetrics[0] claims 5 bytes where 1 is left.
    const truncated = Uint8Array.from([0x0a, 0x03, 0x12, 0x05, 0x0a]);
    await expect(decodeOtlpMetricsSliced(truncated, 'protobuf')).rejects.toMatchObject({
      code: 'E_MALFORMED_REQUEST',
      path: 'body',
    });
    const notList = new TextEncoder().encode('{"resourceMetrics":[{"scopeMetrics":{"metrics":[]}}]}');
    await expect(decodeOtlpMetricsSliced(notList, 'json')).rejects.toMatchObject({
      code: 'E_MALFORMED_REQUEST',
      message: expect.stringMatching(/scopeMetrics: array expected/),
    });
  });

  it('decodes and translates protobuf and JSON requests at the 128 KiB default limit holding the loop under the bound (best of 3)', async () => {
    for (const encoding of ['protobuf', 'json'] as const) {
      const { body, points } = requestOf(126 * 1024, encoding);
      expect(body.length).toBeLessThanOrEqual(128 * 1024);
      let best = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 3 && best >= PER_INPUT_BOUND_MS; attempt++) {
        const translator = new OtlpTranslator();
        best = Math.min(
          best,
          await longestBlock(async () => {
            const request = await decodeOtlpMetricsSliced(body, encoding);
            const t = await translator.translateSliced(request, T0);
            expect(t.items).toHaveLength(points);
          }),
        );
      }
      expect(best, `${encoding}: the loop was held ${best.toFixed(1)} ms at best of 3`).toBeLessThan(
        PER_INPUT_BOUND_MS,
      );
    }
  }, 60_000);

  it('takes ~1 MiB protobuf and JSON requests whole through the receiver', async () => {
    const store = new MemoryMetricsStore({ clock: { now: () => T0 + 60_000 } });
    broker = await MetricsBroker.start({
      store,
      id: 'b1',
      clock: { now: () => T0 },
      intervalMs: 60_000,
      autoFlush: false,
      selfMetrics: false,
      otlp: { port: 0, host: '127.0.0.1', maxBodyBytes: 1024 * 1024 }, // above the 128 KiB default
    });
    let expected = 0;
    for (const encoding of ['protobuf', 'json'] as const) {
      const { body, points } = requestOf(1000 * 1024, encoding);
      const res = await fetch(broker.otlpUrl!, {
        method: 'POST',
        body,
        headers: { 'content-type': `application/${encoding === 'json' ? 'json' : 'x-protobuf'}` },
      });
      expect(res.status, await res.text()).toBe(200);
      expected += points;
    }
    expect(broker.otlpStats()).toMatchObject({ rejectedRequests: 0, dataPoints: expected });
    // Every counter point of every request counted once: count_i sums 1..40 per resource.
    await broker.close();
    const counters = broker.totals().filter((t) => t.name.startsWith('count_'));
    expect(counters.reduce((n, t) => n + t.value, 0)).toBe((expected / 160) * ((40 * 41) / 2));
  }, 60_000);
});

describe('the default body limit keeps a whole request within the bound', () => {
  it('a request at the 128 KiB default, ingest included, holds the loop under the bound; a larger one is refused with 413', async () => {
    const store = new MemoryMetricsStore({ clock: { now: () => T0 + 60_000 } });
    const b = await MetricsBroker.start({
      store,
      id: 'b2',
      clock: { now: () => T0 },
      intervalMs: 60_000,
      autoFlush: false,
      selfMetrics: false,
      otlp: { port: 0, host: '127.0.0.1' },
    });
    try {
      let best = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 3; attempt++) {
        const { body } = requestOf(126 * 1024, 'protobuf');
        expect(body.length).toBeLessThanOrEqual(128 * 1024);
        // the longest gap between ticks of a 1 ms timer while the request is taken whole
        let last = performance.now();
        let worst = 0;
        const probe = setInterval(() => {
          const now = performance.now();
          worst = Math.max(worst, now - last);
          last = now;
        }, 1);
        const res = await fetch(b.otlpUrl!, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/x-protobuf' },
        });
        clearInterval(probe);
        expect(res.status, await res.text()).toBe(200);
        best = Math.min(best, worst);
      }
      expect(best, `the loop was held ${best.toFixed(1)} ms at best of 3`).toBeLessThan(PER_INPUT_BOUND_MS);
      const big = requestOf(300 * 1024, 'protobuf').body;
      const res = await fetch(b.otlpUrl!, {
        method: 'POST',
        body: big,
        headers: { 'content-type': 'application/x-protobuf' },
      });
      expect(res.status).toBe(413);
    } finally {
      await b.close();
    }
  }, 60_000);
});

describe('sliced decoding and translation: abort', () => {
  it('rejects with E_ABORTED when the signal has fired', async () => {
    const body = encodeOtlpMetrics({ resourceMetrics: [] }, 'protobuf');
    const signal = AbortSignal.abort();
    await expect(decodeOtlpMetricsSliced(body, 'protobuf', { signal })).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
    await expect(new OtlpTranslator().translateSliced({}, T0, { signal })).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
  });
});
