import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hetzner } from '../../src/providers/hetzner.js';
import { FakeHetzner, HETZNER_CX22 as serverType } from './fakes/hetzner.js';
import { catchErr, collect, type ReplayServer, recordingSleep, startReplayServer } from './server.js';

const image = (id: number, type: string, over: Record<string, unknown> = {}) => ({
  id,
  type,
  status: 'available',
  name: type === 'system' ? `debian-${id}` : null,
  description: `image ${id}`,
  image_size: type === 'snapshot' ? 2.3 : null,
  disk_size: 10,
  created: '2025-05-06T07:08:09+00:00',
  created_from: type === 'snapshot' ? { id: 42, name: 'web-1' } : null,
  bound_to: null,
  os_flavor: 'debian',
  os_version: '12',
  architecture: 'x86',
  rapid_deploy: type === 'system',
  protection: { delete: false },
  deprecated: null,
  labels: {},
  ...over,
});

describe('hetzner() catalogue', () => {
  let server: ReplayServer;
  let fake: FakeHetzner;
  beforeAll(async () => {
    server = await startReplayServer((req) => fake.handle(req));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    fake = new FakeHetzner();
    server.requests.length = 0;
  });
  const make = (perPage = 50) =>
    hetzner({
      id: 'hz',
      token: 'tok',
      baseUrl: `${server.url}/v1/`,
      perPage,
      http: { sleep: recordingSleep().sleep },
    });

  it("listImages() - the account's own by default (snapshot, backup), every page followed", async () => {
    fake.images = [
      image(1, 'snapshot'),
      image(2, 'backup'),
      image(3, 'system'),
      image(4, 'snapshot'),
      image(5, 'app'),
      image(6, 'snapshot'),
    ];
    const pages: unknown[] = [];
    const own = await collect(make(2).listImages({ onPage: (p) => pages.push(p) }));
    expect(own.map((i) => i.id)).toEqual(['1', '2', '4', '6']);
    expect(pages).toMatchObject([
      { page: 1, items: 2 },
      { page: 2, items: 2 },
    ]);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/v1/images?type=snapshot&type=backup&page=1&per_page=2',
      '/v1/images?type=snapshot&type=backup&page=2&per_page=2',
    ]);
    expect(own[0]).toEqual({
      id: '1',
      name: 'image 1',
      provider: 'hz',
      os: 'debian',
      public: false,
      createdAt: new Date('2025-05-06T07:08:09Z'),
      extra: expect.objectContaining({
        type: 'snapshot',
        created_from: { id: 42, name: 'web-1' },
        image_size: 2.3,
      }),
    });
    const pub = await collect(make().listImages({ owner: 'public', filters: { architecture: 'arm' } }));
    expect(pub.map((i) => [i.id, i.name, i.public])).toEqual([
      ['3', 'debian-3', true],
      ['5', 'image 5', true],
    ]);
    expect(server.requests.at(-1)!.url).toBe(
      '/v1/images?type=system&type=app&architecture=arm&page=1&per_page=50',
    );
    expect(await collect(make().listImages({ owner: 'all' }))).toHaveLength(6);
    expect((await catchErr(collect(make().listImages({ owner: 'mine' as 'self' })))).code).toBe(
      'E_VALIDATION',
    );
  });

  it('listImages() - a server repeating a page is E_PROVIDER, never a silent loop', async () => {
    fake.images = [image(1, 'snapshot'), image(2, 'snapshot'), image(3, 'snapshot')];
    const original = fake.handle.bind(fake);
    fake.handle = (req) => {
      const res = original(req) as { body: { meta: { pagination: { next_page: number | null } } } };
      res.body.meta.pagination.next_page = 2;
      return res;
    };
    const err = await catchErr(collect(make(1).listImages()));
    expect([err.code, err.providerCode]).toEqual(['E_PROVIDER', 'PAGINATION_LOOP']);
  });

  it('listSizes() - cores, memory in MiB, disk, the lowest net hourly price in EUR', async () => {
    fake.serverTypes = [serverType, { ...serverType, id: 1, name: 'old', prices: [] }];
    const [cx22, old] = await collect(make().listSizes());
    expect(cx22).toEqual({
      id: 'cx22',
      name: 'CX22',
      provider: 'hz',
      cpus: 2,
      memory: 4096,
      disk: 40,
      price: { amount: 0.006, currency: 'EUR', period: 'hour' },
      extra: expect.objectContaining({ hetznerId: 104, cpu_type: 'shared', prices: serverType.prices }),
    });
    expect(old!.price).toBeUndefined();
  });

  it('listLocations() - name, country, network zone', async () => {
    fake.locations = [
      {
        id: 1,
        name: 'fsn1',
        description: 'Falkenstein DC Park 1',
        country: 'DE',
        city: 'Falkenstein',
        latitude: 50.47612,
        longitude: 12.370071,
        network_zone: 'eu-central',
      },
    ];
    expect(await collect(make().listLocations())).toEqual([
      {
        id: 'fsn1',
        name: 'Falkenstein DC Park 1',
        provider: 'hz',
        region: 'fsn1',
        country: 'DE',
        extra: {
          id: 1,
          city: 'Falkenstein',
          latitude: 50.47612,
          longitude: 12.370071,
          network_zone: 'eu-central',
        },
      },
    ]);
  });

  it('listKeyPairs() / importKeyPair() / deleteKeyPair() - by name; a duplicate is the provider error', async () => {
    const p = make();
    const key = await p.importKeyPair({ name: 'ops', publicKey: 'ssh-ed25519 AAAAC3Nza ops@example' });
    expect(key).toMatchObject({
      name: 'ops',
      fingerprint: 'b7:2f:30:a0:2f:6c:58:6c',
      publicKey: 'ssh-ed25519 AAAAC3Nza ops@example',
    });
    const dup = await catchErr(p.importKeyPair({ name: 'ops', publicKey: 'ssh-ed25519 AAAA' }));
    expect([dup.code, dup.providerCode, dup.status]).toEqual(['E_PROVIDER', 'uniqueness_error', 409]);
    expect((await collect(p.listKeyPairs())).map((k) => k.name)).toEqual(['ops']);
    await p.deleteKeyPair('ops');
    expect(server.requests.at(-1)).toMatchObject({ method: 'DELETE', url: `/v1/ssh_keys/${key.id}` });
    expect(fake.sshKeys).toEqual([]);
    const missing = await catchErr(p.deleteKeyPair('ops'));
    expect([missing.code, missing.path]).toEqual(['E_NOT_FOUND', 'name']);
  });
});
