/**
 * The "done when": an Inventory over every real provider adapter (PROVIDER_KINDS) (served by a local
 * fake-cloud server) syncs, emits exactly the right events when nodes appear, change state, get
 * retagged and vanish, keeps the nodes of a failing provider, and survives a restart with its local
 * tags — on the memory store and on a real Cassandra.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CassandraInventoryStore } from '../../src/cassandra/inventory-store.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { type InventoryStore, MemoryInventoryStore } from '../../src/inventory/inventory-store.js';
import type { InventoryEvents, NodeChangedEvent } from '../../src/inventory/types.js';
import { type KnownProviderKind, PROVIDER_KINDS } from '../../src/providers/types.js';
import {
  contactPoints,
  dropKeyspaces,
  localDataCenter,
  probeCassandra,
  uniqueKeyspace,
} from '../cassandra/cassandra-env.js';
import { describeWithService } from '../helpers/services.js';
import { FakeClouds } from './clouds.js';

const PROVIDER_OF: Record<KnownProviderKind, string> = {
  ec2: 'aws',
  openstack: 'os',
  digitalocean: 'do',
  gce: 'gcp',
  azure: 'az',
  linode: 'lin',
  hetzner: 'hz',
  vultr: 'vu',
  static: 'dc',
};
/** How many adapters the scenario runs (one per kind). */
const N = PROVIDER_KINDS.length;

interface Seen {
  event: keyof InventoryEvents;
  provider: string;
  name?: string;
  change?: NodeChangedEvent;
}

function recorder(inv: Inventory): Seen[] {
  const out: Seen[] = [];
  inv.on('added', (e) => out.push({ event: 'added', provider: e.node.provider, name: e.node.name }));
  inv.on('removed', (e) => out.push({ event: 'removed', provider: e.node.provider, name: e.node.name }));
  inv.on('changed', (e) =>
    out.push({ event: 'changed', provider: e.node.provider, name: e.node.name, change: e }),
  );
  inv.on('error', (e) => out.push({ event: 'error', provider: e.provider ?? '?' }));
  return out;
}

/** Events as sorted `event provider name` strings. */
const summary = (seen: Seen[]) => seen.map((s) => `${s.event} ${s.provider} ${s.name ?? ''}`.trim()).sort();
const forEachProvider = (f: (p: string) => string[]) => Object.values(PROVIDER_OF).flatMap(f).sort();

function scenario(storeName: string, makeStore: () => Promise<InventoryStore>) {
  describe(`Inventory over every provider (${storeName} store)`, () => {
    const clouds = new FakeClouds(() => [
      { name: 'web-a', running: true, tags: { role: 'web' }, n: 1 },
      { name: 'db-b', running: true, tags: { role: 'db' }, n: 2 },
    ]);
    let store: InventoryStore;
    beforeAll(async () => {
      await clouds.start();
      store = await makeStore();
    });
    afterAll(async () => {
      await clouds.close();
      await store?.close();
    });

    it('syncs, follows changes exactly, keeps a failing provider, and survives a restart', async () => {
      const inv = new Inventory({ providers: clouds.providers(), store, tenant: `t_${storeName}` });
      let seen = recorder(inv);

      // 1. nodes appear
      const first = await inv.sync();
      expect(first.providers.map((r) => [r.provider, r.error?.message ?? null, r.nodes])).toEqual(
        Object.values(PROVIDER_OF).map((p) => [p, null, 2]),
      );
      expect(summary(seen)).toEqual(forEachProvider((p) => [`added ${p} db-b`, `added ${p} web-a`]));
      expect(
        inv
          .query('tag:role=web')
          .map((n) => n.kind)
          .sort(),
      ).toEqual([...PROVIDER_KINDS].sort());
      expect(inv.query('state:running').length).toBe(2 * N);
      seen.length = 0;

      // 2. one stops, one is retagged, one appears — in every cloud
      for (const kind of PROVIDER_KINDS) {
        const c = clouds.clouds[kind]!;
        c.servers[0]!.running = false;
        c.servers[1]!.tags = { role: 'cache' };
        c.servers.push({ name: 'new-c', running: true, tags: { role: 'web' }, n: 3 });
      }
      clouds.writeStatic();
      await inv.sync();
      expect(summary(seen)).toEqual(
        forEachProvider((p) => [`added ${p} new-c`, `changed ${p} db-b`, `changed ${p} web-a`]),
      );
      for (const s of seen.filter((x) => x.event === 'changed')) {
        const fields = s.change!.changes.map((c) => c.field);
        if (s.name === 'web-a') {
          expect([s.provider, s.change!.changes.find((c) => c.field === 'state')]).toEqual([
            s.provider,
            { field: 'state', before: 'running', after: 'stopped' },
          ]);
          expect([s.provider, fields.filter((f) => f.startsWith('tags.'))]).toEqual([s.provider, []]);
        } else {
          expect([s.provider, s.change!.changes]).toEqual([
            s.provider,
            [{ field: 'tags.role', before: 'db', after: 'cache' }],
          ]);
        }
      }
      expect(inv.query('state:stopped').map((n) => n.name)).toEqual(Array(N).fill('web-a'));
      seen.length = 0;

      // 3. local tags on one node of every provider
      for (const n of inv.query('name:db-b')) await inv.setTags(n.uid, { owner: 'ops', role: 'primary' });
      expect(inv.query('tag:role=primary and localtag:owner=ops').length).toBe(N);
      expect(inv.query('providertag:role=cache').length).toBe(N);
      expect(seen.length).toBe(N);
      seen.length = 0;

      // 4. new-c vanishes everywhere while DigitalOcean is down
      for (const kind of PROVIDER_KINDS) clouds.clouds[kind]!.servers.pop();
      clouds.clouds.digitalocean.down = true;
      clouds.writeStatic();
      const third = await inv.sync();
      expect(third.providers.filter((r) => r.error).map((r) => [r.provider, r.error!.code])).toEqual([
        ['do', 'E_PROVIDER'],
      ]);
      expect(summary(seen)).toEqual(
        [...forEachProvider((p) => (p === 'do' ? [] : [`removed ${p} new-c`])), 'error do'].sort(),
      );
      const kept = inv.query('provider:do');
      expect(kept.map((n) => [n.name, n.stale]).sort()).toEqual([
        ['db-b', true],
        ['new-c', true],
        ['web-a', true],
      ]);
      expect(inv.query('not provider:do').every((n) => !n.stale)).toBe(true);

      // 5. restart on the same store: nodes and local tags come back, without events
      const restarted = new Inventory({ providers: clouds.providers(), store, tenant: `t_${storeName}` });
      seen = recorder(restarted);
      await restarted.load();
      expect(restarted.size).toBe(2 * N + 1);
      expect(restarted.query('localtag:owner=ops and tag:role=primary').map((n) => n.name)).toEqual(
        Array(N).fill('db-b'),
      );
      expect(restarted.query('provider:do').every((n) => n.stale)).toBe(true);
      expect(seen).toEqual([]);

      // 6. DigitalOcean is back: its vanished node goes, its nodes are fresh again, nothing else moves
      clouds.clouds.digitalocean.down = false;
      const fourth = await restarted.sync();
      expect(fourth.ok).toBe(true);
      expect(summary(seen)).toEqual(['removed do new-c']);
      expect(restarted.size).toBe(2 * N);
      expect(restarted.query('provider:do').some((n) => n.stale)).toBe(false);
      expect(restarted.get(restarted.query('provider:do name:db-b')[0]!.uid)!.localTags).toEqual({
        owner: 'ops',
        role: 'primary',
      });
    });
  });
}

scenario('memory', async () => new MemoryInventoryStore());

const keyspace = uniqueKeyspace('inventory_seven');
const reason = await probeCassandra();
describeWithService('seven providers on Cassandra', reason, () => {
  afterAll(async () => {
    await dropKeyspaces([keyspace]);
  });
  scenario('cassandra', () => CassandraInventoryStore.connect({ contactPoints, localDataCenter, keyspace }));
});
