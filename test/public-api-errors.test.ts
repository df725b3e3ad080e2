/**
 * Every rejection of every public call is a FleetwatchError with a stable code (docs/concepts.md).
 * This walks what `src/index.ts` exports: each function and class is called with hostile
 * arguments, each instance's methods too, then again after close/stop and with an aborted signal.
 * A throw, a rejection or a failing async iteration that is not a FleetwatchError with a known
 * code is a failure, listed with the call that produced it.
 */
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

const { ERROR_CODES, FleetwatchError } = api;
const CODES = new Set<string>(ERROR_CODES);

/** How long one call may stay pending before it counts as "did not reject" (it is then left alone). */
const SETTLE_MS = 400;

/** A fired signal. */
function aborted(): AbortSignal {
  const ac = new AbortController();
  ac.abort(new Error('test abort'));
  return ac.signal;
}

/** Argument lists no public call should answer with anything but a result or a FleetwatchError. */
const HOSTILE: readonly (readonly unknown[])[] = [
  [],
  [undefined],
  [null],
  [Number.NaN],
  [-1],
  [''],
  ['\u0000\n'],
  ['x'.repeat(5000)],
  [{}],
  [[]],
  [Object.create(null)],
  [{ signal: 'not a signal' }],
  [{ bogusOption: true }],
  ['x', null],
  [{}, {}],
  ['t', 5, Number.POSITIVE_INFINITY],
];

/** Exports that would touch this process or its IPC channel when called: exercised elsewhere. */
const NOT_CALLED = new Set(['attachProcess', 'attachCluster', 'clusterReporter']);

function isClass(v: unknown): v is new (...args: unknown[]) => unknown {
  return typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));
}

function describeArgs(args: readonly unknown[]): string {
  return args
    .map((a) => {
      if (typeof a === 'string') return a.length > 20 ? `string(${a.length})` : JSON.stringify(a);
      if (a === null || typeof a !== 'object') return String(a);
      if (Object.getPrototypeOf(a) === null) return 'Object.create(null)';
      try {
        return JSON.stringify(a);
      } catch {
        return typeof a;
      }
    })
    .join(', ');
}

/** Undefined when `err` is a FleetwatchError with a known code; a description otherwise. */
function badError(err: unknown): string | undefined {
  if (err instanceof FleetwatchError && CODES.has(err.code)) return undefined;
  const e = err as { name?: string; message?: string; code?: unknown } | undefined;
  return `${e?.name ?? typeof err}${e?.code === undefined ? '' : `[${String(e.code)}]`}: ${String(e?.message ?? err).slice(0, 120)}`;
}

/** Objects the walk created that hold resources: closed at the end of each test. */
const created: unknown[] = [];

async function cleanup(): Promise<void> {
  for (const o of created.splice(0)) {
    const obj = o as Record<string, unknown> | null;
    if (obj === null || typeof obj !== 'object') continue;
    for (const m of ['close', 'stop']) {
      const f = obj[m];
      if (typeof f === 'function') {
        await Promise.race([
          Promise.resolve()
            .then(() => f.call(obj))
            .catch(() => undefined),
          new Promise((r) => setTimeout(r, 200)),
        ]);
      }
    }
  }
}

/**
 * Run one call; return a description of a non-FleetwatchError failure, or undefined. Promises are
 * awaited (bounded), async iterables pulled once, and results that hold resources remembered for
 * cleanup.
 */
async function probe(call: () => unknown): Promise<string | undefined> {
  let result: unknown;
  try {
    result = call();
  } catch (err) {
    return badError(err);
  }
  const outcome = await settle(result);
  return outcome;
}

async function settle(result: unknown): Promise<string | undefined> {
  if (result !== null && (typeof result === 'object' || typeof result === 'function')) created.push(result);
  const r = result as { then?: unknown; [Symbol.asyncIterator]?: unknown } | null;
  if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'pending'>((res) => {
      timer = setTimeout(() => res('pending'), SETTLE_MS);
    });
    try {
      const v = await Promise.race([r as Promise<unknown>, timeout]);
      if (v !== 'pending' && v !== null && typeof v === 'object') created.push(v);
      return undefined;
    } catch (err) {
      return badError(err);
    } finally {
      clearTimeout(timer);
    }
  }
  if (r !== null && typeof r === 'object' && typeof r[Symbol.asyncIterator] === 'function') {
    const it = (r as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    try {
      await Promise.race([it.next(), new Promise((res) => setTimeout(res, SETTLE_MS))]);
      await it.return?.();
      return undefined;
    } catch (err) {
      return badError(err);
    }
  }
  return undefined;
}

/** Own and inherited method names of an instance (not constructor, not accessors). */
function methodsOf(obj: object): string[] {
  const names = new Set<string>();
  for (
    let p = Object.getPrototypeOf(obj);
    p !== null && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, name);
      if (d !== undefined && typeof d.value === 'function') names.add(name);
    }
  }
  // EventEmitter plumbing is eventemitter3's, not ours.
  for (const n of [
    'on',
    'once',
    'off',
    'emit',
    'addListener',
    'removeListener',
    'removeAllListeners',
    'listeners',
    'listenerCount',
    'eventNames',
  ])
    names.delete(n);
  return [...names].sort();
}

/** Call every method of `obj` with every hostile argument list; lifecycle methods last. */
async function walkInstance(
  label: string,
  obj: object,
  failures: string[],
  argLists = HOSTILE,
): Promise<void> {
  const methods = methodsOf(obj);
  const last = ['close', 'stop', 'shutdown'];
  const order = [...methods.filter((m) => !last.includes(m)), ...methods.filter((m) => last.includes(m))];
  for (const m of order) {
    for (const args of argLists) {
      const f = (obj as Record<string, (...a: unknown[]) => unknown>)[m]!;
      const bad = await probe(() => f.apply(obj, args as unknown[]));
      if (bad !== undefined) failures.push(`${label}.${m}(${describeArgs(args)}) → ${bad}`);
    }
  }
}

/** Instances built from valid options, for the classes that need them. */
const VALID: Record<string, () => unknown> = {
  Inventory: () => new api.Inventory({ providers: [] }),
  CheckScheduler: () => new api.CheckScheduler({}),
  MetricsRegistry: () => new api.MetricsRegistry(),
  MemoryMetricsStore: () => new api.MemoryMetricsStore(),
  MemoryInventoryStore: () => new api.MemoryInventoryStore(),
  DDSketch: () => new api.DDSketch(),
  MemoryCheckStateStore: () => new api.MemoryCheckStateStore(),
};

const functions = Object.entries(api).filter(
  ([name, v]) => typeof v === 'function' && !isClass(v) && !NOT_CALLED.has(name),
) as [string, (...args: unknown[]) => unknown][];
const classes = Object.entries(api).filter(([, v]) => isClass(v)) as [
  string,
  new (...args: unknown[]) => object,
][];

/**
 * Exports whose failures belong to another part of issue 12, worked on in parallel (owner noted):
 * expected to fail here until that work lands (or the export leaves the public surface), and the
 * entry is removed then. `it.fails` turns red the moment one starts passing, so this list cannot
 * go stale silently. Each one was a real failure (a TypeError, RangeError, FrameError or
 * DOMException escaping a public call) when this test was written.
 */
const KNOWN_ELSEWHERE = new Map<string, string>([
  ...(['chooseResolution', 'parseSeriesKey', 'seriesKey'] as const).map((n) => [n, 'metrics store'] as const),
  ...(
    [
      'snapshotSeries',
      'wireSeriesKey',
      'parseWireSeriesKey',
      'decodeFrame',
      'readWindowFrame',
      'parseStatsd',
      'listenStatsd',
      'MetricsBroker',
      'FrameError',
      'WindowReader',
    ] as const
  ).map((n) => [n, 'broker'] as const),
  ...(
    [
      'createCheckLookup',
      'testCheck',
      'stateKey',
      'suppressionActive',
      'CheckScheduler',
      'MemoryCheckStateStore',
    ] as const
  ).map((n) => [n, 'checks and query language'] as const),
  ...(['escapeLabelValue', 'DDSketch'] as const).map((n) => [n, 'interop'] as const),
  ...(
    [
      'parseRetryAfterMs',
      'providerRetryDelayMs',
      'redactUrl',
      'ec2EndpointFor',
      'ec2InstanceToNode',
      'ec2NodesFromXml',
      'ec2ElasticIpsFromXml',
      'ec2RegionsFromXml',
      'parseEc2Xml',
      'xmlChild',
      'xmlPath',
      'xmlText',
      'xmlItems',
      'openstackServerToNode',
      'novaNextCursor',
      'keystoneTokensUrl',
      'keystoneVersion',
      'keystoneV2TokensUrl',
      'keystoneV2PasswordBody',
      'keystoneV2ApiKeyBody',
      'keystonePasswordBody',
      'parseCatalog',
      'findEndpoint',
      'catalogRegions',
    ] as const
  ).map((n) => [n, 'providers'] as const),
]);

describe('public API - every throw and rejection is a FleetwatchError with a code', () => {
  it('finds the public API to walk', () => {
    expect(functions.length).toBeGreaterThan(10);
    expect(classes.map(([n]) => n)).toEqual(
      expect.arrayContaining(['MetricsRegistry', 'Inventory', 'MemoryMetricsStore']),
    );
  });

  for (const [name, fn] of functions) {
    const test = KNOWN_ELSEWHERE.has(name) ? it.fails : it;
    test(`${name}() with hostile arguments`, async () => {
      const failures: string[] = [];
      for (const args of HOSTILE) {
        const bad = await probe(() => fn(...args));
        if (bad !== undefined) failures.push(`${name}(${describeArgs(args)}) → ${bad}`);
      }
      // What a function returns may be an object with methods of its own (a provider, a client).
      const made = created.filter((o) => o !== null && typeof o === 'object' && !(o instanceof Promise));
      for (const obj of made.slice(0, 3))
        await walkInstance(`${name}()`, obj as object, failures, HOSTILE.slice(0, 6));
      await cleanup();
      expect(failures).toEqual([]);
    });
  }

  for (const [name, C] of classes) {
    const test = KNOWN_ELSEWHERE.has(name) ? it.fails : it;
    test(`new ${name}() and its methods with hostile arguments`, async () => {
      const failures: string[] = [];
      for (const args of HOSTILE) {
        const bad = await probe(() => new C(...args));
        if (bad !== undefined) failures.push(`new ${name}(${describeArgs(args)}) → ${bad}`);
      }
      for (const s of Object.getOwnPropertyNames(C)) {
        const f = (C as unknown as Record<string, unknown>)[s];
        if (typeof f !== 'function' || ['length', 'name', 'prototype'].includes(s)) continue;
        for (const args of HOSTILE) {
          const bad = await probe(() => (f as (...a: unknown[]) => unknown).apply(C, args as unknown[]));
          if (bad !== undefined) failures.push(`${name}.${s}(${describeArgs(args)}) → ${bad}`);
        }
      }
      const make = VALID[name];
      if (make !== undefined) {
        const obj = make() as object;
        created.push(obj);
        await walkInstance(name, obj, failures);
        // After close/stop every call must still answer with a FleetwatchError.
        await walkInstance(`${name} (closed)`, obj, failures, [[], ['t'], ['t', {}]]);
      }
      await cleanup();
      expect(failures).toEqual([]);
    });
  }
});

describe('public API - E_CLOSED after close, E_ABORTED on abort', () => {
  const NOW = Date.now();

  async function codeOf(p: unknown): Promise<string> {
    try {
      await (typeof p === 'function' ? (p as () => unknown)() : p);
    } catch (err) {
      return err instanceof FleetwatchError ? err.code : `not a FleetwatchError: ${badError(err)}`;
    }
    return 'resolved';
  }

  it('a closed metrics store rejects every call with E_CLOSED', async () => {
    const store = new api.MemoryMetricsStore();
    await store.close();
    const codes = await Promise.all([
      codeOf(() => store.write([{ metric: 'm', ts: NOW, value: 1 }])),
      codeOf(() => store.query({ metric: 'm', from: 0, to: NOW })),
      codeOf(() => store.queryPercentiles({ metric: 'm', from: 0, to: NOW, quantiles: [0.5] })),
    ]);
    expect(codes).toEqual(['E_CLOSED', 'E_CLOSED', 'E_CLOSED']);
  });

  it('a closed inventory store and a closed inventory reject with E_CLOSED', async () => {
    const store = new api.MemoryInventoryStore();
    const inv = new api.Inventory({ providers: [], store });
    await inv.close();
    await store.close();
    expect(
      await Promise.all([
        codeOf(() => store.load('t')),
        codeOf(() => store.setLocalTags('t', 'a:1', { k: 'v' })),
        codeOf(() => store.findByTag('t', 'k')),
        codeOf(() => inv.sync()),
        codeOf(() => inv.setTags('a:1', { k: 'v' })),
      ]),
    ).toEqual(['E_CLOSED', 'E_CLOSED', 'E_CLOSED', 'E_CLOSED', 'E_CLOSED']);
  });

  it('an aborted signal rejects with E_ABORTED', async () => {
    const signal = aborted();
    const store = new api.MemoryMetricsStore();
    const inventoryStore = new api.MemoryInventoryStore();
    const inv = new api.Inventory({ providers: [] });
    const provider = api.staticProvider({ id: 's', nodes: [] });
    const registry = new api.MetricsRegistry();
    const report = registry.reportTo({ intervalMs: 1000, send: () => {} });
    const codes = {
      write: await codeOf(() => store.write([{ metric: 'm', ts: NOW, value: 1 }], { signal })),
      query: await codeOf(() => store.query({ metric: 'm', from: 0, to: NOW, signal })),
      load: await codeOf(() => inventoryStore.load('t', { signal })),
      sync: await codeOf(() => inv.sync({ signal })),
      listNodes: await codeOf(async () => {
        for await (const _ of provider.listNodes({ signal })) break;
      }),
      reportStop: await codeOf(() => report.stop({ signal })),
    };
    await report.stop();
    await store.close();
    await inv.close();
    expect(codes).toEqual({
      write: 'E_ABORTED',
      query: 'E_ABORTED',
      load: 'E_ABORTED',
      sync: 'E_ABORTED',
      listNodes: 'E_ABORTED',
      reportStop: 'E_ABORTED',
    });
  });

  // Resolves with results today (checks and query language part of issue 12).
  it('testCheck() with an aborted signal rejects with E_ABORTED', async () => {
    const def = { id: 'c', type: 'tcp', targets: '127.0.0.1', tcp: { port: 9 } } as const;
    expect(await codeOf(() => api.testCheck(def as never, { signal: aborted() }))).toBe('E_ABORTED');
  });
});
