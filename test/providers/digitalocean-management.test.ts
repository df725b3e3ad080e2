import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { digitalocean } from '../../src/providers/digitalocean.js';
import { startDigitalOceanManagement } from './fakes/digitalocean.js';
import { describeWithFixtures, fixture } from './management-fixtures.js';
import { catchErr, collect, type ReplayServer, startReplayServer } from './server.js';

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
    expect(pages).toEqual([1, 1]); // items yielded per page
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
    // Virtual time: the shutdown polls use up the 5 s grace.
    const op = await ctx.provider.stopNode(node.id, { timeoutMs: 5_000 });
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
