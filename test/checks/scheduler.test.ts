import { EventEmitter } from 'eventemitter3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CheckResultEvent,
  CheckScheduler,
  type CheckSchedulerOptions,
  type CheckStateEvent,
  fnv1a,
  testCheck,
} from '../../src/checks/scheduler.js';
import { MemoryCheckStateStore } from '../../src/checks/state.js';
import type { CheckInventory, CheckMetrics, CheckType } from '../../src/checks/types.js';
import { webhookNotifier } from '../../src/checks/webhook.js';
import { FleetwatchError } from '../../src/errors.js';
import type { Point } from '../../src/metrics-store/types.js';
import type { Node } from '../../src/providers/types.js';
import { FakeTime } from './fake-time.js';
import { httpServer, type TestServer, tcpServer, until } from './servers.js';

interface Behaviour {
  durationMs?: number;
  metrics?: CheckMetrics;
  error?: string;
  ignoreAbort?: boolean;
}
interface RunLog {
  key: string;
  start: number;
  config: unknown;
}

/** A check type whose runs take fake time and return scripted outcomes. */
function fakeType(time: FakeTime, behave: (key: string, n: number) => Behaviour = () => ({})) {
  const log: RunLog[] = [];
  const inFlight = new Map<string, number>();
  const perHost = new Map<string, number>();
  const max = { total: 0, perKey: 0, perHost: 0 };
  let total = 0;
  const type: CheckType<unknown> = {
    type: 'fake',
    normalize: (c) => c ?? {},
    async run(config, target, opts) {
      const n = log.filter((l) => l.key === target.key).length;
      log.push({ key: target.key, start: time.now, config });
      const b = behave(target.key, n);
      total++;
      inFlight.set(target.key, (inFlight.get(target.key) ?? 0) + 1);
      perHost.set(target.host, (perHost.get(target.host) ?? 0) + 1);
      max.total = Math.max(max.total, total);
      max.perKey = Math.max(max.perKey, inFlight.get(target.key)!);
      max.perHost = Math.max(max.perHost, perHost.get(target.host)!);
      try {
        await time.sleep(b.durationMs ?? 10, b.ignoreAbort ? undefined : opts.signal);
      } finally {
        total--;
        inFlight.set(target.key, inFlight.get(target.key)! - 1);
        perHost.set(target.host, perHost.get(target.host)! - 1);
      }
      return { metrics: b.metrics ?? { value: 1 }, ...(b.error ? { error: b.error } : {}) };
    },
  };
  return { type, log, max };
}

function make(time: FakeTime, type: CheckType<unknown>, extra: Partial<CheckSchedulerOptions> = {}) {
  return new CheckScheduler({
    clock: time.clock,
    timers: time.api,
    types: [type],
    concurrency: 50,
    ...extra,
  });
}

/** FNV-1a reference values (from the FNV spec test vectors). */
describe('fnv1a()', () => {
  it('matches the published test vectors', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });
});

describe('CheckScheduler - grid scheduling with fake time', () => {
  it('start() - each target runs on its own phase of the period grid, without a start-up sleep', async () => {
    const time = new FakeTime();
    const { type, log } = fakeType(time);
    const s = make(time, type);
    s.add({ id: 'a', type: 'fake', targets: ['h1', 'h2', 'h3'], periodMs: 10_000, timeoutMs: 1000 });
    const t0 = time.now;
    s.start();
    await time.advance(10_000);
    expect(log).toHaveLength(3);
    for (const l of log) {
      // phase = FNV-1a("a\0<target>") mod period, on the absolute (epoch) grid
      expect(l.start % 10_000).toBe(fnv1a(`a\u0000${l.key}`) % 10_000);
      expect(l.start).toBeGreaterThanOrEqual(t0);
      expect(l.start).toBeLessThan(t0 + 10_000);
    }
    expect(new Set(log.map((l) => l.start)).size).toBe(3);
    await s.stop();
  });

  it('no drift over 10k periods: every start stays on the grid', async () => {
    const time = new FakeTime();
    const { type, log } = fakeType(time, () => ({ durationMs: 370 }));
    const s = make(time, type);
    s.add({ id: 'drift', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 900 });
    s.start();
    for (let i = 0; i < 10_000; i++) await time.advance(1000);
    expect(log.length).toBeGreaterThanOrEqual(9999);
    expect(log.length).toBeLessThanOrEqual(10_001);
    const phase = fnv1a('drift\u0000h') % 1000;
    expect(log.every((l) => l.start % 1000 === phase)).toBe(true);
    expect(s.stats().lateness.max).toBe(0);
    expect(s.stats().skippedOverrun).toBe(0);
    await s.stop();
  }, 60_000);

  it('jitter stays within its bound and off the exact grid', async () => {
    const time = new FakeTime();
    const { type, log } = fakeType(time);
    const s = make(time, type);
    s.add({ id: 'j', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 500, jitterMs: 200 });
    s.start();
    await time.advance(100_000);
    const phase = fnv1a('j\u0000h') % 1000;
    const offsets = log.map((l) => (((l.start - phase) % 1000) + 1000) % 1000);
    expect(offsets.every((o) => o >= 0 && o <= 200)).toBe(true);
    expect(new Set(offsets).size).toBeGreaterThan(10);
    await s.stop();
  });

  it('overrun: a run still in flight makes the next due run skip, never queue', async () => {
    const time = new FakeTime();
    // ignores its abort signal and runs 2.5 periods
    const { type, log, max } = fakeType(time, () => ({ durationMs: 2500, ignoreAbort: true }));
    const s = make(time, type);
    const skipped: string[] = [];
    s.on('skipped', (e) => skipped.push(e.reason));
    s.add({ id: 'slow', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 900 });
    s.start();
    await time.advance(10_000);
    expect(max.perKey).toBe(1);
    // each run covers 3 grid points: runs at 0, 3, 6, 9 → 2 skips each
    expect(log.length).toBeGreaterThanOrEqual(3);
    expect(log.length).toBeLessThanOrEqual(4);
    expect(s.stats().skippedOverrun).toBe(skipped.length);
    expect(s.stats().skippedOverrun).toBeGreaterThanOrEqual(5);
    expect(skipped.every((r) => r === 'overrun')).toBe(true);
    // stop() waits for the run that ignores its signal only for the grace period
    let stopped = false;
    const stopping = s.stop().then(() => {
      stopped = true;
    });
    await time.advance(1000);
    expect(stopped).toBe(false);
    await time.advance(4000);
    await stopping;
    expect(stopped).toBe(true);
  });

  it('concurrency caps: global, per host and per type', async () => {
    const time = new FakeTime();
    const { type, max, log } = fakeType(time, () => ({ durationMs: 50_000 }));
    const s = make(time, type, { concurrency: 4, hostConcurrency: 2 });
    const targets = Array.from({ length: 12 }, (_, i) => `host${i % 3}:${1000 + i}`);
    s.add({ id: 'c', type: 'fake', targets, periodMs: 60_000, timeoutMs: 59_000 });
    s.start();
    await time.advance(120_000);
    expect(log.length).toBeGreaterThan(4);
    expect(max.total).toBe(4);
    expect(max.perHost).toBe(2);
    await s.stop();

    const t2 = new FakeTime();
    const f2 = fakeType(t2, () => ({ durationMs: 50_000 }));
    const s2 = make(t2, f2.type, { concurrency: 10, typeConcurrency: { fake: 3 } });
    s2.add({ id: 'c', type: 'fake', targets, periodMs: 60_000, timeoutMs: 59_000 });
    s2.start();
    await t2.advance(120_000);
    expect(f2.log.length).toBeGreaterThan(3);
    expect(f2.max.total).toBe(3);
    await s2.stop();
  });

  it('a run is aborted at its timeout and reported as failed', async () => {
    const time = new FakeTime();
    const { type } = fakeType(time, () => ({ durationMs: 5000 }));
    const s = make(time, type);
    const results: CheckResultEvent[] = [];
    s.on('result', (r) => results.push(r));
    s.add({ id: 't', type: 'fake', targets: 'h', periodMs: 10_000, timeoutMs: 2000 });
    s.start();
    await time.advance(10_000);
    expect(results).toHaveLength(1);
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.error).toBe('check timed out after 2000 ms');
    expect(results[0]!.durationMs).toBe(2000);
    await s.stop();
  });
});

describe('CheckScheduler - abort closes real sockets', () => {
  let hang: TestServer;
  beforeAll(async () => {
    hang = await tcpServer((sock) => sock.on('error', () => {}));
  });
  afterAll(() => hang.close());

  it('a tcp check waiting for a banner is aborted at the timeout and the server sees the close', async () => {
    const time = new FakeTime();
    const s = new CheckScheduler({ clock: time.clock, timers: time.api });
    const results: CheckResultEvent[] = [];
    s.on('result', (r) => results.push(r));
    s.add({
      id: 'banner',
      type: 'tcp',
      targets: `127.0.0.1:${hang.port}`,
      periodMs: 60_000,
      timeoutMs: 5000,
      tcp: { expect: '^220' },
    });
    s.start();
    const phase = fnv1a(`banner\u0000127.0.0.1:${hang.port}`) % 60_000;
    await time.advance((((phase - (time.now % 60_000)) % 60_000) + 60_000) % 60_000);
    await until(() => hang.sockets.length === 1);
    const sock = hang.sockets[0]!;
    expect(hang.closed.has(sock)).toBe(false);
    await time.advance(5000);
    await until(() => hang.closed.has(sock));
    await until(() => results.length === 1);
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.error).toMatch(/timed out after 5000 ms/);
    await s.stop();
  });
});

describe('CheckScheduler - alarms and states', () => {
  it('consecutiveCount to enter, recoveryCount to recover, with previous/new state and message', async () => {
    const time = new FakeTime();
    const codes = ['200', '500', '500', '500', '500', '200', '500', '200', '200'];
    const { type } = fakeType(time, (_k, n) => ({ metrics: { code: codes[n] ?? '200' } }));
    const s = make(time, type);
    const states: CheckStateEvent[] = [];
    s.on('state', (e) => states.push(e));
    s.add({
      id: 'web',
      type: 'fake',
      targets: 'h',
      periodMs: 1000,
      timeoutMs: 500,
      alarm:
        "if (metric['code'] != '200') { return new AlarmStatus(CRITICAL, 'HTTP #{code}'); } return new AlarmStatus(OK);",
      consecutiveCount: 3,
      recoveryCount: 2,
    });
    s.start();
    await time.advance(9000);
    await s.drain();
    expect(states.map((e) => [e.previous, e.state, e.message])).toEqual([
      ['UNKNOWN', 'OK', ''],
      ['OK', 'CRITICAL', 'HTTP 500'],
      ['CRITICAL', 'OK', ''],
    ]);
    expect(states[1]!.metrics).toEqual({ code: '500' });
    await s.stop();
  });

  it('a failed run is CRITICAL even when the alarm would say OK', async () => {
    const time = new FakeTime();
    const { type } = fakeType(time, () => ({ error: 'ECONNREFUSED', metrics: {} }));
    const s = make(time, type);
    const states: CheckStateEvent[] = [];
    s.on('state', (e) => states.push(e));
    s.add({ id: 'x', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 500, alarm: 'return OK' });
    s.start();
    await time.advance(1000);
    await s.drain();
    expect(states.map((e) => [e.state, e.message])).toEqual([['CRITICAL', 'ECONNREFUSED']]);
    await s.stop();
  });

  it('states persist through the state store and are restored on restart (no re-alert)', async () => {
    const store = new MemoryCheckStateStore();
    const def = { id: 'p', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 500, alarm: 'code == 200' };
    const time = new FakeTime();
    const f = fakeType(time, () => ({ metrics: { code: '503' } }));
    const s1 = make(time, f.type, { stateStore: store });
    const first: CheckStateEvent[] = [];
    s1.on('state', (e) => first.push(e));
    s1.add(def);
    s1.start();
    await time.advance(2000);
    await s1.stop();
    expect(first.map((e) => e.state)).toEqual(['CRITICAL']);
    const saved = await store.load();
    expect(saved.map((r) => [r.checkId, r.target, r.state])).toEqual([['p', 'h', 'CRITICAL']]);

    const s2 = make(time, fakeType(time, () => ({ metrics: { code: '503' } })).type, { stateStore: store });
    const second: CheckStateEvent[] = [];
    s2.on('state', (e) => second.push(e));
    s2.add(def);
    s2.start();
    await time.advance(3000);
    await s2.drain();
    expect(second).toEqual([]);
    await s2.stop();
  });

  it('suppression windows mute state events and notifiers, not runs or results', async () => {
    const time = new FakeTime(Date.UTC(2026, 0, 5, 10, 0, 0));
    const { type } = fakeType(time, (_k, n) => ({ metrics: { code: n < 2 ? '200' : '500' } }));
    const notified: CheckStateEvent[] = [];
    const s = make(time, type, { notifiers: [async (e) => void notified.push(e)] });
    const states: CheckStateEvent[] = [];
    const muted: CheckStateEvent[] = [];
    const results: CheckResultEvent[] = [];
    s.on('state', (e) => states.push(e));
    s.on('suppressed', (e) => muted.push(e));
    s.on('result', (r) => results.push(r));
    s.add({
      id: 'w',
      type: 'fake',
      targets: ['a', 'b'],
      periodMs: 1000,
      timeoutMs: 500,
      alarm: 'code == 200',
    });
    s.addSuppression({
      id: 'maint',
      nodes: ['b'],
      recurring: { at: '10:00', durationMs: 3_600_000, days: [1] },
    });
    s.start();
    await time.advance(5000);
    await s.drain();
    expect(results.length).toBe(10);
    expect(states.map((e) => `${e.target}:${e.state}`)).toEqual(['a:OK', 'a:CRITICAL']);
    expect(muted.map((e) => `${e.target}:${e.state}`)).toEqual(['b:OK', 'b:CRITICAL']);
    expect(notified.map((e) => `${e.target}:${e.state}`)).toEqual(['a:OK', 'a:CRITICAL']);
    await s.stop();
  });
});

describe('CheckScheduler - results pipeline', () => {
  it('writes check.<metric> points tagged with check, node, provider and location', async () => {
    const time = new FakeTime();
    const { type } = fakeType(time, () => ({
      metrics: { code: '200', duration: 12.5, banner: 'x', body_match: true },
    }));
    const written: Point[] = [];
    const store = {
      write: async (p: readonly Point[]) => {
        written.push(...p);
        return { accepted: p.length };
      },
    };
    const gauges = new Map<string, number>();
    const registry = {
      gauge: (n: string, t?: Record<string, string>) => ({
        set: (v: number) => void gauges.set(`${n}${JSON.stringify(t)}`, v),
      }),
    };
    const inv = fakeInventory([node('web-1', '10.0.0.1', { role: 'web' })]);
    const s = make(time, type, { store, registry, location: 'dc1', inventory: inv });
    s.add({ id: 'pts', type: 'fake', targets: 'tag:role=web', periodMs: 1000, timeoutMs: 500 });
    s.start();
    await time.advance(1000);
    await s.drain();
    const tags = {
      check: 'pts',
      target: 'static:web-1',
      node: 'static:web-1',
      provider: 'static',
      location: 'dc1',
    };
    expect(written.map((p) => [p.metric, p.value])).toEqual([
      ['check.ok', 1],
      ['check.code', 200],
      ['check.duration', 12.5],
      ['check.body_match', 1],
    ]);
    expect(written.every((p) => JSON.stringify(p.tags) === JSON.stringify(tags))).toBe(true);
    expect(gauges.get(`check.duration${JSON.stringify(tags)}`)).toBe(12.5);
    await s.stop();
  });

  it('reports self-metrics as checks.scheduler.* gauges at each flush', async () => {
    const time = new FakeTime();
    const { type } = fakeType(time, () => ({ durationMs: 2500, ignoreAbort: true }));
    const gauges = new Map<string, number>();
    const registry = { gauge: (n: string) => ({ set: (v: number) => void gauges.set(n, v) }) };
    const s = make(time, type, { registry, flushIntervalMs: 1000, location: 'dc1' });
    s.add({ id: 'self', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 900 });
    s.start();
    await time.advance(10_000);
    expect(gauges.get('checks.scheduler.skipped_overrun')).toBe(s.stats().skippedOverrun);
    expect(gauges.get('checks.scheduler.skipped_overrun')).toBeGreaterThan(0);
    expect(gauges.get('checks.scheduler.lateness_p99_ms')).toBe(0);
    expect(gauges.has('checks.scheduler.queue_depth')).toBe(true);
    expect(gauges.has('checks.scheduler.event_loop_lag_p99_ms')).toBe(true);
    const stopping = s.stop();
    await time.advance(5000);
    await stopping;
  });

  it('points buffered while the store is slow are all written once it answers', async () => {
    const time = new FakeTime();
    const { type } = fakeType(time, () => ({ metrics: { a: 1, b: 2 } }));
    let release!: () => void;
    const blocked = new Promise<void>((r) => {
      release = r;
    });
    const written: Point[] = [];
    const store = {
      write: async (p: readonly Point[]) => {
        await blocked;
        written.push(...p);
        return { accepted: p.length };
      },
    };
    const s = make(time, type, { store, flushIntervalMs: 1000 });
    s.add({ id: 'buf', type: 'fake', targets: ['h'], periodMs: 1000, timeoutMs: 500 });
    s.start();
    await time.advance(5000);
    release();
    await s.drain();
    // 5 runs × (check.ok, check.a, check.b)
    expect(written.length).toBe(15);
    expect(s.stats().pointsWritten).toBe(15);
    expect(s.stats().pointsDropped).toBe(0);
    await s.stop();
  });

  it('a failing store and a throwing listener never turn into check failures', async () => {
    const time = new FakeTime();
    const { type, log } = fakeType(time);
    const store = {
      write: async () => {
        throw new FleetwatchError('E_STORE_UNAVAILABLE', 'down');
      },
    };
    const s = make(time, type, { store, flushIntervalMs: 1000 });
    const errors: unknown[] = [];
    const results: CheckResultEvent[] = [];
    s.on('error', (e) => errors.push(e));
    s.on('result', () => {
      throw new Error('listener bug');
    });
    s.on('result', (r) => results.push(r));
    s.add({ id: 'e', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 500 });
    s.start();
    await time.advance(5000);
    await s.drain();
    expect(log.length).toBe(5);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(errors.some((e) => e instanceof FleetwatchError && e.code === 'E_STORE_UNAVAILABLE')).toBe(true);
    expect(errors.some((e) => e instanceof Error && e.message === 'listener bug')).toBe(true);
    await s.stop();
  });
});

function node(name: string, ip: string, tags: Record<string, string>): Node {
  return {
    uid: `static:${name}`,
    id: name,
    name,
    provider: 'static',
    kind: 'static',
    state: 'running',
    rawState: 'running',
    publicIps: [ip],
    privateIps: [],
    tags,
    extra: {},
  };
}

/** An inventory over a node list understanding `tag:k=v` queries. */
function fakeInventory(nodes: Node[]) {
  const ee = new EventEmitter();
  const inv = {
    nodes,
    query(q: string) {
      const m = /^tag:([^=]+)=(.*)$/.exec(q);
      if (!m) throw new FleetwatchError('E_VALIDATION', 'bad query', { path: 'query' });
      return inv.nodes.filter((n) => n.tags[m[1]!] === m[2]);
    },
    on: (e: string, fn: () => void) => ee.on(e, fn),
    off: (e: string, fn: () => void) => ee.off(e, fn),
    emit: (e: string, n: Node) => ee.emit(e, n),
  };
  return inv as CheckInventory & typeof inv;
}

describe('CheckScheduler - inventory targets', () => {
  it('follows added/removed/changed events and expands {ip}, {name}, {tag.x}', async () => {
    const time = new FakeTime();
    const { type, log } = fakeType(time);
    const inv = fakeInventory([node('web-1', '10.0.0.1', { role: 'web', env: 'prod' })]);
    const s = make(time, type, { inventory: inv });
    s.add({
      id: 'inv',
      type: 'fake',
      targets: 'tag:role=web',
      periodMs: 1000,
      timeoutMs: 500,
      fake: { url: 'https://{ip}/health?n={name}&env={tag.env}&x={unknown}' },
    });
    s.start();
    expect(s.targetsOf('inv')).toEqual(['static:web-1']);
    await time.advance(1000);
    expect(log.map((l) => l.config)).toEqual([
      { url: 'https://10.0.0.1/health?n=web-1&env=prod&x={unknown}' },
    ]);

    const web2 = node('web-2', '10.0.0.2', { role: 'web', env: 'dev' });
    inv.nodes.push(web2);
    inv.emit('added', web2);
    await time.settle();
    expect(s.targetsOf('inv').sort()).toEqual(['static:web-1', 'static:web-2']);

    inv.nodes[0] = node('web-1', '10.0.0.9', { role: 'web', env: 'prod' });
    inv.emit('changed', inv.nodes[0]);
    inv.nodes.splice(1, 1);
    inv.emit('removed', web2);
    await time.settle();
    expect(s.targetsOf('inv')).toEqual(['static:web-1']);
    log.length = 0;
    await time.advance(1000);
    expect(log.map((l) => (l.config as { url: string }).url)).toEqual([
      'https://10.0.0.9/health?n=web-1&env=prod&x={unknown}',
    ]);
    await s.stop();
  });
});

describe('CheckScheduler - more scheduling cases', () => {
  it('a stalled process counts the grid points it missed as late skips, then runs once', async () => {
    const time = new FakeTime();
    const { type, log } = fakeType(time);
    const s = make(time, type);
    const skipped: string[] = [];
    s.on('skipped', (e) => skipped.push(e.reason));
    s.add({ id: 'late', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 500 });
    s.start();
    await time.advance(1000);
    expect(log).toHaveLength(1);
    time.now += 5000; // the event loop was blocked for 5 periods: the timer fires late
    await time.advance(0);
    expect(log).toHaveLength(2);
    expect(s.stats().skippedLate).toBe(4);
    expect(skipped).toEqual(['late']);
    const phase = fnv1a('late\u0000h') % 1000;
    await time.advance(1000);
    expect(log).toHaveLength(3);
    expect(log[2]!.start % 1000).toBe(phase);
    await s.stop();
  });

  it('remove() stops a check; a run in flight is dropped; add() while running schedules at once', async () => {
    const time = new FakeTime();
    const { type, log } = fakeType(time, () => ({ durationMs: 400 }));
    const s = make(time, type);
    const results: CheckResultEvent[] = [];
    s.on('result', (r) => results.push(r));
    s.add({ id: 'r', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 500 });
    s.start();
    const phase = fnv1a('r\u0000h') % 1000;
    await time.advance((((phase - (time.now % 1000)) % 1000) + 1000) % 1000);
    expect(log).toHaveLength(1);
    expect(s.remove('r')).toBe(true);
    await time.advance(5000);
    expect(log).toHaveLength(1);
    expect(results).toHaveLength(0);
    s.add({ id: 'r2', type: 'fake', targets: 'h', periodMs: 1000, timeoutMs: 500 });
    await time.advance(1000);
    expect(log.filter((l) => l.key === 'h')).toHaveLength(2);
    await s.stop();
  });

  it('suppression scoped by an inventory query mutes only matching nodes', async () => {
    const time = new FakeTime();
    const { type } = fakeType(time, () => ({ error: 'down' }));
    const inv = fakeInventory([
      node('web-1', '10.0.0.1', { role: 'web', dc: 'a' }),
      node('web-2', '10.0.0.2', { role: 'web', dc: 'b' }),
    ]);
    const s = make(time, type, { inventory: inv });
    const states: string[] = [];
    const muted: string[] = [];
    s.on('state', (e) => states.push(e.target));
    s.on('suppressed', (e) => muted.push(e.target));
    s.addSuppression({ id: 'dc-b', query: 'tag:dc=b' });
    s.add({ id: 'q', type: 'fake', targets: 'tag:role=web', periodMs: 1000, timeoutMs: 500 });
    s.start();
    await time.advance(1000);
    await s.drain();
    expect(states).toEqual(['static:web-1']);
    expect(muted).toEqual(['static:web-2']);
    expect(s.removeSuppression('dc-b')).toBe(true);
    await s.stop();
  });
});

describe('CheckScheduler - inventory refresh cost', () => {
  it('checks sharing a query cost one inventory query per refresh', async () => {
    const time = new FakeTime();
    const { type } = fakeType(time);
    const inv = fakeInventory([node('web-1', '10.0.0.1', { role: 'web' })]);
    let queries = 0;
    const query = inv.query.bind(inv);
    inv.query = (q: string) => {
      queries++;
      return query(q);
    };
    const s = make(time, type, { inventory: inv });
    for (let i = 0; i < 5; i++)
      s.add({ id: `c${i}`, type: 'fake', targets: 'tag:role=web', periodMs: 1000, timeoutMs: 500 });
    s.start();
    queries = 0;
    const web2 = node('web-2', '10.0.0.2', { role: 'web' });
    inv.nodes.push(web2);
    inv.emit('added', web2);
    inv.emit('changed', web2);
    await time.settle();
    expect(queries).toBe(1);
    expect(s.targetsOf('c4')).toEqual(['static:web-1', 'static:web-2']);
    await s.stop();
  });
});

describe('CheckScheduler - validation', () => {
  const s = new CheckScheduler();
  const bad: [Record<string, unknown>, string][] = [
    [{ id: 'a', type: 'http', targets: 'h', periodMs: 1000, timeoutMs: 1000 }, 'check.timeoutMs'],
    [{ id: 'a', type: 'smtp', targets: 'h', periodMs: 1000 }, 'check.type'],
    [{ id: 'a', type: 'http', targets: 'h', periodMs: 50 }, 'check.periodMs'],
    [{ id: 'a', type: 'http', targets: 'tag:role=web', periodMs: 1000 }, 'check.targets'],
    [{ id: 'a', type: 'http', targets: 'h', periodMs: 1000, alarm: 'code ==' }, 'alarm'],
    [{ id: 'a', type: 'http', targets: 'h', periodMs: 1000, http: { method: 'X' } }, 'http.method'],
    [{ id: 'a', type: 'http', targets: 'h', periodMs: 1000, tcp: {} }, 'check.tcp'],
    [
      { id: 'a', type: 'http', targets: 'h', periodMs: 10_000, timeoutMs: 2000, jitterMs: 9000 },
      'check.jitterMs',
    ],
  ];
  for (const [def, path] of bad) {
    it(`add() - rejects ${path} with E_VALIDATION`, () => {
      expect(() => s.add(def as never)).toThrow(expect.objectContaining({ code: 'E_VALIDATION', path }));
    });
  }
  it('add() - rejects a duplicate id', () => {
    s.add({ id: 'dup', type: 'http', targets: 'h', periodMs: 1000 });
    expect(() => s.add({ id: 'dup', type: 'http', targets: 'h', periodMs: 1000 })).toThrow(/already added/);
  });
  it('start() after stop() is E_CLOSED; stop() is idempotent', async () => {
    const x = new CheckScheduler();
    x.start();
    const a = x.stop();
    expect(x.stop()).toBe(a);
    await a;
    expect(() => x.start()).toThrow(expect.objectContaining({ code: 'E_CLOSED' }));
  });
  it('constructor - rejects a bad concurrency', () => {
    expect(() => new CheckScheduler({ concurrency: 0 })).toThrow(
      expect.objectContaining({ path: 'options.concurrency' }),
    );
  });
});

describe('testCheck() and the webhook notifier', () => {
  let server: TestServer;
  const hooks: unknown[] = [];
  let hookCalls = 0;
  beforeAll(async () => {
    server = await httpServer({
      '/health': (_q, res) => res.end('OK'),
      '/hook': (req, res) => {
        hookCalls++;
        let body = '';
        req.on('data', (d) => {
          body += d;
        });
        req.on('end', () => {
          if (hookCalls === 1) {
            res.statusCode = 503;
            res.end();
            return;
          }
          hooks.push(JSON.parse(body));
          res.end();
        });
      },
    });
  });
  afterAll(() => server.close());

  it('testCheck() - runs once and returns metrics and the alarm verdict', async () => {
    const [r] = await testCheck({
      id: 't',
      type: 'http',
      targets: `http://127.0.0.1:${server.port}/health`,
      alarm: "if (metric['code'] != '200') return CRITICAL; return OK",
    });
    expect(r!.ok).toBe(true);
    expect(r!.metrics.code).toBe('200');
    expect(r!.alarm).toEqual({ state: 'OK', message: '' });
  });

  it('testCheck() - inventory targets with placeholders, one result per node', async () => {
    const inv = fakeInventory([
      node('a', '127.0.0.1', { role: 'api', path: 'health' }),
      node('b', '127.0.0.1', { role: 'api', path: 'nope' }),
    ]);
    const results = await testCheck(
      {
        id: 't2',
        type: 'http',
        targets: 'tag:role=api',
        http: { url: `http://{ip}:${server.port}/{tag.path}` },
        alarm: 'code == 200',
      },
      { inventory: inv },
    );
    const byTarget = Object.fromEntries(results.map((r) => [r.target, [r.metrics.code, r.alarm.state]]));
    expect(byTarget).toEqual({ 'static:a': ['200', 'OK'], 'static:b': ['404', 'CRITICAL'] });
  });

  it('webhookNotifier() - retries a 503 and delivers the event once', async () => {
    const notify = webhookNotifier({ url: `http://127.0.0.1:${server.port}/hook`, retries: 2 });
    const event: CheckStateEvent = {
      checkId: 'c',
      target: 'h',
      previous: 'OK',
      state: 'CRITICAL',
      message: 'HTTP 500',
      metrics: { code: '500' },
      ts: 1,
    };
    await notify(event);
    expect(hookCalls).toBe(2);
    expect(hooks).toEqual([event]);
  });

  it('webhookNotifier() - failure is E_NETWORK without the URL', async () => {
    const notify = webhookNotifier({
      url: `http://127.0.0.1:${server.port}/missing?token=SECRET`,
      retries: 0,
    });
    const err = await notify({
      checkId: 'c',
      target: 'h',
      previous: 'OK',
      state: 'OK',
      message: '',
      metrics: {},
      ts: 1,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_NETWORK', status: 404 });
    expect(JSON.stringify(err)).not.toContain('SECRET');
    expect(String((err as Error).message)).not.toContain('SECRET');
  });
});
