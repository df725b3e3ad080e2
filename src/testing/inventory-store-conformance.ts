/**
 * The InventoryStore contract. Every implementation runs it:
 * `inventoryStoreConformance('memory', async () => ({ store: new MemoryInventoryStore() }))`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetwatchError } from '../errors.js';
import type { InventoryStore, StoredNode } from '../inventory/inventory-store.js';
import type { Node } from '../providers/types.js';

/** What a factory returns: the store and how to clean up after the suite. */
export interface StoreUnderTest {
  /** A fresh, empty store to test. */
  store: InventoryStore;
  /** Called after the test, once the suite has closed the store (drop a keyspace, delete files). */
  cleanup?: () => Promise<void>;
}

function node(provider: string, id: string, over: Partial<Node> = {}): Node {
  return {
    uid: `${provider}:${id}`,
    id,
    name: `node ${id}`,
    provider,
    kind: 'static',
    state: 'running',
    rawState: 'active',
    region: 'r1',
    publicIps: ['1.2.3.4'],
    privateIps: ['10.0.0.1', 'fe80::1'],
    size: 's',
    image: 'img',
    createdAt: new Date('2026-01-02T03:04:05.678Z'),
    tags: { role: 'web', 'ünï cödé': 'värde with spaces' },
    extra: { vpc: 'vpc-1', n: 3, nested: { ok: true } },
    ...over,
  };
}

const stored = (n: Node, over: Partial<StoredNode> = {}): StoredNode => ({ node: n, stale: false, ...over });
const byUid = (a: StoredNode, b: StoredNode) => a.node.uid.localeCompare(b.node.uid);

/** Run the conformance suite against stores from `factory` (called once per suite). */
export function inventoryStoreConformance(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`InventoryStore conformance: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: InventoryStore;
    let n = 0;
    const tenant = () => `t${++n}`;

    beforeAll(async () => {
      sut = await factory();
      store = sut.store;
    });
    afterAll(async () => {
      await store?.close();
      await sut?.cleanup?.();
    });

    it('load() of an unknown tenant is empty', async () => {
      const snap = await store.load(tenant());
      expect(snap.nodes).toEqual([]);
      expect(snap.localTags.size).toBe(0);
    });

    it('putNodes() then load() round-trips every node field and staleness', async () => {
      const t = tenant();
      const a = node('p1', 'a');
      const b = node('p2', 'b', { region: undefined, zone: 'z', createdAt: undefined, tags: {} });
      await store.putNodes(t, [
        stored(a),
        stored(b, { stale: true, staleSince: 1_700_000_000_000, staleReason: 'E_TIMEOUT: slow' }),
      ]);
      const snap = await store.load(t);
      const expectedB: Node = { ...b };
      delete expectedB.region;
      delete expectedB.createdAt;
      expect(snap.nodes.sort(byUid)).toEqual([
        { node: a, stale: false },
        { node: expectedB, stale: true, staleSince: 1_700_000_000_000, staleReason: 'E_TIMEOUT: slow' },
      ]);
      expect(snap.nodes[0]!.node.createdAt).toBeInstanceOf(Date);
    });

    it('putNodes() replaces a node by uid and tenants are isolated', async () => {
      const t1 = tenant();
      const t2 = tenant();
      await store.putNodes(t1, [stored(node('p', 'x'))]);
      await store.putNodes(t1, [stored(node('p', 'x', { state: 'stopped', tags: { role: 'db' } }))]);
      const snap = await store.load(t1);
      expect(snap.nodes.map((s) => [s.node.uid, s.node.state, s.node.tags])).toEqual([
        ['p:x', 'stopped', { role: 'db' }],
      ]);
      expect((await store.load(t2)).nodes).toEqual([]);
    });

    it('setLocalTags() merges, removeLocalTags() removes, both return the result', async () => {
      const t = tenant();
      await store.putNodes(t, [stored(node('p', 'x'))]);
      expect(await store.setLocalTags(t, 'p:x', { owner: 'ops', tier: '1' })).toEqual({
        owner: 'ops',
        tier: '1',
      });
      expect(await store.setLocalTags(t, 'p:x', { tier: '2', 'clé ü': 'v w' })).toEqual({
        owner: 'ops',
        tier: '2',
        'clé ü': 'v w',
      });
      expect(await store.removeLocalTags(t, 'p:x', ['owner', 'missing'])).toEqual({
        tier: '2',
        'clé ü': 'v w',
      });
      const snap = await store.load(t);
      expect(Object.fromEntries(snap.localTags)).toEqual({ 'p:x': { tier: '2', 'clé ü': 'v w' } });
    });

    it('keeps local tags of a uid that has no stored node yet', async () => {
      const t = tenant();
      await store.setLocalTags(t, 'p:later', { owner: 'dev' });
      const snap = await store.load(t);
      expect(snap.nodes).toEqual([]);
      expect(snap.localTags.get('p:later')).toEqual({ owner: 'dev' });
    });

    it('removeNodes() deletes nodes and their local tags, ignoring unknown uids', async () => {
      const t = tenant();
      await store.putNodes(t, [stored(node('p', 'a')), stored(node('p', 'b'))]);
      await store.setLocalTags(t, 'p:a', { owner: 'x' });
      await store.removeNodes(t, ['p:a', 'p:nope']);
      const snap = await store.load(t);
      expect(snap.nodes.map((s) => s.node.uid)).toEqual(['p:b']);
      expect(snap.localTags.has('p:a')).toBe(false);
    });

    it('findByTag() answers from merged tags (local overriding provider) and follows every change', async () => {
      const t = tenant();
      await store.putNodes(t, [
        stored(node('p', 'a', { tags: { role: 'web' } })),
        stored(node('p', 'b', { tags: { role: 'db' } })),
        stored(node('q', 'c', { tags: {} })),
      ]);
      expect(await store.findByTag(t, 'role')).toEqual(['p:a', 'p:b']);
      expect(await store.findByTag(t, 'role', 'web')).toEqual(['p:a']);
      await store.setLocalTags(t, 'p:a', { role: 'db' });
      await store.setLocalTags(t, 'q:c', { role: 'web', owner: 'ops' });
      expect(await store.findByTag(t, 'role', 'db')).toEqual(['p:a', 'p:b']);
      expect(await store.findByTag(t, 'role', 'web')).toEqual(['q:c']);
      await store.removeLocalTags(t, 'p:a', ['role']);
      expect(await store.findByTag(t, 'role', 'web')).toEqual(['p:a', 'q:c']);
      await store.putNodes(t, [stored(node('p', 'b', { tags: { env: 'prod' } }))]);
      expect(await store.findByTag(t, 'role')).toEqual(['p:a', 'q:c']);
      expect(await store.findByTag(t, 'env', 'prod')).toEqual(['p:b']);
      await store.removeNodes(t, ['q:c']);
      expect(await store.findByTag(t, 'owner')).toEqual([]);
      expect(await store.findByTag(t, 'role')).toEqual(['p:a']);
    });

    it('handles thousands of nodes in one call, with the index following', async () => {
      const t = tenant();
      const many = Array.from({ length: 2500 }, (_, i) =>
        stored(node('bulk', `n${i}`, { tags: { role: i % 2 === 0 ? 'web' : 'db', shard: `s${i % 5}` } })),
      );
      await store.putNodes(t, many);
      expect((await store.load(t)).nodes.length).toBe(2500);
      expect((await store.findByTag(t, 'role', 'web')).length).toBe(1250);
      await store.removeNodes(
        t,
        many.filter((_, i) => i % 4 === 0).map((s) => s.node.uid),
      );
      await store.putNodes(
        t,
        many.filter((_, i) => i % 4 === 1).map((s) => stored({ ...s.node, tags: { role: 'cache' } })),
      );
      const snap = await store.load(t);
      expect(snap.nodes.length).toBe(1875);
      expect((await store.findByTag(t, 'role', 'web')).length).toBe(625);
      expect((await store.findByTag(t, 'role', 'db')).length).toBe(625);
      expect((await store.findByTag(t, 'role', 'cache')).length).toBe(625);
      expect((await store.findByTag(t, 'shard')).length).toBe(1250);
    });

    it('stores odd provider tags (empty key, empty value) and indexes empty values', async () => {
      const t = tenant();
      const odd = node('p', 'odd', { tags: { '': 'x', flag: '' } });
      await store.putNodes(t, [stored(odd)]);
      expect((await store.load(t)).nodes[0]!.node.tags).toEqual({ '': 'x', flag: '' });
      expect(await store.findByTag(t, 'flag', '')).toEqual(['p:odd']);
      await expect(store.findByTag(t, '')).rejects.toMatchObject({ code: 'E_VALIDATION', path: 'key' });
    });

    it('rejects an invalid tenant with E_VALIDATION naming tenant', async () => {
      await expect(store.load('bad tenant!')).rejects.toMatchObject({ code: 'E_VALIDATION', path: 'tenant' });
    });

    it('honours an aborted signal with E_ABORTED', async () => {
      const ac = new AbortController();
      ac.abort();
      await expect(store.load(tenant(), { signal: ac.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
    });

    it('rejects every call after close() with E_CLOSED; close() is idempotent', async () => {
      const other = await factory();
      await other.store.close();
      await other.store.close();
      const s = other.store;
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['load', () => s.load('t')],
        ['putNodes', () => s.putNodes('t', [])],
        ['removeNodes', () => s.removeNodes('t', ['a:1'])],
        ['setLocalTags', () => s.setLocalTags('t', 'a:1', { k: 'v' })],
        ['removeLocalTags', () => s.removeLocalTags('t', 'a:1', ['k'])],
        ['findByTag', () => s.findByTag('t', 'k')],
        ['load with a bad tenant', () => s.load('bad tenant!')],
      ];
      for (const [what, call] of calls) {
        const err = await call().catch((e: unknown) => e);
        expect(err, what).toBeInstanceOf(FleetwatchError);
        expect([what, (err as FleetwatchError).code]).toEqual([what, 'E_CLOSED']);
      }
      await other.cleanup?.();
    });

    it('local tags follow the node tag rules (docs/naming.md): dotted keys and empty values kept, __proto__ and control characters refused', async () => {
      const t = tenant();
      await expect(store.setLocalTags(t, 'a:1', { 'host.name': 'web 1', empty: '' })).resolves.toEqual({
        'host.name': 'web 1',
        empty: '',
      });
      const proto = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
      await expect(store.setLocalTags(t, 'a:1', proto)).rejects.toMatchObject({
        code: 'E_VALIDATION',
        path: 'tags.__proto__',
      });
      await expect(store.setLocalTags(t, 'a:1', { k: 'line\nbreak' })).rejects.toMatchObject({
        code: 'E_VALIDATION',
        path: 'tags.k',
      });
      await expect(store.setLocalTags(t, 'a:1', { ['k'.repeat(257)]: 'v' })).rejects.toMatchObject({
        code: 'E_VALIDATION',
      });
      expect((await store.load(t)).localTags.get('a:1')).toEqual({ 'host.name': 'web 1', empty: '' });
    });
  });
}
