import { describe, expect, it } from 'vitest';
import { escapeLabelValue, toPrometheusText } from '../../src/metrics/prometheus.js';
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
      { quantiles: [0, 1], help: { rt: 'Response time' } },
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
    ).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path: 'series[1].kind' }));
    expect(() => toPrometheusText([{ name: 'x', kind: 'counter', tags: {} }])).toThrow(
      expect.objectContaining({ path: 'series[0].value' }),
    );
    expect(toPrometheusText([])).toBe('');
  });
});
