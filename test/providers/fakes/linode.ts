import { linode } from '../../../src/providers/linode.js';
import type { ManagedProvider } from '../../../src/providers/types.js';
import { virtualTime } from '../management-fixtures.js';
import {
  type RecordedRequest,
  type ReplayResponse,
  type ReplayServer,
  startReplayServer,
} from '../server.js';

type Event = { id: number; entity: number; action: string; status: string; message?: string; polls: number };

/**
 * A small stateful Linode API v4 written from techdocs.akamai.com/linode-api: instances, power
 * actions that record an event finishing after `eventPolls` polls (a Linode labelled `fail-*` fails
 * them with a message), profile SSH keys and the catalogue lists (30 public images and one private,
 * paged by `page_size`). A Linode created with an image is `provisioning` and, as the real one,
 * boots on its own: `running` from its `eventPolls`-th read (one labelled `slow*` never does).
 */
export class FakeLinode {
  linodes = new Map<number, Record<string, unknown>>();
  events: Event[] = [];
  keys = [{ id: 1, label: 'ops', ssh_key: 'ssh-ed25519 AAAAops ops', created: '2024-01-01T00:00:00' }];
  eventPolls = 2;
  images = [
    ...Array.from({ length: 30 }, (_, i) => ({
      id: `linode/distro${i}`,
      label: `Distro ${i}`,
      vendor: 'Debian',
      is_public: true,
      created: '2024-01-01T00:00:00',
    })),
    { id: 'private/77', label: 'my-golden', vendor: null, is_public: false, created: '2025-01-01T00:00:00' },
  ];
  readonly #reads = new Map<number, number>();
  #nextId = 100;

  handle = (req: RecordedRequest): ReplayResponse => {
    const u = new URL(req.url, 'http://x');
    const path = u.pathname.replace(/^\/v4\//, '');
    const body = req.body ? JSON.parse(req.body) : {};
    const list = (data: unknown[]) => ({ body: { data, page: 1, pages: 1, results: data.length } });
    if (path === 'regions')
      return list([{ id: 'eu-central', label: 'Frankfurt, DE', country: 'de', status: 'ok' }]);
    if (path === 'images') {
      const f = req.headers['x-filter'] ? JSON.parse(String(req.headers['x-filter'])) : {};
      const all = this.images.filter((i) => f.is_public === undefined || i.is_public === f.is_public);
      const size = Number(u.searchParams.get('page_size') ?? 100);
      const page = Number(u.searchParams.get('page') ?? 1);
      const data = all.slice((page - 1) * size, page * size);
      return { body: { data, page, pages: Math.max(1, Math.ceil(all.length / size)), results: all.length } };
    }
    if (path === 'linode/types')
      return list([
        {
          id: 'g6-nanode-1',
          label: 'Nanode 1GB',
          vcpus: 1,
          memory: 1024,
          disk: 25600,
          price: { hourly: 0.0075, monthly: 5 },
        },
      ]);
    if (path === 'profile/sshkeys' && req.method === 'GET') return list(this.keys);
    if (path === 'profile/sshkeys' && req.method === 'POST') {
      const key = {
        id: this.#nextId++,
        label: body.label,
        ssh_key: body.ssh_key,
        created: '2026-01-01T00:00:00',
      };
      this.keys.push(key);
      return { body: key };
    }
    const keyDel = /^profile\/sshkeys\/(\d+)$/.exec(path);
    if (keyDel) {
      this.keys = this.keys.filter((k) => k.id !== Number(keyDel[1]));
      return { body: {} };
    }
    if (path === 'account/events') {
      const f = JSON.parse(String(req.headers['x-filter']));
      const mine = this.events.filter((e) => e.entity === f['entity.id'] && e.action === f.action).reverse();
      const e = mine[0];
      if (e && e.status === 'started' && ++e.polls >= this.eventPolls) this.#finish(e);
      return list(
        mine.map((x) => ({
          id: x.id,
          action: x.action,
          status: x.status,
          message: x.message ?? null,
          entity: { id: x.entity, type: 'linode' },
        })),
      );
    }
    if (path === 'linode/instances' && req.method === 'POST') {
      const id = this.#nextId++;
      const l = {
        id,
        label: body.label,
        type: body.type,
        region: body.region,
        image: body.image ?? null,
        status: body.image ? 'provisioning' : 'offline',
        ipv4: [],
        tags: body.tags ?? [],
        created: '2026-01-01T00:00:00',
      };
      this.linodes.set(id, l);
      return { body: l };
    }
    const inst = /^linode\/instances\/(\d+)(?:\/(boot|reboot|shutdown))?$/.exec(path);
    if (inst) {
      const l = this.linodes.get(Number(inst[1]));
      if (!l) return { status: 404, body: { errors: [{ reason: 'Not found' }] } };
      if (inst[2]) {
        this.events.push({
          id: this.#nextId++,
          entity: l.id as number,
          action: `linode_${inst[2]}`,
          status: 'started',
          polls: 0,
        });
        return { body: {} };
      }
      if (req.method === 'DELETE') {
        this.linodes.delete(l.id as number);
        return { body: {} };
      }
      this.#boot(l);
      return { body: l };
    }
    return { status: 404, body: { errors: [{ reason: `no route ${req.method} ${path}` }] } };
  };

  /** A read of a `provisioning` Linode: it is `running` from its `eventPolls`-th read. */
  #boot(l: Record<string, unknown>): void {
    if (l.status !== 'provisioning' || String(l.label).startsWith('slow')) return;
    const reads = (this.#reads.get(l.id as number) ?? 0) + 1;
    this.#reads.set(l.id as number, reads);
    if (reads >= this.eventPolls) l.status = 'running';
  }

  #finish(e: Event): void {
    const l = this.linodes.get(e.entity);
    if (String(l?.label).startsWith('fail-')) {
      e.status = 'failed';
      e.message = 'Linode busy: a migration is in progress';
      return;
    }
    e.status = 'finished';
    if (l) l.status = e.action === 'linode_shutdown' ? 'offline' : 'running';
  }
}

/** A Linode provider pointed at a started fake (for the management conformance suite). */
export async function startLinodeManagement(): Promise<{
  provider: ManagedProvider;
  fake: FakeLinode;
  server: ReplayServer;
  waits: number[];
}> {
  const fake = new FakeLinode();
  const server = await startReplayServer((req) => fake.handle(req));
  const sleep = virtualTime();
  const provider = linode({
    id: 'lin',
    token: 'lin-secret-token',
    baseUrl: `${server.url}/v4/`,
    pageSize: 25,
    clock: sleep.clock,
    http: { sleep: sleep.sleep, retryLimit: 0 },
  });
  return { provider, fake, server, waits: sleep.waits };
}
