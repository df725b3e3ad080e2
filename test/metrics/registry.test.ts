import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import { toPrometheusText } from '../../src/metrics/prometheus.js';
import { MetricsRegistry, OVERFLOW_TAG } from '../../src/metrics/registry.js';
import type { SeriesDelta } from '../../src/metrics/types.js';

function fakeClock(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

function find(series: readonly SeriesDelta[], name: string, tags: Record<string, string> = {}) {
  return series.find((s) => s.name === name && Object.entries(tags).every(([k, v]) => s.tags[k] === v));
}

describe('MetricsRegistry handles', () => {
  it('returns the same cached handle for the same name and tags, whatever the key order', () => {
    const r = new MetricsRegistry({ tags: { service: 'api' } });
    const a = r.counter('requests', { route: '/', method: 'GET' });
    const b = r.counter('requests', { method: 'GET', route: '/' });
    const c = r.counter('requests', { method: 'POST', route: '/' });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(a.tags).toEqual({ method: 'GET', route: '/', service: 'api' });
    a.inc();
    b.inc(2);
    expect(a.value).toBe(3);
  });

  it('never confuses tag sets that share a prefix, and treats no tags as empty tags', () => {
    const r = new MetricsRegistry();
    const a = r.counter('x', { a: '1' });
    const ab = r.counter('x', { a: '1', b: '2' });
    const b = r.counter('x', { b: '2' });
    expect(new Set([a, ab, b]).size).toBe(3);
    expect(r.counter('x', { b: '2', a: '1' })).toBe(ab);
    expect(r.counter('x', { a: '1' })).toBe(a);
    expect(r.counter('y')).toBe(r.counter('y', {}));
    // A cached lookup still refuses a bad value rather than matching a prefix.
    const bad = r.counter('x', { a: '1', c: undefined as unknown as string });
    expect(bad).not.toBe(a);
    bad.inc();
    expect(a.value).toBe(0);
    expect(r.stats()).toMatchObject({ rejectedTagSets: 1, droppedValues: 1 });
  });

  it('accepts dotted and dashed tag keys (host.name), as the stores do', () => {
    const r = new MetricsRegistry();
    expect(r.counter('ok', { 'host.name': 'a', 'bad-key': 'x' }).tags).toEqual({
      'bad-key': 'x',
      'host.name': 'a',
    });
    expect(r.stats().rejectedTagSets).toBe(0);
  });

  it('refuses a tag set the store would refuse: a dropping handle, counted and logged once, never a throw', () => {
    const warnings: unknown[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (o: unknown) => warnings.push(o) };
    const r = new MetricsRegistry({ logger });
    const long = r.counter('ok', { k: 'v'.repeat(201) });
    const notString = r.counter('ok', { k: 5 as unknown as string });
    const empty = r.histogram('h', { k: '' });
    long.inc();
    notString.inc(2);
    empty.record(1);
    expect(r.stats()).toEqual({ series: 0, droppedValues: 3, rejectedTagSets: 3, overflows: 0 });
    expect(r.collect(0, 1000).series).toEqual([]);
    expect(r.snapshot().series).toEqual([]);
    expect(warnings).toEqual([
      expect.objectContaining({ metric: 'ok', path: 'tags.k' }),
      expect.objectContaining({ metric: 'h', path: 'tags.k' }),
    ]);
  });

  it('instruments never throw: NaN, ±Infinity, negatives and non-numbers are dropped and counted', () => {
    const r = new MetricsRegistry();
    const c = r.counter('c');
    const g = r.gauge('g');
    const h = r.histogram('h');
    const m = r.meter('m');
    const t = r.timer('t');
    c.inc(-1);
    c.inc(Number.NaN);
    c.inc('1' as unknown as number);
    g.set(Number.POSITIVE_INFINITY);
    g.inc(Number.NaN);
    g.dec(Number.NEGATIVE_INFINITY);
    h.record(Number.NaN);
    h.record('3' as unknown as number);
    m.mark(-2);
    t.record(Number.POSITIVE_INFINITY);
    expect(r.stats().droppedValues).toBe(10);
    expect(r.snapshot().stats.droppedValues).toBe(10);
    c.inc(2);
    g.set(4);
    h.record(5);
    expect([c.value, g.value, h.total().count, m.count]).toEqual([2, 4, 1, 0]);
    expect(r.stats().droppedValues).toBe(10);
  });

  it('lets an instrument tag override a registry tag', () => {
    const r = new MetricsRegistry({ tags: { service: 'api', zone: 'a' } });
    expect(r.gauge('temp', { zone: 'b' }).tags).toEqual({ service: 'api', zone: 'b' });
  });

  it('validates names and options at creation (E_VALIDATION with the path)', () => {
    const r = new MetricsRegistry();
    expect(() => r.counter('1bad')).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path: 'name' }));
    expect(() => r.counter('x'.repeat(193))).toThrow(expect.objectContaining({ path: 'name' }));
    expect(r.counter('x'.repeat(192)).name).toHaveLength(192);
    expect(() => new MetricsRegistry({ tags: { 'bad key': 'x' } })).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'options.tags["bad key"]' }),
    );
    expect(() => new MetricsRegistry({ maxSeries: 5 } as never)).toThrow(
      expect.objectContaining({ path: 'options.maxSeries' }),
    );
    expect(() => new MetricsRegistry({ maxSeriesPerMetric: 0 })).toThrow(
      expect.objectContaining({ path: 'options.maxSeriesPerMetric' }),
    );
    expect(() => r.gauge('g2', {}, { policy: 'median' as 'sum' })).toThrow(
      expect.objectContaining({ path: 'options.policy' }),
    );
  });

  it('rejects one name used for two kinds, or with a different policy or accuracy', () => {
    const r = new MetricsRegistry();
    r.counter('x');
    expect(() => r.gauge('x')).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path: 'name' }));
    r.gauge('g', {}, { policy: 'sum' });
    expect(r.gauge('g', { a: '1' }).policy).toBe('sum');
    expect(() => r.gauge('g', {}, { policy: 'max' })).toThrow(
      expect.objectContaining({ path: 'options.policy' }),
    );
    r.histogram('h');
    expect(() => r.histogram('h', {}, { relativeAccuracy: 0.02 })).toThrow(
      expect.objectContaining({ path: 'options.relativeAccuracy' }),
    );
    expect(() => r.timer('h')).toThrow(expect.objectContaining({ path: 'name' }));
  });

  it('gauges set, inc and dec, with policy last by default', () => {
    const r = new MetricsRegistry();
    const g = r.gauge('queue_depth');
    g.set(10);
    g.inc(5);
    g.dec();
    expect(g.value).toBe(14);
    expect(g.policy).toBe('last');
  });
});

describe('cardinality cap', () => {
  it('folds series past the cap into one overflow series and counts the overflows', () => {
    const r = new MetricsRegistry({ tags: { service: 'api' }, maxSeriesPerMetric: 3 });
    for (let i = 0; i < 3; i++) r.counter('hits', { user: `u${i}` }).inc();
    const o1 = r.counter('hits', { user: 'u3' });
    const o2 = r.counter('hits', { user: 'u4' });
    expect(o2).toBe(o1);
    expect(o1.tags).toEqual({ service: 'api', [OVERFLOW_TAG]: 'true' });
    o1.inc(5);
    o2.inc(5);
    // Known series keep their own handles.
    r.counter('hits', { user: 'u0' }).inc();
    expect(r.overflowCount('hits')).toBe(2);
    expect(r.overflowCount()).toBe(2);
    expect(r.overflowCount('other')).toBe(0);
    const snap = r.snapshot();
    expect(snap.overflows).toEqual({ hits: 2 });
    const hits = snap.series.filter((s) => s.name === 'hits');
    expect(hits).toHaveLength(4);
    expect(hits.find((s) => s.tags[OVERFLOW_TAG] === 'true')?.value).toBe(10);
    expect(hits.find((s) => s.tags.user === 'u0')?.value).toBe(2);
    // Other metrics have their own cap.
    expect(r.counter('other', { user: 'u9' }).tags.user).toBe('u9');
  });

  it('keeps memory bounded under a tag explosion', () => {
    const r = new MetricsRegistry({ maxSeriesPerMetric: 10 });
    for (let i = 0; i < 5000; i++) r.histogram('lat', { id: String(i) }).record(i);
    const snap = r.snapshot();
    expect(snap.series).toHaveLength(11);
    const overflow = snap.series.find((s) => s.tags[OVERFLOW_TAG] === 'true');
    expect(overflow?.summary?.count).toBe(4990);
    expect(r.overflowCount('lat')).toBe(4990);
  });
});

describe('snapshot and collect', () => {
  it('snapshot reports cumulative counters, gauges, meters and histogram summaries', () => {
    const clock = fakeClock();
    const r = new MetricsRegistry({ clock });
    r.counter('c').inc(3);
    r.gauge('g').set(7);
    r.meter('m').mark(4);
    const h = r.histogram('h');
    for (let i = 1; i <= 100; i++) h.record(i);
    r.collect(0, 10_000); // collecting must not reset cumulative views
    r.counter('c').inc(2);
    h.record(1000);
    clock.t += 2000;
    const snap = r.snapshot();
    expect(snap.ts).toBe(clock.t);
    const byName = Object.fromEntries(snap.series.map((s) => [s.name, s]));
    expect(byName.c?.value).toBe(5);
    expect(byName.g?.value).toBe(7);
    expect(byName.g?.policy).toBe('last');
    expect(byName.m?.value).toBe(4);
    expect(byName.m?.rates?.meanRate).toBeCloseTo(2, 10);
    const summary = byName.h?.summary;
    expect(summary?.count).toBe(101);
    expect(summary?.sum).toBe(5050 + 1000);
    expect(summary?.min).toBe(1);
    expect(summary?.max).toBe(1000);
    expect(Math.abs((summary?.quantiles['0.5'] ?? 0) - 51)).toBeLessThanOrEqual(0.51);
    expect(Math.abs((summary?.quantiles['0.999'] ?? 0) - 100)).toBeLessThanOrEqual(1); // rank ⌊0.999·100⌋ = 99
  });

  it('collect returns window deltas and swaps in fresh sketches', () => {
    const r = new MetricsRegistry({ tags: { host: 'a' } });
    const c = r.counter('c', { k: 'v' });
    const m = r.meter('m');
    const g = r.gauge('g', {}, { policy: 'max' });
    const h = r.histogram('h');
    c.inc(3);
    m.mark(2);
    g.set(4);
    h.record(10);
    h.record(20);
    const w1 = r.collect(10_000, 10_000);
    expect(w1.windowStart).toBe(10_000);
    expect(w1.intervalMs).toBe(10_000);
    expect(find(w1.series, 'c')).toMatchObject({ kind: 'counter', value: 3, tags: { host: 'a', k: 'v' } });
    expect(find(w1.series, 'm')).toMatchObject({ kind: 'meter', value: 2 });
    expect(find(w1.series, 'g')).toMatchObject({ kind: 'gauge', value: 4, policy: 'max' });
    const sk1 = find(w1.series, 'h')?.sketch;
    expect(sk1?.count).toBe(2);
    expect(sk1?.sum).toBe(30);

    c.inc(1);
    h.record(99);
    const w2 = r.collect(20_000, 10_000);
    expect(find(w2.series, 'c')?.value).toBe(1);
    expect(find(w2.series, 'm')).toBeUndefined(); // unchanged counters/meters are left out
    expect(find(w2.series, 'g')?.value).toBe(4); // gauges always report their value
    const sk2 = find(w2.series, 'h')?.sketch;
    expect(sk2?.count).toBe(1);
    expect(sk2?.max).toBe(99);
    // The first window's sketch was handed over and is not touched by later records.
    expect(sk1?.count).toBe(2);

    const w3 = r.collect(30_000, 10_000);
    expect(w3.series.map((s) => s.name)).toEqual(['g']);
  });

  it('validates collect arguments', () => {
    const r = new MetricsRegistry();
    expect(() => r.collect(-1, 10)).toThrow(expect.objectContaining({ path: 'windowStart' }));
    expect(() => r.collect(0, 0)).toThrow(expect.objectContaining({ path: 'intervalMs' }));
  });
});

describe('MetricsRegistry: Prometheus name collisions are refused at registration', () => {
  const refused = (fn: () => unknown, received: string) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetwatchError);
    expect(err).toMatchObject({ code: 'E_VALIDATION', path: 'name' });
    expect((err as Error).message).toContain(received);
  };

  it('refuses names that meet after sanitising, and samples that clash between families', () => {
    const r = new MetricsRegistry();
    r.counter('a.b').inc();
    refused(() => r.counter('a_b'), 'a_b');
    refused(() => r.gauge('a-b'), 'a-b');
    r.histogram('lat').record(1);
    refused(() => r.gauge('lat_count'), 'lat_count');
    refused(() => r.gauge('lat_bucket'), 'lat_bucket');
    refused(() => r.counter('lat_histogram'), 'lat_histogram');
    r.gauge('queue_sum');
    refused(() => r.timer('queue'), 'queue');
    r.counter('x');
    refused(() => r.gauge('x_total'), 'x_total');
    // The same name again is the same family, not a collision.
    expect(r.counter('a.b')).toBe(r.counter('a.b'));
    // Only the accepted families are exposed, each once.
    expect(new Set(r.exposition().map((s) => s.name))).toEqual(new Set(['a.b', 'lat', 'queue_sum', 'x']));
    expect(toPrometheusText(r)).toMatch(/^a_b_total 1$/m);
  });

  it('takes nothing of a refused name: a refused histogram leaves its summary name free', () => {
    const r = new MetricsRegistry();
    r.gauge('h_histogram');
    refused(() => r.histogram('h'), 'h');
    r.gauge('h').set(2);
    expect(toPrometheusText(r)).toMatch(/^h 2$/m);
  });
});
