import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gce } from '../../src/providers/gce.js';
import { PEM, startGceManagement } from './fakes/gce.js';
import { describeWithFixtures, fixture } from './management-fixtures.js';
import { catchErr, collect, type ReplayServer, startReplayServer } from './server.js';

describe('gce() management', () => {
  let ctx: Awaited<ReturnType<typeof startGceManagement>>;
  beforeAll(async () => {
    ctx = await startGceManagement();
  });
  afterAll(() => ctx.server.close());
  beforeEach(() => {
    ctx.server.requests.length = 0;
  });
  const api = () => ctx.server.requests.filter((r) => !r.url.startsWith('/token'));

  it('listImages() - own project by default; filters.project pages through nextPageToken', async () => {
    expect((await collect(ctx.provider.listImages())).map((i) => [i.id, i.public])).toEqual([
      ['projects/proj/global/images/mine-1', false],
    ]);
    const pub = await collect(
      ctx.provider.listImages({ owner: 'public', filters: { project: 'debian-cloud' } }),
    );
    expect(pub.map((i) => i.id)).toEqual(
      ['a', 'b', 'c'].map((x) => `projects/debian-cloud/global/images/debian-12-${x}`),
    );
    expect(pub[0]).toMatchObject({
      os: 'debian',
      public: true,
      extra: { project: 'debian-cloud', family: 'debian-12' },
    });
    expect(
      api()
        .slice(1)
        .map((r) => r.url),
    ).toEqual([
      '/compute/v1/projects/debian-cloud/global/images?maxResults=2',
      '/compute/v1/projects/debian-cloud/global/images?maxResults=2&pageToken=t2',
    ]);
  });

  it('listSizes() - one per machine type across zones, no price; listLocations() - zones with their region', async () => {
    const sizes = await collect(ctx.provider.listSizes());
    expect(sizes).toHaveLength(1);
    expect(sizes[0]).toMatchObject({ id: 'e2-small', cpus: 2, memory: 2048 });
    expect(sizes[0]!.price).toBeUndefined();
    expect(await collect(ctx.provider.listLocations())).toMatchObject([
      { id: 'europe-west1-b', zone: 'europe-west1-b', region: 'europe-west1' },
    ]);
  });

  it('createNode() - machine type in the zone, boot disk from the image, NAT, labels, user-data and ssh-keys metadata', async () => {
    const node = await ctx.provider.createNode({
      name: 'web-1',
      size: 'e2-small',
      image: 'projects/debian-cloud/global/images/debian-12-a',
      location: 'z-a',
      tags: { role: 'web' },
      userData: '#cloud-config\n',
      extra: { sshKeys: ['ops:ssh-ed25519 AAAAops ops'] },
    });
    expect(node).toMatchObject({ id: 'z-a/web-1', state: 'pending', rawState: 'PROVISIONING' });
    expect(JSON.parse(api()[0]!.body)).toEqual({
      name: 'web-1',
      machineType: 'zones/z-a/machineTypes/e2-small',
      disks: [
        {
          boot: true,
          autoDelete: true,
          initializeParams: { sourceImage: 'projects/debian-cloud/global/images/debian-12-a' },
        },
      ],
      networkInterfaces: [
        {
          network: 'global/networks/default',
          accessConfigs: [{ type: 'ONE_TO_ONE_NAT', name: 'External NAT' }],
        },
      ],
      labels: { role: 'web' },
      metadata: {
        items: [
          { key: 'user-data', value: '#cloud-config\n' },
          { key: 'ssh-keys', value: 'ops:ssh-ed25519 AAAAops ops' },
        ],
      },
    });
    // The insert's operation is not waited for here: the instance is started by hand.
    ctx.fake.instances.get('z-a/web-1')!.status = 'RUNNING';
    expect((await ctx.provider.waitForState(node.id, ['running'])).state).toBe('running');
    await expect(
      ctx.provider.createNode({ name: 'x', size: 'e2-small', image: 'i', location: 'z-a', keyPair: 'ops' }),
    ).rejects.toMatchObject({ code: 'E_VALIDATION', path: 'input.keyPair' });
  });

  it('stopNode() / setTags() - each returns its zone operation, polled with GET until DONE', async () => {
    await ctx.provider.createNode({ name: 'app', size: 'e2-small', image: 'i', location: 'z-a' });
    ctx.fake.instances.get('z-a/app')!.status = 'RUNNING';
    const stop = await ctx.provider.stopNode('z-a/app');
    expect(stop!.id).toMatch(/^operation-/);
    expect(await stop!.done()).toMatchObject({ state: 'stopped', rawState: 'TERMINATED' });
    const opGets = api().filter((r) => r.method === 'GET' && r.url.includes('/operations/'));
    expect(opGets).toHaveLength(2);
    const tag = await ctx.provider.setTags('z-a/app', { env: 'prod' });
    await tag!.done();
    expect(ctx.fake.instances.get('z-a/app')!.labels).toEqual({ env: 'prod' });
  });

  it("startNode() - an operation DONE with error.errors rejects with E_PROVIDER carrying GCE's message", async () => {
    await ctx.provider
      .createNode({ name: 'fail-1', size: 'e2-small', image: 'i', location: 'z-a' })
      .catch(() => undefined);
    ctx.fake.instances.set('z-a/fail-2', { name: 'fail-2', zone: 'z-a', status: 'TERMINATED' });
    const err = await catchErr((await ctx.provider.startNode('z-a/fail-2'))!.done());
    expect(err).toMatchObject({
      code: 'E_PROVIDER',
      providerCode: 'ZONE_RESOURCE_POOL_EXHAUSTED',
      status: 400,
    });
    expect(err.message).toContain('does not have enough resources available');
    expect(JSON.stringify(err)).not.toContain('ya29.SECRET');
  });

  it('rebootNode() - done() times out (E_TIMEOUT) and aborts (E_ABORTED)', async () => {
    ctx.fake.instances.set('z-a/slow', { name: 'slow', zone: 'z-a', status: 'RUNNING' });
    ctx.fake.opPolls = 10_000;
    try {
      const op = await ctx.provider.rebootNode('z-a/slow');
      expect((await catchErr(op!.done({ timeoutMs: 30_000 }))).code).toBe('E_TIMEOUT');
      const ac = new AbortController();
      ac.abort();
      expect((await catchErr(op!.done({ signal: ac.signal }))).code).toBe('E_ABORTED');
    } finally {
      ctx.fake.opPolls = 2;
    }
  });

  it('destroyNode() - the zone operation of the DELETE', async () => {
    ctx.fake.instances.set('z-a/tmp', { name: 'tmp', zone: 'z-a', status: 'RUNNING' });
    await (await ctx.provider.destroyNode('z-a/tmp'))!.done();
    expect(ctx.fake.instances.has('z-a/tmp')).toBe(false);
    expect(await ctx.provider.getNode('z-a/tmp')).toBeUndefined();
  });
});

describeWithFixtures('gce() management - recorded responses', () => {
  let server: ReplayServer;
  beforeAll(async () => {
    server = await startReplayServer((req) => {
      if (req.url.startsWith('/token')) return { body: { access_token: 'ya29.x', expires_in: 3599 } };
      const path = new URL(req.url, 'http://x').pathname;
      if (path.endsWith('/global/images')) return { body: fixture('gce', 'global_images.json') };
      if (path.endsWith('/zones')) return { body: fixture('gce', 'zones.json') };
      return { status: 404, body: {} };
    });
  });
  afterAll(() => server.close());

  it('global_images.json / zones.json translate', async () => {
    const p = gce({
      id: 'g',
      project: 'project_name',
      serviceAccount: { client_email: 'a@b', private_key: PEM },
      baseUrl: server.url,
      tokenUrl: `${server.url}/token`,
      http: { retryLimit: 0 },
    });
    const images = await collect(p.listImages());
    expect(images[0]).toMatchObject({
      id: 'projects/project_name/global/images/custom-image',
      os: 'custom',
      public: false,
    });
    const zones = await collect(p.listLocations());
    expect(zones[0]).toMatchObject({ id: 'asia-east1-a', region: 'asia-east1' });
  });
});
