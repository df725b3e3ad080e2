/**
 * OpenStack management against a local replay server answering as Keystone v3, Nova and Glance
 * (written from docs.openstack.org/api-ref/compute and /api-ref/image/v2), with the recorded
 * libcloud fixtures in ../shared/fixtures/providers/openstack where they cover a case.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openstack } from '../../src/providers/openstack.js';
import { fixture as recorded } from './management-fixtures.js';
import {
  catchErr,
  collect,
  type RecordedRequest,
  type ReplayResponse,
  recordingSleep,
  startReplayServer,
} from './server.js';

const fixture = (name: string) => JSON.parse(recorded('openstack', name)) as Record<string, unknown>;
const PASSWORD = 'os-pa55-very-secret';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@x';

type Handler = (req: RecordedRequest, path: string, q: URLSearchParams) => ReplayResponse;
let handler: Handler = () => ({ status: 500 });
let server: Awaited<ReturnType<typeof startReplayServer>>;

beforeAll(async () => {
  server = await startReplayServer((req) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/identity/v3/auth/tokens')
      return {
        status: 201,
        headers: { 'x-subject-token': 'tok-1' },
        body: {
          token: {
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
            catalog: [
              {
                type: 'compute',
                endpoints: [{ interface: 'public', region: 'RegionOne', url: `${server.url}/compute/v2.1` }],
              },
              {
                type: 'image',
                endpoints: [{ interface: 'public', region: 'RegionOne', url: `${server.url}/image` }],
              },
            ],
          },
        },
      };
    return handler(req, url.pathname, url.searchParams);
  });
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
});

function provider() {
  const sleeper = recordingSleep();
  const p = openstack({
    id: 'os-mgmt',
    authUrl: `${server.url}/identity/v3`,
    username: 'ops',
    password: PASSWORD,
    projectName: 'fleet',
    region: 'RegionOne',
    http: { sleep: sleeper.sleep, random: () => 0 },
  });
  return { p, waits: sleeper.waits };
}

const server_ = (
  id: string,
  status: string,
  task: string | null = null,
  more: Record<string, unknown> = {},
) => ({
  server: {
    id,
    name: `srv-${id}`,
    status,
    'OS-EXT-STS:task_state': task,
    metadata: {},
    addresses: {},
    ...more,
  },
});
const nova = (req: RecordedRequest) => req.url.startsWith('/compute/');

describe('openstack catalogue (replay)', () => {
  it('listImages() - Glance v2 pages through `next` (recorded page 1) with visibility=private', async () => {
    const page1 = fixture('_images_v2.json');
    handler = (_req, path, q) => {
      if (path !== '/image/v2/images') return { status: 404 };
      if (q.get('marker') === null) return { body: page1 };
      return {
        body: {
          images: [{ id: 'img-last', name: 'last', visibility: 'private', status: 'active' }],
          first: '/v2/images',
        },
      };
    };
    const pages: number[] = [];
    const images = await collect(provider().p.listImages({ onPage: ({ items }) => pages.push(items) }));
    expect(images.map((i) => i.id)).toEqual([
      ...(page1.images as Array<{ id: string }>).map((i) => i.id),
      'img-last',
    ]);
    expect(pages).toEqual([2, 1]);
    expect(images[0]).toMatchObject({ name: 'hypernode', os: 'ubuntu', public: false, provider: 'os-mgmt' });
    const glance = server.requests.filter((r) => r.url.startsWith('/image/'));
    expect(glance[0]?.url).toBe('/image/v2/images?limit=200&visibility=private');
    expect(glance[1]?.url).toBe('/image/v2/images?marker=e7a40226-3523-4f0f-87d8-d8dc91bbf4a3');
  });

  it('listImages() - a `next` pointing at another origin is refused (E_PROVIDER)', async () => {
    handler = () => ({ body: { images: [{ id: 'a' }], next: 'http://evil.example/v2/images?marker=a' } });
    const err = await catchErr(collect(provider().p.listImages({ owner: 'public' })));
    expect([err.code, err.providerCode]).toEqual(['E_PROVIDER', 'FOREIGN_LINK']);
  });

  it('listSizes() - flavors/detail (recorded): vcpus, ram MiB, disk GB, no price; flavors_links followed', async () => {
    const recorded = fixture('_flavors_detail.json');
    handler = (_req, path, q) => {
      if (path !== '/compute/v2.1/flavors/detail') return { status: 404 };
      if (q.get('marker') === null)
        return {
          body: {
            ...recorded,
            flavors_links: [
              { rel: 'next', href: `${server.url}/compute/v2.1/flavors/detail?marker=7&limit=200` },
            ],
          },
        };
      return { body: { flavors: [{ id: 'g1', name: 'gpu', vcpus: 16, ram: 65536, disk: 0 }] } };
    };
    const sizes = await collect(provider().p.listSizes());
    expect(sizes).toHaveLength((recorded.flavors as unknown[]).length + 1);
    expect(sizes.find((s) => s.name === '1GB slice')).toMatchObject({
      id: '3',
      cpus: 1,
      memory: 1024,
      disk: 40,
    });
    expect(sizes.at(-1)).toMatchObject({ id: 'g1', cpus: 16, memory: 65536 });
    expect(sizes.at(-1)?.disk).toBeUndefined();
    expect(sizes.every((s) => s.price === undefined)).toBe(true);
  });

  it('listLocations() - one location per availability zone', async () => {
    handler = () => ({
      body: {
        availabilityZoneInfo: [
          { zoneName: 'nova', zoneState: { available: true }, hosts: null },
          { zoneName: 'az-2', zoneState: { available: false }, hosts: null },
        ],
      },
    });
    const locations = await collect(provider().p.listLocations());
    expect(locations).toEqual([
      {
        id: 'nova',
        name: 'nova',
        provider: 'os-mgmt',
        region: 'RegionOne',
        zone: 'nova',
        extra: { available: true },
      },
      {
        id: 'az-2',
        name: 'az-2',
        provider: 'os-mgmt',
        region: 'RegionOne',
        zone: 'az-2',
        extra: { available: false },
      },
    ]);
  });

  it('os-keypairs - list, import, a duplicate is E_CONFLICT, delete (a missing one too)', async () => {
    handler = (req, path) => {
      if (req.method === 'GET')
        return {
          body: {
            keypairs: [{ keypair: { name: 'ops', fingerprint: 'aa:bb', public_key: KEY, type: 'ssh' } }],
          },
        };
      if (req.method === 'POST') {
        const name = JSON.parse(req.body).keypair.name as string;
        return name === 'taken'
          ? {
              status: 409,
              body: { conflictingRequest: { code: 409, message: 'Key pair taken already exists.' } },
            }
          : { body: { keypair: { name, fingerprint: 'cc:dd', public_key: KEY, user_id: 'u1' } } };
      }
      return path.endsWith('/gone')
        ? { status: 404, body: { itemNotFound: { code: 404, message: 'not found' } } }
        : { status: 202 };
    };
    const { p } = provider();
    expect(await collect(p.listKeyPairs())).toEqual([
      { name: 'ops', provider: 'os-mgmt', fingerprint: 'aa:bb', publicKey: KEY, extra: { type: 'ssh' } },
    ]);
    expect(await p.importKeyPair({ name: 'new', publicKey: KEY })).toMatchObject({
      name: 'new',
      fingerprint: 'cc:dd',
    });
    expect(JSON.parse(server.requests.find((r) => r.method === 'POST' && nova(r))?.body ?? '{}')).toEqual({
      keypair: { name: 'new', public_key: KEY },
    });
    const dup = await catchErr(p.importKeyPair({ name: 'taken', publicKey: KEY }));
    expect([dup.code, dup.status]).toEqual(['E_CONFLICT', 409]);
    expect(dup.message).toContain('already exists');
    await p.deleteKeyPair('old');
    await p.deleteKeyPair('gone');
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual([
      '/compute/v2.1/os-keypairs/old',
      '/compute/v2.1/os-keypairs/gone',
    ]);
  });
});

describe('openstack servers (replay)', () => {
  it('createNode() - keyPair, base64 userData, availability zone, networks and metadata', async () => {
    const created = fixture('_servers_create.json');
    handler = (req) => {
      if (req.method === 'POST') return { status: 202, body: created };
      return { body: server_((created.server as { id: string }).id, 'BUILD', 'spawning') };
    };
    const node = await provider().p.createNode({
      name: 'web-1',
      size: '3',
      image: 'img-1',
      location: 'az-2',
      keyPair: 'ops',
      userData: '#cloud-config\nhostname: web-1\n',
      tags: { role: 'web' },
      extra: { networks: ['net-1'] },
    });
    expect(node).toMatchObject({ state: 'pending', rawState: 'BUILD', region: 'RegionOne' });
    expect(JSON.stringify(node)).not.toContain('racktest'); // adminPass never reaches the node
    const body = JSON.parse(server.requests.find((r) => r.method === 'POST' && nova(r))?.body ?? '{}');
    expect(body).toEqual({
      server: {
        name: 'web-1',
        imageRef: 'img-1',
        flavorRef: '3',
        metadata: { role: 'web' },
        availability_zone: 'az-2',
        key_name: 'ops',
        networks: [{ uuid: 'net-1' }],
        user_data: Buffer.from('#cloud-config\nhostname: web-1\n').toString('base64'),
      },
    });
  });

  it('stopNode().done() - os-stop, then polls until SHUTOFF with no task (2 s growing)', async () => {
    let polls = 0;
    handler = (req) => {
      if (req.method === 'POST') return { status: 202 };
      polls++;
      return { body: polls < 3 ? server_('s1', 'ACTIVE', 'powering-off') : server_('s1', 'SHUTOFF') };
    };
    const { p, waits } = provider();
    const op = await p.stopNode('s1', { graceful: false });
    expect(JSON.parse(server.requests.find((r) => r.method === 'POST' && nova(r))?.body ?? '{}')).toEqual({
      'os-stop': null,
    });
    expect((await op.done()).state).toBe('stopped');
    expect(waits).toEqual([2_000, 3_000]);
  });

  it('startNode().done() - a server that goes to ERROR rejects E_PROVIDER with its fault message', async () => {
    handler = (req) =>
      req.method === 'POST'
        ? { status: 202 }
        : {
            body: server_('s1', 'ERROR', null, { fault: { code: 500, message: 'No valid host was found.' } }),
          };
    const op = await provider().p.startNode('s1');
    const err = await catchErr(op.done());
    expect(err.code).toBe('E_PROVIDER');
    expect(err.message).toContain('No valid host was found.');
    expect(err.message).not.toContain(PASSWORD);
  });

  it('destroyNode().done() - DELETE, then polls until the server answers 404', async () => {
    let polls = 0;
    handler = (req) => {
      if (req.method === 'DELETE') return { status: 204 };
      polls++;
      return polls < 2
        ? { body: server_('s1', 'ACTIVE', 'deleting') }
        : { status: 404, body: { itemNotFound: { code: 404, message: 'Instance could not be found.' } } };
    };
    const op = await provider().p.destroyNode('s1');
    await expect(op.done()).resolves.toBeUndefined();
    expect(polls).toBe(2);
  });

  it('waitForState() - E_TIMEOUT and E_ABORTED', async () => {
    handler = () => ({ body: server_('s1', 'BUILD', 'spawning') });
    const { p } = provider();
    expect((await catchErr(p.waitForState('s1', ['running'], { timeoutMs: 1 }))).code).toBe('E_TIMEOUT');
    expect((await catchErr(p.waitForState('s1', ['running'], { signal: AbortSignal.abort() }))).code).toBe(
      'E_ABORTED',
    );
  });
});
