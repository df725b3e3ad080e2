import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { DDSketch } from '../../src/metrics/sketch.js';

type Op = { t: 'inc'; tag: string; n: number } | { t: 'rec'; tag: string; v: number } | { t: 'collect' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constant('inc' as const),
    tag: fc.constantFrom('a', 'b', 'c'),
    n: fc.integer({ min: 0, max: 50 }),
  }),
  fc.record({
    t: fc.constant('rec' as const),
    tag: fc.constantFrom('a', 'b'),
    v: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  }),
  fc.constant({ t: 'collect' as const }),
);

describe('collect windows (property)', () => {
  it('window deltas add up to the cumulative values, and window sketches merge to the total', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const r = new MetricsRegistry({ maxSeriesPerMetric: 2 });
        const counterTotals = new Map<string, number>();
        const merged = new Map<string, DDSketch>();
        const expectedCount = new Map<string, number>();
        const absorb = (windowStart: number) => {
          for (const s of r.collect(windowStart, 1000).series) {
            const key = JSON.stringify(s.tags);
            if (s.kind === 'counter') counterTotals.set(key, (counterTotals.get(key) ?? 0) + (s.value ?? 0));
            if (s.kind === 'histogram' && s.sketch) {
              const m = merged.get(key) ?? new DDSketch();
              m.merge(s.sketch);
              merged.set(key, m);
            }
          }
        };
        let w = 0;
        for (const o of ops) {
          if (o.t === 'inc') r.counter('c', { k: o.tag }).inc(o.n);
          else if (o.t === 'rec') {
            const h = r.histogram('h', { k: o.tag });
            h.record(o.v);
            const key = JSON.stringify(h.tags);
            expectedCount.set(key, (expectedCount.get(key) ?? 0) + 1);
          } else {
            w += 1000;
            absorb(w);
          }
        }
        absorb(w + 1000);
        const snap = r.snapshot();
        for (const s of snap.series) {
          const key = JSON.stringify(s.tags);
          if (s.kind === 'counter') expect(counterTotals.get(key) ?? 0).toBe(s.value);
          if (s.kind === 'histogram') {
            expect(merged.get(key)?.count ?? 0).toBe(s.summary?.count);
            expect(s.summary?.count).toBe(expectedCount.get(key));
          }
        }
        // The cap of 2 series per metric folds tag "c" into the overflow series.
        expect(snap.series.filter((s) => s.name === 'c').length).toBeLessThanOrEqual(3);
      }),
      { numRuns: 100 },
    );
  });
});

describe('disabled registry', () => {
  it('hands out shared no-ops and collects nothing', async () => {
    const r = new MetricsRegistry({ enabled: false });
    const c = r.counter('anything', { not: 'validated' });
    expect(r.counter('other')).toBe(c);
    c.inc(5);
    expect(c.value).toBe(0);
    r.histogram('h').record(1);
    expect(r.histogram('h').total().count).toBe(0);
    expect(r.timer('t').time(() => 42)).toBe(42);
    r.gauge('g').set(3);
    expect(r.gauge('g').value).toBe(0);
    r.meter('m').mark();
    expect(r.meter('m').rates().count).toBe(0);
    expect(r.snapshot().series).toEqual([]);
    expect(r.collect(0, 1000).series).toEqual([]);
    const report = r.reportTo({ intervalMs: 1000, send: () => {} });
    await report.stop();
    expect(report.sent).toBe(0);
  });
});
