import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DigitalOceanProvider, digitalocean } from '../../src/providers/digitalocean.js';
import { describeWithFixtures, fixture } from './management-fixtures.js';
import {
  catchErr,
  collect,
  type RecordedRequest,
  type ReplayResponse,
  type ReplayServer,
  recordingSleep,
  startReplayServer,
} from './server.js';

/**
 * A small stateful DigitalOcean written from the API reference (docs.digitalocean.com/reference/api):
 * droplets, actions that finish after `actionPolls` polls (a droplet named `fail-*` errors them),
 * images in two pages, sizes, regions and SSH keys.
 */
export class FakeDigitalOcean {
  droplets = new Map<number, Record<string, unknown>>();
  actions = new Map<number, { polls: number; type: string; droplet: number }>();
  keys = [{ id: 7717, name: 'ops', fingerprint: 'f5:d1', public_key: 'ssh-ed25519 AAAAops ops' }];
  actionPolls = 2;
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

  #action(droplet: number, type: string): number {
    const id = this.#nextId++;
    this.actions.set(id, { polls: 0, type, droplet });
    return id;
  }
}

/** A DigitalOcean provider pointed at a started fake (for the management conformance suite). */
export async function startDigitalOceanManagement(): Promise<{
  provider: DigitalOceanProvider;
  fake: FakeDigitalOcean;
  server: ReplayServer;
  waits: number[];
}> {
  let url = '';
  const fake = new FakeDigitalOcean(() => url);
  const server = await startReplayServer((req) => fake.handle(req));
  url = server.url;
  const sleep = recordingSleep();
  const provider = digitalocean({
    id: 'do',
    token: 'dop_v1_secret',
    baseUrl: `${server.url}/v2/`,
    perPage: 2,
    http: { sleep: sleep.sleep, retryLimit: 0 },
  });
  return { provider, fake, server, waits: sleep.waits };
}

describe('digitalocean() management', () => {
  let ctx: Awaited<ReturnType<typeof startDigitalOceanManagement>>;
  beforeAll(async () => {
    ctx = await startDigitalOceanManagement();
  });
  afterAll(() => ctx.server.close());
  beforeEach(() => {
    ctx.server.requests.length = 0;
    ctx.waits.length = 0;
  });
  const paths = () => ctx.server.requests.map((r) => `${r.method} ${r.url}`);

  it('listImages() - own images by default (private=true); public ones follow links.pages.next', async () => {
    const own = await collect(ctx.provider.listImages());
    expect(own.map((i) => i.id)).toEqual(['2']);
    expect(paths()[0]).toBe('GET /v2/images?private=true&page=1&per_page=2');
    ctx.server.requests.length = 0;
    const pages: number[] = [];
    const pub = await collect(
      ctx.provider.listImages({
        owner: 'public',
        filters: { type: 'distribution' },
        onPage: (p) => pages.push(p.items),
      }),
    );
    expect(pub.map((i) => [i.id, i.os, i.public])).toEqual([
      ['ubuntu-24-04-x64', 'ubuntu', true],
      ['debian-12-x64', 'debian', true],
    ]);
    expect(pages).toEqual([2, 1]);
    expect(paths()).toEqual([
      'GET /v2/images?type=distribution&page=1&per_page=2',
      'GET /v2/images?page=2&per_page=2',
    ]);
  });

  it('listSizes() / listLocations() - hourly USD price, MiB and GB', async () => {
    const [size] = await collect(ctx.provider.listSizes());
    expect(size).toMatchObject({
      id: 's-1vcpu-1gb',
      cpus: 1,
      memory: 1024,
      disk: 25,
      price: { amount: 0.00893, currency: 'USD', period: 'hour' },
    });
    expect(size?.extra.price_monthly).toBe(6);
    expect(await collect(ctx.provider.listLocations())).toMatchObject([
      { id: 'fra1', name: 'Frankfurt 1', region: 'fra1' },
    ]);
  });

  it('importKeyPair() / listKeyPairs() / deleteKeyPair() - by name; a missing name is E_NOT_FOUND', async () => {
    const key = await ctx.provider.importKeyPair({ name: 'ci', publicKey: 'ssh-ed25519 AAAAci ci@host' });
    expect(key).toMatchObject({ name: 'ci', fingerprint: 'aa:bb', publicKey: 'ssh-ed25519 AAAAci ci@host' });
    expect((await collect(ctx.provider.listKeyPairs())).map((k) => k.name)).toEqual(['ops', 'ci']);
    await ctx.provider.deleteKeyPair('ci');
    expect(paths().at(-1)).toBe(`DELETE /v2/account/keys/${key.id}`);
    expect((await catchErr(ctx.provider.deleteKeyPair('ci'))).code).toBe('E_NOT_FOUND');
  });

  it('createNode() - location, key by name, user data as text; waitForState() polls until running', async () => {
    const node = await ctx.provider.createNode({
      name: 'web-1',
      size: 's-1vcpu-1gb',
      image: 'ubuntu-24-04-x64',
      location: 'fra1',
      keyPair: 'ops',
      tags: { role: 'web' },
      userData: '#cloud-config\n',
    });
    expect(node.state).toBe('pending');
    const sent = JSON.parse(ctx.server.requests.find((r) => r.method === 'POST')!.body);
    expect(sent).toEqual({
      name: 'web-1',
      size: 's-1vcpu-1gb',
      image: 'ubuntu-24-04-x64',
      region: 'fra1',
      tags: ['role:web'],
      ssh_keys: [7717],
      user_data: '#cloud-config\n',
    });
    // The create action completes on its second poll; here only the droplet is polled.
    ctx.fake.droplets.get(Number(node.id))!.status = 'active';
    const running = await ctx.provider.waitForState(node.id, ['running'], { timeoutMs: 60_000 });
    expect(running.state).toBe('running');
  });

  it('stopNode() - graceful is a shutdown action, polled at /v2/actions/{id} until the droplet is off', async () => {
    const node = await ctx.provider.createNode({ name: 'db-1', size: 's', image: 'x', location: 'fra1' });
    ctx.fake.droplets.get(Number(node.id))!.status = 'active';
    const op = await ctx.provider.stopNode(node.id);
    const stopped = await op!.done({ timeoutMs: 60_000 });
    expect(stopped.state).toBe('stopped');
    const posted = ctx.server.requests
      .filter((r) => r.url.endsWith('/actions'))
      .map((r) => JSON.parse(r.body).type);
    expect(posted).toEqual(['shutdown']);
    expect(paths().filter((p) => p.startsWith('GET /v2/actions/')).length).toBe(2);
  });

  it('stopNode({ graceful: false }) - power_off at once', async () => {
    const node = await ctx.provider.createNode({ name: 'db-2', size: 's', image: 'x', location: 'fra1' });
    ctx.fake.droplets.get(Number(node.id))!.status = 'active';
    await (await ctx.provider.stopNode(node.id, { graceful: false }))!.done();
    const posted = ctx.server.requests
      .filter((r) => r.url.endsWith('/actions'))
      .map((r) => JSON.parse(r.body).type);
    expect(posted).toEqual(['power_off']);
  });

  it('stopNode({ timeoutMs }) - a shutdown that does not finish within the grace falls back to power_off', async () => {
    const node = await ctx.provider.createNode({ name: 'hang-1', size: 's', image: 'x', location: 'fra1' });
    ctx.fake.droplets.get(Number(node.id))!.status = 'active';
    // Real time (the recording sleep does not wait): a grace of 50 ms runs out while polling.
    const op = await ctx.provider.stopNode(node.id, { timeoutMs: 50 });
    await new Promise((r) => setTimeout(r, 60));
    const stopped = await op!.done({ timeoutMs: 60_000 });
    expect(stopped.state).toBe('stopped');
    const posted = ctx.server.requests
      .filter((r) => r.url.endsWith('/actions'))
      .map((r) => JSON.parse(r.body).type);
    expect(posted).toEqual(['shutdown', 'power_off']);
  });

  it('rebootNode() - an errored action rejects with E_PROVIDER naming the action', async () => {
    const node = await ctx.provider.createNode({ name: 'fail-1', size: 's', image: 'x', location: 'fra1' });
    const op = await ctx.provider.rebootNode(node.id);
    const err = await catchErr(op!.done());
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('errored');
    expect(err.message).toMatch(/action \d+ \(reboot\) errored/);
    expect(JSON.stringify(err)).not.toContain('dop_v1_secret');
  });

  it('startNode() - done() honours abort and timeout', async () => {
    const node = await ctx.provider.createNode({ name: 'web-9', size: 's', image: 'x', location: 'fra1' });
    ctx.fake.actionPolls = 1_000;
    try {
      const op = await ctx.provider.startNode(node.id);
      const ac = new AbortController();
      ac.abort();
      expect((await catchErr(op!.done({ signal: ac.signal }))).code).toBe('E_ABORTED');
      expect((await catchErr(op!.done({ timeoutMs: 10_000 }))).code).toBe('E_TIMEOUT');
      expect(ctx.waits.length).toBeGreaterThan(0);
    } finally {
      ctx.fake.actionPolls = 2;
    }
  });

  it('destroyNode() - DELETE, then the operation waits until the droplet is gone', async () => {
    const node = await ctx.provider.createNode({ name: 'tmp', size: 's', image: 'x', location: 'fra1' });
    const op = await ctx.provider.destroyNode(node.id);
    await op!.done();
    expect(ctx.fake.droplets.has(Number(node.id))).toBe(false);
    expect(paths().at(-1)).toBe(`GET /v2/droplets/${node.id}`);
  });

  it('createNode() - a missing image or an unknown extra key is E_VALIDATION before any request', async () => {
    const err = await catchErr(ctx.provider.createNode({ name: 'x', size: 's', location: 'fra1' }));
    expect(err).toMatchObject({ code: 'E_VALIDATION', path: 'input.image' });
    expect(ctx.server.requests).toHaveLength(0);
  });
});

describeWithFixtures('digitalocean() management - recorded responses', () => {
  let server: ReplayServer;
  beforeAll(async () => {
    server = await startReplayServer((req) => {
      const path = new URL(req.url, 'http://x').pathname;
      const file = {
        '/v2/sizes': 'list_sizes.json',
        '/v2/images': 'list_images.json',
        '/v2/regions': 'list_locations.json',
        '/v2/account/keys': 'list_key_pairs.json',
      }[path];
      return file ? { body: fixture('digitalocean', file) } : { status: 404, body: {} };
    });
  });
  afterAll(() => server.close());
  const make = () =>
    digitalocean({ id: 'do', token: 't', baseUrl: `${server.url}/v2/`, http: { retryLimit: 0 } });

  it('list_sizes.json / list_images.json / list_key_pairs.json / list_locations.json translate', async () => {
    const sizes = await collect(make().listSizes());
    expect(sizes[0]).toMatchObject({
      id: '512mb',
      cpus: 1,
      memory: 512,
      disk: 20,
      price: { amount: 0.00744, currency: 'USD', period: 'hour' },
    });
    const images = await collect(make().listImages({ owner: 'all' }));
    expect(images[0]).toMatchObject({
      id: 'ubuntu-14-04-x64',
      name: '14.04 x64',
      os: 'ubuntu',
      public: true,
    });
    expect(images.find((i) => i.public === false)?.id).toBe('449676856');
    expect((await collect(make().listKeyPairs()))[0]).toMatchObject({
      name: 'test1',
      id: '7717',
      fingerprint: 'f5:d1:78:ed:28:72:5f:e1:ac:94:fd:1f:e0:a3:48:6d',
    });
    expect((await collect(make().listLocations()))[0]).toMatchObject({ id: 'nyc1', name: 'New York 1' });
  });
});
