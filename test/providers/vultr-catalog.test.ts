import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { vultr } from '../../src/providers/vultr.js';
import { FakeVultr, VULTR_VC2_PLAN } from './fakes/vultr.js';
import { catchErr, collect, type ReplayServer, recordingSleep, startReplayServer } from './server.js';

const snapshot = (n: number) => ({
  id: `5359435d-28b6-4c1a-8a5a-1d5e4d2e0b0${n}`,
  date_created: '2020-04-29T19:33:20+00:00',
  description: `backup ${n}`,
  size: 42949672960,
  compressed_size: 949678560,
  status: 'complete',
  os_id: 215,
  app_id: 0,
});

describe('vultr() catalogue', () => {
  let server: ReplayServer;
  let fake: FakeVultr;
  beforeAll(async () => {
    server = await startReplayServer((req) => fake.handle(req));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    fake = new FakeVultr();
    server.requests.length = 0;
  });
  const make = (perPage = 500) =>
    vultr({
      id: 'vu',
      token: 'k',
      baseUrl: `${server.url}/v2/`,
      perPage,
      http: { sleep: recordingSleep().sleep },
    });

  it('listImages() - snapshots by default, every cursor page; OS images are public', async () => {
    fake.snapshots = [snapshot(1), snapshot(2), snapshot(3)];
    fake.os = [
      { id: 2136, name: 'Debian 12 x64 (bookworm)', arch: 'x64', family: 'debian' },
      { id: 124, name: 'Windows 2012 R2 x64', arch: 'x64', family: 'windows' },
    ];
    const own = await collect(make(2).listImages());
    expect(own.map((i) => i.name)).toEqual(['backup 1', 'backup 2', 'backup 3']);
    expect(server.requests).toHaveLength(2);
    expect(own[0]).toEqual({
      id: snapshot(1).id,
      name: 'backup 1',
      provider: 'vu',
      public: false,
      createdAt: new Date('2020-04-29T19:33:20Z'),
      extra: { size: 42949672960, compressed_size: 949678560, status: 'complete', os_id: 215, app_id: 0 },
    });
    const pub = await collect(make().listImages({ owner: 'public' }));
    expect(pub[0]).toEqual({
      id: '2136',
      name: 'Debian 12 x64 (bookworm)',
      provider: 'vu',
      os: 'debian',
      public: true,
      extra: { arch: 'x64', family: 'debian' },
    });
    expect(await collect(make().listImages({ owner: 'all' }))).toHaveLength(5);
    expect((await catchErr(collect(make().listImages({ owner: 'x' as 'all' })))).code).toBe('E_VALIDATION');
  });

  it('listImages() - a cursor that repeats is E_PROVIDER', async () => {
    fake.snapshots = [snapshot(1), snapshot(2)];
    const original = fake.handle.bind(fake);
    fake.handle = (req) => {
      const res = original(req) as { body: { meta: { links: { next: string } } } };
      res.body.meta.links.next = 'same';
      return res;
    };
    const err = await catchErr(collect(make(1).listImages()));
    expect([err.code, err.providerCode]).toEqual(['E_PROVIDER', 'PAGINATION_LOOP']);
  });

  it('listSizes() / listLocations() - plans in MB and USD per month, regions', async () => {
    fake.plans = [VULTR_VC2_PLAN];

    fake.regions = [
      { id: 'ams', city: 'Amsterdam', country: 'NL', continent: 'Europe', options: ['ddos_protection'] },
    ];
    expect(await collect(make().listSizes())).toEqual([
      {
        id: 'vc2-1c-1gb',
        name: 'vc2-1c-1gb',
        provider: 'vu',
        cpus: 1,
        memory: 1024,
        disk: 25,
        price: { amount: 5, currency: 'USD', period: 'month' },
        extra: { type: 'vc2', bandwidth: 1024, disk_count: 1, locations: ['ewr'] },
      },
    ]);
    expect(await collect(make().listLocations())).toEqual([
      {
        id: 'ams',
        name: 'Amsterdam',
        provider: 'vu',
        region: 'ams',
        country: 'NL',
        extra: { continent: 'Europe', options: ['ddos_protection'] },
      },
    ]);
  });

  it('importKeyPair() / listKeyPairs() / deleteKeyPair() - by name, deleted by id', async () => {
    const p = make();
    const key = await p.importKeyPair({ name: 'ops', publicKey: 'ssh-ed25519 AAAAC3Nza ops@example' });
    expect(key).toMatchObject({ name: 'ops', publicKey: 'ssh-ed25519 AAAAC3Nza ops@example' });
    expect((await collect(p.listKeyPairs())).map((k) => k.id)).toEqual([key.id]);
    await p.deleteKeyPair('ops');
    expect(server.requests.at(-1)).toMatchObject({ method: 'DELETE', url: `/v2/ssh-keys/${key.id}` });
    expect((await catchErr(p.deleteKeyPair('ops'))).code).toBe('E_NOT_FOUND');
  });
});
