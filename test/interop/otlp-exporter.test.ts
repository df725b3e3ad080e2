import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { OtlpExporter } from '../../src/interop/otlp-exporter.js';
import { DDSketch } from '../../src/metrics/sketch.js';
import { describeWithService } from '../helpers/services.js';
import { probePythonPeers, runPeer } from './python.js';

const reason = await probePythonPeers();
const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

interface Captured {
  type: string;
  body: Buffer;
}
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A collector stand-in that records bodies; answers the first `failFirst` requests 503 + Retry-After 0. */
async function collector(failFirst = 0): Promise<{ url: string; bodies: Captured[] }> {
  const bodies: Captured[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (n++ < failFirst) {
        res.writeHead(503, { 'retry-after': '0' }).end();
        return;
      }
      bodies.push({ type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': String(req.headers['content-type']) }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`, bodies };
}

async function brokerWithData() {
  let now = T0;
  const broker = await MetricsBroker.start({
    clock: { now: () => now },
    autoFlush: false,
    selfMetrics: false,
  });
  closers.push(() => broker.close());
  const sketch = new DDSketch({ scale: 2 });
  for (const v of [1, 1.5, 2, 3, 100]) sketch.add(v);
  const result = broker.ingest({
    source: 'app',
    items: [
      { kind: 'counter', name: 'requests', tags: { route: '/a' }, value: 3 },
      { kind: 'gauge', name: 'queue', tags: {}, value: 7 },
      { kind: 'histogram', name: 'latency', tags: { route: '/a' }, sketch },
    ],
  });
  expect(result).toEqual({ accepted: 3 });
  const advance = async () => {
    now += 60_000;
    await broker.flushDue();
  };
  return { broker, advance };
}

// biome-ignore lint/suspicious/noExplicitAny: JSON decoded by the Python peer; the assertions check its shape
type Dict = Record<string, any>;

describeWithService('OtlpExporter, decoded by the official opentelemetry-proto package', reason, () => {
  for (const encoding of ['protobuf', 'json'] as const) {
    it(`sends the broker's merged window as OTLP/HTTP ${encoding}, retrying a 503`, async () => {
      const sink = await collector(1);
      const { broker, advance } = await brokerWithData();
      const exporter = new OtlpExporter({ url: sink.url, source: broker, encoding, initialBackoffMs: 1 });
      await advance(); // the broker closes the window and emits 'flush'
      await exporter.close();
      // Two requests: after the window, and the final one of close() (cumulative: the same totals).
      expect(exporter.stats()).toMatchObject({
        retries: 1,
        failedRequests: 0,
        exportedPoints: 6,
        droppedRequests: 0,
      });
      expect(sink.bodies[0]!.type).toBe(encoding === 'json' ? 'application/json' : 'application/x-protobuf');
      const decoded = JSON.parse(await runPeer('decode_otlp.py', [encoding], sink.bodies[0]!.body)) as Dict;
      const rm = decoded.resourceMetrics[0];
      expect(rm.resource.attributes).toEqual([{ key: 'service.name', value: { stringValue: 'fleetwatch' } }]);
      const metrics = Object.fromEntries(rm.scopeMetrics[0].metrics.map((m: Dict) => [m.name, m]));
      expect(metrics.requests.sum).toMatchObject({ aggregationTemporality: 2, isMonotonic: true });
      expect(metrics.requests.sum.dataPoints[0]).toMatchObject({
        asDouble: 3,
        attributes: [{ key: 'route', value: { stringValue: '/a' } }],
      });
      expect(metrics.queue.gauge.dataPoints[0].asDouble).toBe(7);
      const h = metrics.latency.exponentialHistogram;
      expect(h.aggregationTemporality).toBe(2);
      // OTel JS mapToIndex at scale 2 (notes/interop.md §4): 1 → -1, 1.5 → 2, 2 → 3, 3 → 6, 100 → 26.
      const expected = new Array(28).fill('0');
      for (const i of [-1, 2, 3, 6, 26]) expected[i + 1] = '1';
      expect(h.dataPoints[0]).toMatchObject({ scale: 2, count: '5', sum: 107.5, min: 1, max: 100 });
      expect(h.dataPoints[0].positive).toEqual({ offset: -1, bucketCounts: expected });
    });
  }

  it('sends deltas with temporality delta', async () => {
    const sink = await collector();
    const { broker, advance } = await brokerWithData();
    const exporter = new OtlpExporter({
      url: sink.url,
      source: broker,
      encoding: 'json',
      temporality: 'delta',
    });
    await advance();
    await exporter.flush();
    broker.ingest({
      source: 'app',
      items: [{ kind: 'counter', name: 'requests', tags: { route: '/a' }, value: 4 }],
    });
    await advance();
    await exporter.close();
    const second = JSON.parse(await runPeer('decode_otlp.py', ['json'], sink.bodies[1]!.body)) as Dict;
    const metrics = second.resourceMetrics[0].scopeMetrics[0].metrics as Dict[];
    const requests = metrics.find((m) => m.name === 'requests')!;
    expect(requests.sum.aggregationTemporality).toBe(1);
    expect(requests.sum.dataPoints[0].asDouble).toBe(4);
    const latency = metrics.find((m) => m.name === 'latency')!;
    expect(latency.exponentialHistogram.dataPoints[0].count ?? '0').toBe('0');
  });
});

it('OtlpExporter → another broker’s OTLP receiver: the totals arrive unchanged', async () => {
  const target = await MetricsBroker.start({ autoFlush: false, selfMetrics: false, otlp: { port: 0 } });
  closers.push(() => target.close());
  const { broker, advance } = await brokerWithData();
  const exporter = new OtlpExporter({ url: target.otlpUrl!, source: broker });
  await advance();
  await exporter.close();
  expect(exporter.stats()).toMatchObject({ failedRequests: 0, exportedPoints: 6 }); // the window, then close()
  await target.close();
  const totals = Object.fromEntries(target.totals().map((t) => [t.name, t]));
  expect(totals.requests).toMatchObject({ value: 3, tags: { route: '/a', 'service.name': 'fleetwatch' } });
  expect(totals.queue?.value).toBe(7);
  const sk = totals.latency!.sketch!;
  expect([sk.count, sk.sum, sk.min, sk.max]).toEqual([5, 107.5, 1, 100]);
  expect(sk.quantile(0.5)).toBeCloseTo(2, 0);
});

it('OtlpExporter validates its options with the field', () => {
  expect(() => new OtlpExporter({ url: 'ftp://x', source: { totals: () => [] } })).toThrow(
    expect.objectContaining({ code: 'E_VALIDATION', path: 'options.url' }),
  );
  expect(() => new OtlpExporter({ url: 'http://x/v1/metrics', source: {} as never })).toThrow(
    expect.objectContaining({ path: 'options.source' }),
  );
});
