import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { escapeLabelValue, toPrometheusText } from '../../src/metrics/prometheus.js';
import { cumulativeBucketCounts } from '../../src/metrics/prometheus-buckets.js';
import { negotiatePrometheusFormat, prometheusHandler } from '../../src/metrics/prometheus-http.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { DDSketch } from '../../src/metrics/sketch.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of the text format: enough to read our own output back. */
function parse(text: string): { types: Record<string, string>; samples: Sample[] } {
  const types: Record<string, string> = {};
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types[type[1]!] = type[2]!;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    for (const l of (m[2] ?? '').matchAll(re)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = m[3]!;
    samples.push({
      name: m[1]!,
      labels,
      value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw),
    });
  }
  return { types, samples };
}

describe('toPrometheusText', () => {
  it('renders a registry: counters as _total, gauges, meters, histograms as summaries', () => {
    const r = new MetricsRegistry({ tags: { service: 'api' } });
    r.counter('requests', { route: '/a' }).inc(3);
    r.counter('requests', { route: '/b' }).inc(1);
    r.gauge('queue.depth').set(-2.5);
    r.meter('jobs_total').mark(7);
    const h = r.histogram('latency_ms');
    for (let i = 1; i <= 1000; i++) h.record(i);
    r.collect(0, 10_000); // half before a collect, half after: the exposition is cumulative
    for (let i = 1; i <= 1000; i++) h.record(i);
    const text = toPrometheusText(r);
    const { types, samples } = parse(text);
    expect(types).toEqual({
      requests_total: 'counter',
      queue_depth: 'gauge',
      jobs_total: 'counter',
      latency_ms: 'summary',
      latency_ms_histogram: 'histogram',
    });
    const get = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(get('requests_total', { route: '/a' })).toEqual({
      name: 'requests_total',
      labels: { route: '/a', service: 'api' },
      value: 3,
    });
    expect(get('requests_total', { route: '/b' })?.value).toBe(1);
    expect(get('queue_depth')?.value).toBe(-2.5);
    expect(get('jobs_total')?.value).toBe(7);
    expect(get('latency_ms_count')?.value).toBe(2000);
    expect(get('latency_ms_sum')?.value).toBe(1_001_000);
    const p99 = get('latency_ms', { quantile: '0.99' })?.value ?? 0;
    expect(Math.abs(p99 - 990)).toBeLessThanOrEqual(9.9); // rank ⌊0.99·1999⌋ = 1979 → 990
    expect(text.endsWith('\n')).toBe(true);
    // TYPE lines come before their samples, once per family.
    expect(text.split('\n').filter((l) => l === '# TYPE requests_total counter')).toHaveLength(1);
  });

  it('escapes label values and sanitises names', () => {
    const text = toPrometheusText([
      { name: '9lives', kind: 'gauge', tags: { path: 'C:\\dir "x"\nnext', 'a.b': 'y' }, value: 1 },
    ]);
    expect(text).toContain('_9lives{a_b="y",path="C:\\\\dir \\"x\\"\\nnext"} 1');
    const { samples } = parse(text);
    expect(samples[0]?.labels.path).toBe('C:\\dir "x"\nnext');
    expect(escapeLabelValue('a"b')).toBe('a\\"b');
  });

  it('renders plain merged data (the broker view) and { series } objects, with help', () => {
    const merged = new DDSketch();
    const a = new DDSketch();
    const b = new DDSketch();
    a.add(1);
    b.add(3);
    merged.merge(a);
    merged.merge(b);
    const text = toPrometheusText(
      { series: [{ name: 'rt', kind: 'histogram', tags: { host: 'x' }, sketch: merged }] },
      { quantiles: [0, 1], help: { rt: 'Response time' }, histograms: 'summary' },
    );
    expect(text.split('\n')).toEqual([
      '# HELP rt Response time',
      '# TYPE rt summary',
      'rt{host="x",quantile="0"} 1',
      'rt{host="x",quantile="1"} 3',
      'rt_sum{host="x"} 4',
      'rt_count{host="x"} 2',
      '',
    ]);
  });

  it('shows NaN quantiles for an empty sketch and rejects inconsistent input', () => {
    const text = toPrometheusText([{ name: 'e', kind: 'histogram', tags: {}, sketch: new DDSketch() }], {
      quantiles: [0.5],
    });
    expect(text).toContain('e{quantile="0.5"} NaN');
    expect(text).toContain('e_count 0');
    expect(() =>
      toPrometheusText([
        { name: 'x', kind: 'gauge', tags: {}, value: 1 },
        { name: 'x', kind: 'histogram', tags: {}, sketch: new DDSketch() },
      ]),
    ).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path: 'series[1].name' }));
    expect(() => toPrometheusText([{ name: 'x', kind: 'counter', tags: {} }])).toThrow(
      expect.objectContaining({ path: 'series[0].value' }),
    );
    expect(toPrometheusText([])).toBe('');
  });
});

describe('Prometheus names, formats and the /metrics handler', () => {
  it('renames reserved and colliding-prone labels by the one rule, for every kind', () => {
    const sk = new DDSketch();
    sk.add(1);
    const text = toPrometheusText(
      [
        {
          name: 'h',
          kind: 'histogram',
          tags: { quantile: 'q', le: 'l', __name__: 'n', _x: 'u' },
          sketch: sk,
        },
      ],
      { quantiles: [0.5] },
    );
    expect(text).toContain('h{tag___name__="n",tag__x="u",tag_le="l",tag_quantile="q",quantile="0.5"} 1');
    expect(text).toContain(
      'h_histogram_bucket{tag___name__="n",tag__x="u",tag_le="l",tag_quantile="q",le="1"} 1',
    );
  });

  it('refuses names and tag keys that meet after sanitising with E_VALIDATION, never a duplicate series', () => {
    expect(() =>
      toPrometheusText([
        { name: 'a.b', kind: 'counter', tags: {}, value: 1 },
        { name: 'a_b', kind: 'counter', tags: {}, value: 2 },
      ]),
    ).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path: 'series[1].name' }));
    expect(() =>
      toPrometheusText([{ name: 'g', kind: 'gauge', tags: { 'a.b': '1', a_b: '2' }, value: 1 }]),
    ).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path: 'series[0].tags.a_b' }));
    // A gauge whose name is a sample of a histogram family.
    expect(() =>
      toPrometheusText([
        { name: 'lat', kind: 'histogram', tags: {}, sketch: new DDSketch() },
        { name: 'lat_count', kind: 'gauge', tags: {}, value: 1 },
      ]),
    ).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path: 'series[1].name' }));
  });

  it('writes snake_case self-metrics and HELP for every family', () => {
    const text = toPrometheusText([
      { name: 'fleetwatch.broker.badFrames', kind: 'counter', tags: {}, value: 2 },
    ]);
    expect(text).toBe(
      '# HELP fleetwatch_broker_bad_frames_total fleetwatch.broker.badFrames (fleetwatch counter)\n' +
        '# TYPE fleetwatch_broker_bad_frames_total counter\nfleetwatch_broker_bad_frames_total 2\n',
    );
  });

  it('writes OpenMetrics 1.0: family names without _total, canonical le, # EOF', () => {
    const sk = new DDSketch({ scale: 4 });
    for (const v of [0.5, 1, 2, 3]) sk.add(v);
    const text = toPrometheusText(
      [
        { name: 'req', kind: 'counter', tags: {}, value: 3 },
        { name: 'lat', kind: 'histogram', tags: {}, sketch: sk },
      ],
      {
        format: 'openmetrics',
        histograms: 'histogram',
        buckets: [1, 2, 4],
        help: { req: 'Requests "served"' },
      },
    );
    expect(text.split('\n')).toEqual([
      '# HELP req Requests \\"served\\"',
      '# TYPE req counter',
      'req_total 3',
      '# HELP lat lat (fleetwatch histogram)',
      '# TYPE lat histogram',
      'lat_bucket{le="1.0"} 2',
      'lat_bucket{le="2.0"} 3',
      'lat_bucket{le="4.0"} 4',
      'lat_bucket{le="+Inf"} 4',
      'lat_sum 6.5',
      'lat_count 4',
      '# EOF',
      '',
    ]);
  });

  it('negotiates the format from Accept as Prometheus 3 sends it', () => {
    expect(
      negotiatePrometheusFormat(
        'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
      ),
    ).toBe('openmetrics');
    expect(
      negotiatePrometheusFormat('text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5'),
    ).toBe('text');
    expect(negotiatePrometheusFormat('application/openmetrics-text;version=2.0.0')).toBe('text');
    expect(negotiatePrometheusFormat(undefined)).toBe('text');
    expect(negotiatePrometheusFormat(`${'a;'.repeat(100_000)}`)).toBe('text');
  });

  it('prometheusHandler() serves both formats, HEAD, 405, and 500 instead of an invalid scrape', async () => {
    const r = new MetricsRegistry();
    r.counter('hits').inc(2);
    const server = createServer(prometheusHandler(r));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    try {
      const text = await fetch(url);
      expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(text.headers.get('vary')).toBe('Accept');
      expect(await text.text()).toContain('hits_total 2');
      const om = await fetch(url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
      expect(om.headers.get('content-type')).toBe(
        'application/openmetrics-text; version=1.0.0; charset=utf-8',
      );
      expect((await om.text()).endsWith('# EOF\n')).toBe(true);
      expect((await fetch(url, { method: 'POST' })).status).toBe(405);
      const bad = createServer(
        prometheusHandler([
          { name: 'a.b', kind: 'gauge', tags: {}, value: 1 },
          { name: 'a_b', kind: 'gauge', tags: {}, value: 1 },
        ]),
      );
      await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
      const res = await fetch(`http://127.0.0.1:${(bad.address() as AddressInfo).port}/`);
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('exposition failed: E_VALIDATION\n');
      bad.close();
    } finally {
      server.close();
    }
  });

  it('derives exact classic buckets at powers of two from a sketch with a scale', () => {
    const sk = new DDSketch({ scale: 6 });
    const values = [0.3, 0.5, 0.50001, 1, 1.9, 2, 2.1, 1000];
    for (const v of values) sk.add(v);
    const bounds = [0.25, 0.5, 1, 2, 4, 1024];
    expect(cumulativeBucketCounts(sk, bounds)).toEqual(
      bounds.map((b) => values.filter((v) => v <= b).length),
    );
  });
});
