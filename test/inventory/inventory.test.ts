import { afterEach, describe, expect, it, vi } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { MemoryInventoryStore } from '../../src/inventory/inventory-store.js';
import type { InventoryChange, InventoryEvents, SyncProgressEvent } from '../../src/inventory/types.js';
import type { ListNodesOptions, Node, Provider } from '../../src/providers/types.js';
import { ArrayProvider, HangingProvider, makeNode, TaggableProvider } from './providers.js';

type Recorded = { event: keyof InventoryEvents; uid?: string; fields?: string[] };

/** Record node events as compact tuples, in order. */
function record(inv: Inventory): Recorded[] {
  const out: Recorded[] = [];
  inv.on('added', (e) => out.push({ event: 'added', uid: e.node.uid }));
  inv.on('removed', (e) => out.push({ event: 'removed', uid: e.node.uid }));
  inv.on('changed', (e) =>
    out.push({ event: 'changed', uid: e.node.uid, fields: e.changes.map((c) => c.field) }),
  );
  inv.on('error', (e) => out.push({ event: 'error', uid: e.provider }));
  return out;
}

class FakeClock {
  t = 1_000_000;
  now = () => this.t;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('new Inventory()', () => {
  it('rejects duplicate provider ids, unknown options and bad numbers with E_VALIDATION naming the field', () => {
    const p = new ArrayProvider('p');
    const bad = (o: unknown) => {
      try {
        new Inventory(o as never);
      } catch (err) {
        expect((err as FleetwatchError).code).toBe('E_VALIDATION');
        return (err as FleetwatchError).path;
      }
      return 'no error';
    };
    expect(bad({ providers: [p, new ArrayProvider('p')] })).toBe('options.providers[1].id');
    expect(bad({ providers: [p], bogus: 1 })).toBe('options.bogus');
    expect(bad({ providers: [p], concurrency: 0 })).toBe('options.concurrency');
    expect(bad({ providers: [p], tenant: 'a b' })).toBe('options.tenant');
    expect(bad({ providers: 'p' })).toBe('options.providers');
  });
});

describe('inv.sync()', () => {
  it('emits exactly the right events as nodes appear, change state, get retagged and vanish', async () => {
    const a = new ArrayProvider('a', 'ec2');
    const b = new ArrayProvider('b', 'gce');
    a.add('1', { tags: { role: 'web' } });
    a.add('2');
    b.add('x', { state: 'pending', rawState: 'PROVISIONING' });
    const inv = new Inventory({ providers: [a, b] });
    const events = record(inv);

    const first = await inv.sync();
    expect(first.ok).toBe(true);
    expect(first.providers.map((r) => [r.provider, r.nodes, r.added, r.changed, r.removed])).toEqual([
      ['a', 2, 2, 0, 0],
      ['b', 1, 1, 0, 0],
    ]);
    expect(events.map((e) => `${e.event} ${e.uid}`).sort()).toEqual(['added a:1', 'added a:2', 'added b:x']);
    events.length = 0;

    b.setState('x', 'running');
    a.update('1', { tags: { role: 'db', env: 'prod' } });
    a.delete('2');
    a.add('3');
    const second = await inv.sync();
    expect(second.providers.map((r) => [r.added, r.changed, r.removed])).toEqual([
      [1, 1, 1],
      [0, 1, 0],
    ]);
    const sorted = [...events].sort((x, y) => `${x.uid}${x.event}`.localeCompare(`${y.uid}${y.event}`));
    expect(sorted).toEqual([
      { event: 'changed', uid: 'a:1', fields: ['tags.role', 'tags.env'] },
      { event: 'removed', uid: 'a:2' },
      { event: 'added', uid: 'a:3' },
      { event: 'changed', uid: 'b:x', fields: ['state', 'rawState'] },
    ]);
    events.length = 0;

    await inv.sync();
    expect(events).toEqual([]);
    expect(inv.query('provider:a').map((n) => n.uid)).toEqual(['a:1', 'a:3']);
    expect(inv.query('tag:role=db and kind:ec2').map((n) => n.uid)).toEqual(['a:1']);
  });

  it('reports before and after values in changed events', async () => {
    const a = new ArrayProvider('a');
    a.add('1', { publicIps: ['1.1.1.1'] });
    const inv = new Inventory({ providers: [a] });
    await inv.sync();
    const seen: InventoryChange[] = [];
    inv.on('changed', (e) => seen.push(e));
    a.update('1', { publicIps: ['2.2.2.2'], name: 'renamed' });
    await inv.sync();
    expect(seen).toHaveLength(1);
    const ev = seen[0]!;
    expect(ev.type === 'changed' && ev.changes).toEqual([
      { field: 'name', before: '1', after: 'renamed' },
      { field: 'publicIps', before: ['1.1.1.1'], after: ['2.2.2.2'] },
    ]);
    expect(ev.type === 'changed' && ev.previous.name).toBe('1');
    expect(ev.node.name).toBe('renamed');
  });

  it('keeps the nodes of a failing provider, marked stale, reports and emits the error, and recovers', async () => {
    const a = new ArrayProvider('a');
    const b = new ArrayProvider('b');
    a.add('1');
    a.add('2');
    a.add('3');
    b.add('x');
    const clock = new FakeClock();
    const inv = new Inventory({ providers: [a, b], clock });
    await inv.sync();
    const events = record(inv);

    a.fail = new Error('503 from the API');
    a.delete('3');
    b.setState('x', 'stopped');
    clock.t += 5000;
    const report = await inv.sync();
    expect(report.ok).toBe(false);
    expect(report.providers[0]!.error).toMatchObject({ code: 'E_PROVIDER', provider: 'a' });
    expect(report.providers[1]!.error).toBeUndefined();
    expect(events).toHaveLength(2);
    expect(events).toEqual(
      expect.arrayContaining([
        { event: 'error', uid: 'a' },
        { event: 'changed', uid: 'b:x', fields: ['state', 'rawState'] },
      ]),
    );
    const kept = inv.query('provider:a');
    expect(kept.map((n) => [n.uid, n.stale, n.staleSince])).toEqual([
      ['a:1', true, 1_005_000],
      ['a:2', true, 1_005_000],
      ['a:3', true, 1_005_000],
    ]);
    expect(kept[0]!.staleReason).toContain('E_PROVIDER');
    expect(inv.get('b:x')!.stale).toBe(false);
    expect(inv.providerStatus()[0]).toMatchObject({ provider: 'a', lastSuccessAt: 1_000_000, nodes: 3 });

    events.length = 0;
    a.fail = undefined;
    await inv.sync();
    expect(events).toEqual([{ event: 'removed', uid: 'a:3' }]);
    expect(inv.query('provider:a').map((n) => [n.uid, n.stale])).toEqual([
      ['a:1', false],
      ['a:2', false],
    ]);
  });

  it('marks nodes stale only after staleAfterMs since the last success', async () => {
    const a = new ArrayProvider('a');
    a.add('1');
    const clock = new FakeClock();
    const inv = new Inventory({ providers: [a], clock, staleAfterMs: 60_000 });
    await inv.sync();
    a.fail = new Error('flaky');
    clock.t += 30_000;
    await inv.sync();
    expect(inv.get('a:1')!.stale).toBe(false);
    clock.t += 30_000;
    await inv.sync();
    expect(inv.get('a:1')!.stale).toBe(true);
  });

  it('times out a provider that ignores its signal with E_TIMEOUT and keeps its nodes', async () => {
    const hanging = new HangingProvider('h');
    const a = new ArrayProvider('a');
    a.add('1');
    const inv = new Inventory({ providers: [hanging, a], providerTimeoutMs: 30 });
    const report = await inv.sync();
    expect(report.providers[0]!.error).toMatchObject({ code: 'E_TIMEOUT', provider: 'h' });
    expect(inv.query('').map((n) => n.uid)).toEqual(['a:1']);
  });

  it('gives each provider its own deadline with providerTimeouts', async () => {
    const inv = new Inventory({
      providers: [new HangingProvider('h')],
      providerTimeoutMs: 600_000,
      providerTimeouts: { h: 20 },
    });
    const report = await inv.sync();
    expect(report.providers[0]!.error).toMatchObject({ code: 'E_TIMEOUT', provider: 'h' });
    expect(report.providers[0]!.error!.message).toContain('20 ms');
    expect(() => new Inventory({ providers: [], providerTimeouts: { nope: 1 } })).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'options.providerTimeouts.nope' }),
    );
  });

  it('rejects with E_ABORTED when its signal fires, applying providers that finished', async () => {
    const hanging = new HangingProvider('h');
    const a = new ArrayProvider('a');
    a.add('1');
    const inv = new Inventory({ providers: [a, hanging], concurrency: 1 });
    const ac = new AbortController();
    inv.on('progress', (e) => {
      if (e.provider === 'a' && e.providersDone === 1) ac.abort();
    });
    await expect(inv.sync({ signal: ac.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(inv.get('a:1')?.stale).toBe(false);
  });

  it('lists at most `concurrency` providers at once and joins a sync already running', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = (id: string): Provider => ({
      id,
      kind: 'static',
      async *listNodes() {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
        inFlight--;
        yield makeNode(id, 'n');
      },
      getNode: async () => undefined,
    });
    const inv = new Inventory({ providers: ['p1', 'p2', 'p3', 'p4', 'p5'].map(slow), concurrency: 2 });
    const [r1, r2] = await Promise.all([inv.sync(), inv.sync()]);
    expect(r1).toBe(r2);
    expect(maxInFlight).toBe(2);
    expect(inv.size).toBe(5);
  });

  it('emits progress per page with running counts', async () => {
    const a = new ArrayProvider('a');
    a.pageSize = 2;
    for (const id of ['1', '2', '3', '4', '5']) a.add(id);
    const inv = new Inventory({ providers: [a] });
    const progress: SyncProgressEvent[] = [];
    inv.on('progress', (e) => progress.push(e));
    const report = await inv.sync();
    expect(report.providers[0]!.pages).toBe(3);
    expect(progress.map((p) => [p.pages, p.nodes, p.providersDone])).toEqual([
      [1, 0, 0],
      [2, 2, 0],
      [3, 4, 0],
      [3, 5, 1],
    ]);
  });

  it('reports a store failure for the provider without emitting or applying anything', async () => {
    const store = new MemoryInventoryStore();
    const a = new ArrayProvider('a');
    a.add('1');
    const inv = new Inventory({ providers: [a], store });
    await inv.sync();
    a.add('2');
    const broken = vi.spyOn(store, 'putNodes').mockRejectedValueOnce(new Error('disk full'));
    const events = record(inv);
    const report = await inv.sync();
    expect(report.providers[0]!.error?.code).toBe('E_STORE_UNAVAILABLE');
    expect(inv.get('a:2')).toBeUndefined();
    expect(inv.get('a:1')!.stale).toBe(false);
    expect(events).toEqual([{ event: 'error', uid: 'a' }]);
    expect(events.filter((e) => e.event !== 'error')).toEqual([]);
    broken.mockRestore();
    await inv.sync();
    expect(inv.get('a:2')).toBeDefined();
  });

  it('keeps syncing when an event listener throws, logging it', async () => {
    const a = new ArrayProvider('a');
    a.add('1');
    a.add('2');
    const errors: Array<Record<string, unknown>> = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (o: Record<string, unknown>) => errors.push(o),
    };
    const inv = new Inventory({ providers: [a], logger });
    const added: string[] = [];
    inv.on('added', (e) => {
      added.push(e.node.uid);
      throw new Error('listener bug');
    });
    const report = await inv.sync();
    expect(report.ok).toBe(true);
    expect(added).toEqual(['a:1', 'a:2']);
    expect(inv.size).toBe(2);
    expect(errors.map((e) => e.uid)).toEqual(['a:1', 'a:2']);
  });

  it('rejects a provider that lists something that is not a node', async () => {
    const bad: Provider = {
      id: 'bad',
      kind: 'static',
      async *listNodes(_o?: ListNodesOptions) {
        yield { uid: 1 } as unknown as Node;
      },
      getNode: async () => undefined,
    };
    const inv = new Inventory({ providers: [bad] });
    const report = await inv.sync();
    expect(report.providers[0]!.error?.code).toBe('E_MALFORMED_RESPONSE');
  });
});

describe('inv.setTags() / removeTags()', () => {
  it('keeps local tags beside provider tags, merges them for tag: queries, across syncs and restarts', async () => {
    const store = new MemoryInventoryStore();
    const a = new ArrayProvider('a');
    a.add('1', { tags: { role: 'web', env: 'prod' } });
    const inv = new Inventory({ providers: [a], store });
    await inv.sync();
    const events = record(inv);
    const node = await inv.setTags('a:1', { owner: 'ops', env: 'staging' });
    expect(node.tags).toEqual({ role: 'web', env: 'prod' });
    expect(node.localTags).toEqual({ owner: 'ops', env: 'staging' });
    expect(node.mergedTags).toEqual({ role: 'web', env: 'staging', owner: 'ops' });
    expect(events).toEqual([{ event: 'changed', uid: 'a:1', fields: ['localTags.owner', 'localTags.env'] }]);
    expect(inv.query('tag:env=staging and tag:owner=ops').map((n) => n.uid)).toEqual(['a:1']);
    expect(inv.query('providertag:env=prod').map((n) => n.uid)).toEqual(['a:1']);

    a.update('1', { state: 'stopped' });
    await inv.sync();
    expect(inv.get('a:1')!.localTags).toEqual({ owner: 'ops', env: 'staging' });

    const restarted = new Inventory({ providers: [a], store });
    const after = record(restarted);
    await restarted.load();
    expect(restarted.get('a:1')).toMatchObject({
      state: 'stopped',
      localTags: { owner: 'ops', env: 'staging' },
    });
    await restarted.sync();
    expect(after).toEqual([]);

    await restarted.removeTags('a:1', ['env']);
    expect(restarted.get('a:1')!.mergedTags).toEqual({ role: 'web', env: 'prod', owner: 'ops' });
    expect((await store.load('default')).localTags.get('a:1')).toEqual({ owner: 'ops' });
  });

  it('rejects an unknown uid with E_NOT_FOUND and bad tags with E_VALIDATION', async () => {
    const a = new ArrayProvider('a');
    a.add('1');
    const inv = new Inventory({ providers: [a] });
    await inv.sync();
    await expect(inv.setTags('a:nope', { x: '1' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    await expect(inv.setTags('a:1', { x: 1 } as never)).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'tags.x',
    });
  });

  it('drops local tags of a node once it is removed', async () => {
    const store = new MemoryInventoryStore();
    const a = new ArrayProvider('a');
    a.add('1');
    const inv = new Inventory({ providers: [a], store });
    await inv.sync();
    await inv.setTags('a:1', { owner: 'ops' });
    a.delete('1');
    await inv.sync();
    expect((await store.load('default')).localTags.size).toBe(0);
  });

  it('with writeThrough pushes the full local tag set to provider.setTags', async () => {
    const a = new TaggableProvider('a');
    a.add('1', { tags: { role: 'web' } });
    const inv = new Inventory({ providers: [a], writeThrough: true });
    await inv.sync();
    await inv.setTags('a:1', { owner: 'ops' });
    await inv.setTags('a:1', { tier: '1' });
    expect(a.setTagsCalls).toEqual([
      { id: '1', tags: { owner: 'ops' } },
      { id: '1', tags: { owner: 'ops', tier: '1' } },
    ]);
    const events = record(inv);
    await inv.sync();
    expect(events).toEqual([{ event: 'changed', uid: 'a:1', fields: ['tags.owner', 'tags.tier'] }]);
    await inv.removeTags('a:1', ['tier']);
    expect(a.nodes[0]!.tags).toEqual({ role: 'web', owner: 'ops' });
  });

  it('with writeThrough, a provider failure rejects and leaves local tags unchanged', async () => {
    const a = new TaggableProvider('a');
    a.add('1');
    a.setTags = async () => {
      throw new FleetwatchError('E_AUTH', 'forbidden', { provider: 'a' });
    };
    const store = new MemoryInventoryStore();
    const inv = new Inventory({ providers: [a], writeThrough: true, store });
    await inv.sync();
    await expect(inv.setTags('a:1', { owner: 'ops' })).rejects.toMatchObject({ code: 'E_AUTH' });
    expect(inv.get('a:1')!.localTags).toEqual({});
    expect((await store.load('default')).localTags.size).toBe(0);
  });

  it('restores only nodes of configured providers from the store', async () => {
    const store = new MemoryInventoryStore();
    const a = new ArrayProvider('a');
    const b = new ArrayProvider('b');
    a.add('1');
    b.add('2');
    await new Inventory({ providers: [a, b], store }).sync();
    const onlyA = new Inventory({ providers: [a], store });
    await onlyA.load();
    expect(onlyA.nodes().map((n) => n.uid)).toEqual(['a:1']);
  });

  it('without writeThrough never calls the provider', async () => {
    const a = new TaggableProvider('a');
    a.add('1');
    const inv = new Inventory({ providers: [a] });
    await inv.sync();
    await inv.setTags('a:1', { owner: 'ops' });
    expect(a.setTagsCalls).toEqual([]);
  });
});

describe('inv.watch()', () => {
  it('yields the changes of matching nodes (before or after), and return() unsubscribes', async () => {
    const a = new ArrayProvider('a');
    a.add('web1', { tags: { role: 'web' } });
    a.add('db1', { tags: { role: 'db' } });
    const inv = new Inventory({ providers: [a] });
    const it = inv.watch('tag:role=web');
    await inv.sync();
    a.update('web1', { tags: { role: 'db' } });
    a.setState('db1', 'stopped');
    await inv.sync();
    const got: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await it.next();
      const v = r.value as InventoryChange;
      got.push(`${v.type} ${v.node.uid}`);
    }
    expect(got).toEqual(['added a:web1', 'changed a:web1']);
    expect(inv.watcherCount).toBe(1);
    await it.return?.();
    expect(inv.watcherCount).toBe(0);
    expect((await it.next()).done).toBe(true);
  });

  it('drops the oldest changes past bufferSize and says how many', async () => {
    const a = new ArrayProvider('a');
    for (const id of ['1', '2', '3', '4', '5']) a.add(id);
    const inv = new Inventory({ providers: [a] });
    const it = inv.watch('', { bufferSize: 2 });
    await inv.sync();
    expect((await it.next()).value).toEqual({ type: 'overflow', dropped: 3 });
    expect(((await it.next()).value as InventoryChange).node.uid).toBe('a:4');
    expect(((await it.next()).value as InventoryChange).node.uid).toBe('a:5');
  });

  it('ends with E_ABORTED when its signal fires while waiting', async () => {
    const inv = new Inventory({ providers: [] });
    const ac = new AbortController();
    const it = inv.watch('', { signal: ac.signal });
    const pending = it.next();
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(inv.watcherCount).toBe(0);
  });
});

describe('inv.start() / stop()', () => {
  it('syncs at once and then every intervalMs, until stop()', async () => {
    vi.useFakeTimers();
    const a = new ArrayProvider('a');
    const inv = new Inventory({ providers: [a] });
    const synced = vi.fn();
    inv.on('synced', synced);
    inv.start({ intervalMs: 1000, jitter: 0 });
    await vi.advanceTimersByTimeAsync(10);
    expect(a.listings).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(a.listings).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(a.listings).toBe(4);
    await inv.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(a.listings).toBe(4);
    expect(synced).toHaveBeenCalledTimes(4);
    await inv.stop();
  });

  it('spreads intervals by the jitter', async () => {
    vi.useFakeTimers();
    const a = new ArrayProvider('a');
    const inv = new Inventory({ providers: [a] });
    inv.start({ intervalMs: 1000, jitter: 0.5, random: () => 0 });
    await vi.advanceTimersByTimeAsync(10);
    await vi.advanceTimersByTimeAsync(500);
    expect(a.listings).toBe(2);
    await inv.close();
    await expect(inv.sync()).rejects.toMatchObject({ code: 'E_CLOSED' });
  });
});

describe('InventoryEvents typing', () => {
  it('types event names and payloads (checked by tsc)', () => {
    const inv = new Inventory({ providers: [] });
    const fields: string[] = [];
    inv.on('changed', (e) => {
      fields.push(e.changes[0]!.field, e.previous.uid);
    });
    inv.on('synced', (r) => {
      fields.push(String(r.ok));
    });
    // @ts-expect-error: not an inventory event
    inv.on('nope', () => {});
    // @ts-expect-error: 'added' carries an event object, not a string
    inv.on('added', (e: string) => fields.push(e));
    expect(inv.listenerCount('changed')).toBe(1);
    expect(inv.listenerCount('synced')).toBe(1);
  });
});
