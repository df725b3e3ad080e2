import { digitalocean } from '../../../src/providers/digitalocean.js';
import type { ManagedProvider } from '../../../src/providers/types.js';
import { virtualTime } from '../management-fixtures.js';
import {
  type RecordedRequest,
  type ReplayResponse,
  type ReplayServer,
  startReplayServer,
} from '../server.js';

/**
 * A small stateful DigitalOcean written from the API reference (docs.digitalocean.com/reference/api):
 * droplets, actions that finish after `actionPolls` polls (a droplet named `fail-*` errors them),
 * images in two pages, sizes, regions and SSH keys. A created droplet is `new` and, as the real
 * one, becomes `active` on its own: from its `actionPolls`-th read.
 */
export class FakeDigitalOcean {
  droplets = new Map<number, Record<string, unknown>>();
  actions = new Map<number, { polls: number; type: string; droplet: number }>();
  keys = [{ id: 7717, name: 'ops', fingerprint: 'f5:d1', public_key: 'ssh-ed25519 AAAAops ops' }];
  actionPolls = 2;
  readonly #reads = new Map<number, number>();
  #nextId = 100;
  constructor(readonly url: () => string) {}

  handle = (req: RecordedRequest): ReplayResponse => {
    const u = new URL(req.url, 'http://x');
    const path = u.pathname.replace(/^\/v2\//, '');
    const body = req.body ? JSON.parse(req.body) : {};
    if (req.method === 'GET' && path === 'images') {
      const page = Number(u.searchParams.get('page'));
      const all = [
        { id: 1, slug: 'ubuntu-24-04-x64', name: '24.04 x64', distribution: 'Ubuntu', public: true },
        { id: 2, slug: null, name: 'my-snap', distribution: 'Ubuntu', public: false },
        { id: 3, slug: 'debian-12-x64', name: '12 x64', distribution: 'Debian', public: true },
      ].filter((i) => u.searchParams.get('private') !== 'true' || !i.public);
      const items = page === 1 ? all.slice(0, 2) : all.slice(2);
      const next = page === 1 && all.length > 2 ? `${this.url()}/v2/images?page=2&per_page=2` : undefined;
      return { body: { images: items, links: next ? { pages: { next } } : {}, meta: { total: all.length } } };
    }
    if (path === 'sizes')
      return {
        body: {
          sizes: [
            {
              slug: 's-1vcpu-1gb',
              memory: 1024,
              vcpus: 1,
              disk: 25,
              price_hourly: 0.00893,
              price_monthly: 6,
            },
          ],
          links: {},
        },
      };
    if (path === 'regions')
      return { body: { regions: [{ slug: 'fra1', name: 'Frankfurt 1', available: true }], links: {} } };
    if (path === 'account/keys' && req.method === 'GET') return { body: { ssh_keys: this.keys, links: {} } };
    if (path === 'account/keys' && req.method === 'POST') {
      const key = { id: this.#nextId++, name: body.name, fingerprint: 'aa:bb', public_key: body.public_key };
      this.keys.push(key);
      return { status: 201, body: { ssh_key: key } };
    }
    const keyDel = /^account\/keys\/(\d+)$/.exec(path);
    if (keyDel && req.method === 'DELETE') {
      this.keys = this.keys.filter((k) => k.id !== Number(keyDel[1]));
      return { status: 204 };
    }
    if (path === 'droplets' && req.method === 'POST') {
      const id = this.#nextId++;
      const d = {
        id,
        name: body.name,
        status: 'new',
        size_slug: body.size,
        image: { slug: body.image },
        region: { slug: body.region },
        tags: body.tags ?? [],
        networks: {},
      };
      this.droplets.set(id, d);
      const action = this.#action(id, 'create');
      return { status: 202, body: { droplet: d, links: { actions: [{ id: action, rel: 'create' }] } } };
    }
    const drop = /^droplets\/(\d+)(\/actions)?$/.exec(path);
    if (drop) {
      const d = this.droplets.get(Number(drop[1]));
      if (!d)
        return {
          status: 404,
          body: { id: 'not_found', message: 'The resource you were accessing could not be found.' },
        };
      if (drop[2])
        return {
          status: 201,
          body: {
            action: { id: this.#action(d.id as number, body.type), status: 'in-progress', type: body.type },
          },
        };
      if (req.method === 'DELETE') {
        this.droplets.delete(d.id as number);
        return { status: 204 };
      }
      this.#boot(d);
      return { body: { droplet: d } };
    }
    const act = /^actions\/(\d+)$/.exec(path);
    if (act) {
      const a = this.actions.get(Number(act[1]));
      if (!a) return { status: 404, body: { id: 'not_found', message: 'not found' } };
      const d = this.droplets.get(a.droplet);
      a.polls++;
      if (a.polls < this.actionPolls)
        return { body: { action: { id: Number(act[1]), status: 'in-progress', type: a.type } } };
      if (String(d?.name).startsWith('fail-'))
        return {
          body: { action: { id: Number(act[1]), status: 'errored', type: a.type, resource_id: a.droplet } },
        };
      // `shutdown` never finishes on a droplet named `hang-*` (an OS that ignores ACPI).
      if (a.type === 'shutdown' && String(d?.name).startsWith('hang-'))
        return { body: { action: { id: Number(act[1]), status: 'in-progress', type: a.type } } };
      if (d)
        d.status =
          { create: 'active', power_on: 'active', reboot: 'active', shutdown: 'off', power_off: 'off' }[
            a.type
          ] ?? d.status;
      return { body: { action: { id: Number(act[1]), status: 'completed', type: a.type } } };
    }
    return { status: 404, body: { id: 'not_found', message: `no route ${req.method} ${path}` } };
  };

  /** A read of a `new` droplet: it is `active` from its `actionPolls`-th read. */
  #boot(d: Record<string, unknown>): void {
    if (d.status !== 'new') return;
    const reads = (this.#reads.get(d.id as number) ?? 0) + 1;
    this.#reads.set(d.id as number, reads);
    if (reads >= this.actionPolls) d.status = 'active';
  }

  #action(droplet: number, type: string): number {
    const id = this.#nextId++;
    this.actions.set(id, { polls: 0, type, droplet });
    return id;
  }
}

/** A DigitalOcean provider pointed at a started fake (for the management conformance suite). */
export async function startDigitalOceanManagement(): Promise<{
  provider: ManagedProvider;
  fake: FakeDigitalOcean;
  server: ReplayServer;
  waits: number[];
}> {
  let url = '';
  const fake = new FakeDigitalOcean(() => url);
  const server = await startReplayServer((req) => fake.handle(req));
  url = server.url;
  const sleep = virtualTime();
  const provider = digitalocean({
    id: 'do',
    token: 'dop_v1_secret',
    baseUrl: `${server.url}/v2/`,
    perPage: 2,
    clock: sleep.clock,
    http: { sleep: sleep.sleep, retryLimit: 0 },
  });
  return { provider, fake, server, waits: sleep.waits };
}
