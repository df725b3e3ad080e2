import { afterEach, describe, expect, it, vi } from 'vitest';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import type { MetricsSink, WindowSnapshot } from '../../src/metrics/types.js';

function fakeClock(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe('Meter', () => {
  it('computes mean and 1/5/15-minute rates from counts, without timers', () => {
    const clock = fakeClock();
    const m = new MetricsRegistry({ clock }).meter('jobs');
    // 10 events/s for one minute, read every 5 s (Dropwizard's tick).
    for (let i = 0; i < 12; i++) {
      m.mark(50);
      clock.t += 5000;
      m.rates();
    }
    let r = m.rates();
    expect(r.count).toBe(600);
    expect(r.meanRate).toBeCloseTo(10, 10);
    expect(r.m1Rate).toBeCloseTo(10, 10);
    expect(r.m5Rate).toBeCloseTo(10, 10);
    expect(r.m15Rate).toBeCloseTo(10, 10);
    // Then silence for a minute, read once: each EWMA decays by e^(-60 s / τ).
    clock.t += 60_000;
    r = m.rates();
    expect(r.m1Rate).toBeCloseTo(10 * Math.exp(-1), 10);
    expect(r.m5Rate).toBeCloseTo(10 * Math.exp(-60 / 300), 10);
    expect(r.m15Rate).toBeCloseTo(10 * Math.exp(-60 / 900), 10);
    expect(r.meanRate).toBeCloseTo(600 / 120, 10);
  });

  it('matches the Dropwizard 5-second tick formula for a burst', () => {
    const clock = fakeClock();
    const m = new MetricsRegistry({ clock }).meter('jobs');
    clock.t += 5000;
    m.rates(); // primes at 0/s
    m.mark(100);
    clock.t += 5000;
    const r = m.rates();
    const alpha1 = 1 - Math.exp(-5 / 60); // Dropwizard EWMA.oneMinuteEWMA alpha
    expect(r.m1Rate).toBeCloseTo(alpha1 * (100 / 5), 10);
  });

  it('drops and counts negative marks', () => {
    const r = new MetricsRegistry();
    const m = r.meter('x');
    m.mark(-2);
    expect(m.count).toBe(0);
    expect(r.stats().droppedValues).toBe(1);
  });
});

describe('Timer', () => {
  function setup() {
    const mono = { t: 0 };
    const registry = new MetricsRegistry({ monotonicNow: () => mono.t });
    return { mono, timer: registry.timer('work_ms', { kind: 'test' }) };
  }

  it('times a sync function, recording even when it throws', () => {
    const { mono, timer } = setup();
    const out = timer.time(() => {
      mono.t += 5;
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(() =>
      timer.time(() => {
        mono.t += 9;
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const s = timer.total();
    expect(s.count).toBe(2);
    expect(s.min).toBe(5);
    expect(s.max).toBe(9);
  });

  it('times an async function until it settles, fulfilled or rejected', async () => {
    const { mono, timer } = setup();
    let release!: (v: number) => void;
    const p = timer.time(() => new Promise<number>((resolve) => (release = resolve)));
    mono.t += 7;
    expect(timer.total().count).toBe(0);
    release(42);
    await expect(p).resolves.toBe(42);
    const failing = timer.time(async () => {
      mono.t += 3;
      throw new Error('nope');
    });
    await expect(failing).rejects.toThrow('nope');
    const s = timer.total();
    expect(s.count).toBe(2);
    expect(s.max).toBe(7);
    expect(s.min).toBe(3);
  });

  it('startTimer returns a stop function that records the ms once', () => {
    const { mono, timer } = setup();
    const stop = timer.startTimer();
    mono.t += 12.5;
    expect(stop()).toBe(12.5);
    mono.t += 100;
    expect(stop()).toBe(12.5);
    expect(timer.total().count).toBe(1);
    expect(timer.total().sum).toBe(12.5);
  });

  it('collects as a histogram series', () => {
    const mono = { t: 0 };
    const r = new MetricsRegistry({ monotonicNow: () => mono.t });
    r.timer('t').startTimer()();
    const w = r.collect(0, 1000);
    expect(w.series[0]).toMatchObject({ name: 't', kind: 'histogram' });
    expect(w.series[0]?.sketch?.count).toBe(1);
  });
});

describe('reportTo', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const T0 = 1_700_000_003_000; // 3 s into a 10 s window

  function sinkOf(fail = false) {
    const windows: WindowSnapshot[] = [];
    const sink: MetricsSink = {
      intervalMs: 10_000,
      send: async (w) => {
        if (fail) throw new Error('broker down');
        windows.push(w);
      },
    };
    return { sink, windows };
  }

  it('sends one window per wall-clock-aligned interval and flushes the partial one on stop', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(T0);
    const r = new MetricsRegistry();
    const c = r.counter('c');
    const { sink, windows } = sinkOf();
    const report = r.reportTo(sink, { jitter: 0 });
    c.inc(1);
    await vi.advanceTimersByTimeAsync(6_999);
    expect(windows).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatchObject({ windowStart: 1_700_000_000_000, intervalMs: 10_000 });
    expect(windows[0]?.series[0]).toMatchObject({ name: 'c', value: 1 });
    c.inc(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(windows).toHaveLength(2);
    expect(windows[1]).toMatchObject({ windowStart: 1_700_000_010_000 });
    expect(windows[1]?.series[0]?.value).toBe(2);
    c.inc(4);
    await vi.advanceTimersByTimeAsync(2_000);
    await report.stop();
    expect(windows).toHaveLength(3);
    expect(windows[2]).toMatchObject({ windowStart: 1_700_000_020_000 });
    expect(windows[2]?.series[0]?.value).toBe(4);
    expect(report.sent).toBe(3);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(windows).toHaveLength(3); // stopped
    await report.stop(); // idempotent
  });

  it('logs and counts failed sends, and allows one report loop at a time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(T0);
    const warn = vi.fn();
    const noop = () => {};
    const r = new MetricsRegistry({ logger: { debug: noop, info: noop, warn, error: noop } });
    r.counter('c').inc();
    const { sink } = sinkOf(true);
    const report = r.reportTo(sink, { jitter: 0 });
    expect(() => r.reportTo(sink, { jitter: 0 })).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'sink' }),
    );
    await vi.advanceTimersByTimeAsync(7_000);
    expect(report.failed).toBe(1);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ err: 'broker down' }), 'metrics send failed');
    await report.stop();
    const again = r.reportTo(sinkOf().sink, { jitter: 0 });
    await again.stop();
    expect(again.sent).toBe(1);
  });

  it('delays each send by the jitter but keeps windows aligned', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(T0);
    const r = new MetricsRegistry();
    r.counter('c').inc();
    const { sink, windows } = sinkOf();
    const report = r.reportTo(sink, { jitter: 0.1, random: () => 0.5 }); // 500 ms after each boundary
    await vi.advanceTimersByTimeAsync(7_499);
    expect(windows).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(windows).toHaveLength(1);
    expect(windows[0]?.windowStart).toBe(1_700_000_000_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(windows[1]?.windowStart).toBe(1_700_000_010_000);
    await report.stop();
    expect(() => r.reportTo(sink, { jitter: 1 })).toThrow(
      expect.objectContaining({ path: 'options.jitter' }),
    );
  });

  it('validates the sink', () => {
    const r = new MetricsRegistry();
    expect(() => r.reportTo({ intervalMs: 0, send: () => {} })).toThrow(
      expect.objectContaining({ path: 'sink.intervalMs' }),
    );
    expect(() => r.reportTo({} as MetricsSink)).toThrow(expect.objectContaining({ path: 'sink' }));
  });

  it('stop honours an aborted signal', async () => {
    const r = new MetricsRegistry();
    const report = r.reportTo({ intervalMs: 1000, send: () => new Promise(() => {}) });
    const ac = new AbortController();
    ac.abort();
    await expect(report.stop({ signal: ac.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});
