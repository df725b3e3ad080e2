import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { linode } from '../../src/providers/linode.js';
import { startLinodeManagement } from './fakes/linode.js';
import { describeWithFixtures, fixture } from './management-fixtures.js';
import { catchErr, collect, type ReplayServer, startReplayServer } from './server.js';

describe('linode() management', () => {
  let ctx: Awaited<ReturnType<typeof startLinodeManagement>>;
  beforeAll(async () => {
    ctx = await startLinodeManagement();
  });
  afterAll(() => ctx.server.close());
  beforeEach(() => {
    ctx.server.requests.length = 0;
  });

  it('listSizes() / listLocations() - disk MB → GB, hourly USD price, country upper-cased', async () => {
    expect(await collect(ctx.provider.listSizes())).toMatchObject([
      {
        id: 'g6-nanode-1',
        cpus: 1,
        memory: 1024,
        disk: 25,
        price: { amount: 0.0075, currency: 'USD', period: 'hour' },
        extra: { priceMonthly: 5 },
      },
    ]);
    expect(await collect(ctx.provider.listLocations())).toMatchObject([
      { id: 'eu-central', name: 'Frankfurt, DE', country: 'DE' },
    ]);
  });

  it('importKeyPair() / deleteKeyPair() - by label', async () => {
    const key = await ctx.provider.importKeyPair({ name: 'ci', publicKey: 'ssh-ed25519 AAAAci ci' });
    expect(key).toMatchObject({ name: 'ci', publicKey: 'ssh-ed25519 AAAAci ci' });
    await ctx.provider.deleteKeyPair('ci');
    expect(ctx.server.requests.at(-1)).toMatchObject({
      method: 'DELETE',
      url: `/v4/profile/sshkeys/${key.id}`,
    });
    expect((await catchErr(ctx.provider.deleteKeyPair('ci'))).code).toBe('E_NOT_FOUND');
  });

  it('createNode() - without an image: no root_pass, created offline', async () => {
    const node = await ctx.provider.createNode({ name: 'bare', size: 'g6-nanode-1', location: 'eu-central' });
    expect(node).toMatchObject({ name: 'bare', state: 'stopped', rawState: 'offline' });
    expect(JSON.parse(ctx.server.requests[0]!.body)).toEqual({
      label: 'bare',
      type: 'g6-nanode-1',
      region: 'eu-central',
      tags: [],
    });
  });

  it('createNode() - with an image: random root_pass, key by label, base64 user data', async () => {
    const node = await ctx.provider.createNode({
      name: 'web',
      size: 'g6-nanode-1',
      image: 'linode/debian12',
      location: 'eu-central',
      keyPair: 'ops',
      tags: { role: 'web' },
      userData: '#cloud-config\n',
    });
    expect(node.state).toBe('pending');
    const sent = JSON.parse(ctx.server.requests.find((r) => r.method === 'POST')!.body);
    expect(sent).toMatchObject({
      image: 'linode/debian12',
      authorized_keys: ['ssh-ed25519 AAAAops ops'],
      tags: ['role:web'],
      metadata: { user_data: Buffer.from('#cloud-config\n').toString('base64') },
    });
    expect(sent.root_pass).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.stringify(node)).not.toContain(sent.root_pass);
  });

  it('stopNode() / startNode() - follow the Linode event until finished, then the state', async () => {
    const node = await ctx.provider.createNode({
      name: 'app',
      size: 'g6-nanode-1',
      image: 'linode/debian12',
      location: 'eu-central',
    });
    ctx.fake.linodes.get(Number(node.id))!.status = 'running';
    const stopped = await (await ctx.provider.stopNode(node.id))!.done();
    expect(stopped.state).toBe('stopped');
    const filters = ctx.server.requests
      .filter((r) => r.url.startsWith('/v4/account/events'))
      .map((r) => JSON.parse(String(r.headers['x-filter'])));
    expect(filters[0]).toEqual({
      'entity.id': Number(node.id),
      'entity.type': 'linode',
      action: 'linode_shutdown',
      '+order_by': 'created',
      '+order': 'desc',
    });
    expect(filters.length).toBe(2);
    expect((await (await ctx.provider.startNode(node.id))!.done()).state).toBe('running');
  });

  it("rebootNode() - a failed event rejects with E_PROVIDER carrying Linode's message", async () => {
    const node = await ctx.provider.createNode({
      name: 'fail-1',
      size: 'g6-nanode-1',
      location: 'eu-central',
    });
    const err = await catchErr((await ctx.provider.rebootNode(node.id))!.done());
    expect(err).toMatchObject({ code: 'E_PROVIDER', providerCode: 'failed' });
    expect(err.message).toContain('Linode busy: a migration is in progress');
    expect(JSON.stringify(err)).not.toContain('lin-secret-token');
  });

  it('waitForState() - times out with E_TIMEOUT and aborts with E_ABORTED', async () => {
    const node = await ctx.provider.createNode({
      name: 'slow',
      size: 'g6-nanode-1',
      image: 'linode/debian12',
      location: 'eu-central',
    });
    expect(
      (await catchErr(ctx.provider.waitForState(node.id, ['running'], { timeoutMs: 20_000 }))).code,
    ).toBe('E_TIMEOUT');
    const ac = new AbortController();
    ac.abort();
    expect(
      (await catchErr(ctx.provider.waitForState(node.id, ['running'], { signal: ac.signal }))).code,
    ).toBe('E_ABORTED');
  });

  it('destroyNode() - the operation resolves once the Linode is gone', async () => {
    const node = await ctx.provider.createNode({ name: 'tmp', size: 'g6-nanode-1', location: 'eu-central' });
    await (await ctx.provider.destroyNode(node.id))!.done();
    expect(ctx.fake.linodes.has(Number(node.id))).toBe(false);
  });
});

describeWithFixtures('linode() management - recorded responses', () => {
  let server: ReplayServer;
  beforeAll(async () => {
    server = await startReplayServer((req) => {
      const u = new URL(req.url, 'http://x');
      if (u.pathname === '/v4/images') {
        if (u.searchParams.get('page') === '1')
          return { body: fixture('linode', 'list_images_paginated_page_1.json') };
        const all = JSON.parse(fixture('linode', 'list_images.json'));
        return { body: { ...all, data: all.data.slice(25), page: 2, pages: 2 } };
      }
      if (u.pathname === '/v4/linode/types') return { body: fixture('linode', 'list_types.json') };
      if (u.pathname === '/v4/regions') return { body: fixture('linode', 'list_locations.json') };
      return { status: 404, body: {} };
    });
  });
  afterAll(() => server.close());
  const make = () =>
    linode({ id: 'lin', token: 't', baseUrl: `${server.url}/v4/`, pageSize: 25, http: { retryLimit: 0 } });

  it('list_images_paginated_page_1.json + page 2 → all 34 public images; X-Filter is_public', async () => {
    const pages: number[] = [];
    const images = await collect(make().listImages({ owner: 'public', onPage: (p) => pages.push(p.items) }));
    expect(pages).toEqual([25, 9]);
    expect(images).toHaveLength(34);
    expect(images[0]).toMatchObject({
      id: 'linode/alpine3.10',
      name: 'Alpine 3.10',
      os: 'alpine',
      public: true,
    });
    expect(server.requests[0]!.headers['x-filter']).toBe('{"is_public":true}');
  });

  it('list_types.json / list_locations.json translate', async () => {
    const sizes = await collect(make().listSizes());
    expect(sizes[0]).toMatchObject({
      id: 'g6-nanode-1',
      cpus: 1,
      memory: 1024,
      disk: 25,
      price: { amount: 0.0075 },
    });
    expect((await collect(make().listLocations()))[0]).toMatchObject({ id: 'ap-west', country: 'IN' });
  });
});
