import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import type { IngestItem } from '../../src/broker/ingest.js';
import { FleetwatchError } from '../../src/errors.js';
import { type PrometheusFormat, toPrometheusText } from '../../src/metrics/prometheus.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { DDSketch } from '../../src/metrics/sketch.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { describeWithService } from '../helpers/services.js';
import { probePythonPeers, runPeer } from '../interop/python.js';

const reason = await probePythonPeers();

/** Names that collide or clash after sanitising, plus random ones in the store's alphabet. */
const metricName = fc.oneof(
  fc.constantFrom(
    'a.b',
    'a_b',
    'a-b',
    'x',
    'x_total',
    'x_count',
    'lat',
    'lat_histogram',
    'lat_bucket',
    'lat_sum',
    'fleetwatch.broker.badFrames',
  ),
  fc.stringMatching(/^[a-z_][a-z0-9_.:/-]{0,12}$/),
);
const tagKey = fc.oneof(
  fc.constantFrom('le', 'quantile', '__name__', '_x', 'a.b', 'a_b', 'route', '0x', 'host:port'),
  fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,8}$/),
);
const tagValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('"', '\\', '\n', 'a"b\\c\nd', 'é€😀', ''),
);
const tags = fc.dictionary(tagKey, tagValue, { maxKeys: 4 });
const value = fc.oneof(fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.integer({ min: 0, max: 1000 }));
const positive = fc.oneof(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.integer({ min: 0, max: 1000 }));
const spec = fc.record({
  kind: fc.constantFrom('counter', 'gauge', 'meter', 'histogram'),
  name: metricName,
  tags,
  value,
  amount: positive,
  samples: fc.array(fc.double({ min: -1e6, max: 1e9, noNaN: true }), { minLength: 0, maxLength: 8 }),
});
const specs = fc.array(spec, { maxLength: 12 });

interface Parsed {
  ok: boolean;
  error?: string;
  families?: Array<{ name: string; type: string; samples: Array<[string, Record<string, string>, string]> }>;
}
interface Case {
  origin: string;
  format: PrometheusFormat;
  text: string;
  /** Counter-like series the output must hold (registry cases, where nothing is dropped). */
  counters?: number;
}

const cases: Case[] = [];
let refused = 0;

function collect(origin: string, render: (format: PrometheusFormat) => string, counters?: number): void {
  for (const format of ['text', 'openmetrics'] as const) {
    try {
      cases.push({ origin, format, text: render(format), ...(counters === undefined ? {} : { counters }) });
    } catch (err) {
      // The only allowed refusal: a collision after sanitising, reported as E_VALIDATION.
      expect(err).toBeInstanceOf(FleetwatchError);
      expect((err as FleetwatchError).code).toBe('E_VALIDATION');
      refused++;
    }
  }
}

describeWithService('Prometheus exposition parsed by prometheus_client (property)', reason, () => {
  it('random registries: every output parses in both formats, or the registry is refused with E_VALIDATION', () => {
    fc.assert(
      fc.property(specs, (list) => {
        const r = new MetricsRegistry({ tags: { service: 'api' } });
        for (const s of list) {
          try {
            if (s.kind === 'counter') r.counter(s.name, s.tags).inc(s.amount);
            else if (s.kind === 'gauge') r.gauge(s.name, s.tags).set(s.value);
            else if (s.kind === 'meter') r.meter(s.name, s.tags).mark(Math.round(s.amount));
            else for (const v of s.samples) r.histogram(s.name, s.tags).record(v);
          } catch (err) {
            if (!(err instanceof FleetwatchError)) throw err; // the registry's own name rules
          }
        }
        const counters = r.exposition().filter((s) => s.kind === 'counter' || s.kind === 'meter').length;
        collect('registry', (format) => toPrometheusText(r, { format }), counters);
      }),
      fuzzParams(150),
    );
  });

  it('random broker views: every output parses in both formats (collisions dropped and counted)', async () => {
    await fc.assert(
      fc.asyncProperty(specs, async (list) => {
        let now = Date.UTC(2026, 11, 2);
        const broker = await MetricsBroker.start({
          clock: { now: () => now },
          autoFlush: false,
          selfMetrics: false,
        });
        try {
          for (const s of list) {
            let item: IngestItem;
            if (s.kind === 'histogram') {
              const sketch = new DDSketch();
              for (const v of s.samples) sketch.add(v);
              item = { kind: 'histogram', name: s.name, tags: s.tags, sketch };
            } else if (s.kind === 'gauge')
              item = { kind: 'gauge', name: s.name, tags: s.tags, value: s.value };
            else item = { kind: 'counter', name: s.name, tags: s.tags, value: s.amount };
            broker.ingest({ source: 'p', items: [item] });
          }
          now += 60_000;
          await broker.flushDue();
          collect('broker', (format) => toPrometheusText(broker, { format }));
        } finally {
          await broker.close();
        }
      }),
      fuzzParams(100),
    );
  });

  afterAll(async () => {
    if (cases.length === 0) return;
    const parsed = JSON.parse(await runPeer('parse_exposition.py', [], JSON.stringify(cases))) as Parsed[];
    expect(parsed).toHaveLength(cases.length);
    expect(refused, 'most random registries render').toBeLessThan(cases.length);
    parsed.forEach((p, i) => {
      const c = cases[i]!;
      const where = `${c.origin} (${c.format}):\n${c.text}`;
      expect(p.ok, `${p.error}\n${where}`).toBe(true);
      const seen = new Set<string>();
      let counterSamples = 0;
      for (const f of p.families!) {
        for (const [name, labels] of f.samples) {
          const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
          expect(seen.has(key), `duplicate series ${key} in ${where}`).toBe(false);
          seen.add(key);
          for (const l of Object.keys(labels)) {
            expect(l.startsWith('__'), `reserved label ${l} in ${where}`).toBe(false);
            if (l === 'le') expect(f.type).toBe('histogram');
            if (l === 'quantile') expect(f.type).toBe('summary');
          }
          if (f.type === 'counter' && name.endsWith('_total')) counterSamples++;
        }
        expect(f.type).not.toBe('unknown');
      }
      if (c.counters !== undefined) expect(counterSamples, where).toBe(c.counters);
    });
  });
});
