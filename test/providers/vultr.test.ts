import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { vultr } from '../../src/providers/vultr.js';
import { VULTR_STATES } from '../../src/providers/vultr-wire.js';
import { FakeVultr, type FakeVultrInstance } from './fakes/vultr.js';
import { virtualTime } from './management-fixtures.js';
import {
  catchErr,
  collect,
  type ReplayResponse,
  type ReplayServer,
  startReplayServer,
  withEnv,
} from './server.js';

const TOKEN = 'VULTRKEY0123456789ABCDEFSECRET';

const instances = (): FakeVultrInstance[] => [
  {
    id: 'cb676a46-66fd-4dfb-b839-443f2e6c0b60',
    label: 'web-1',
    status: 'active',
    power_status: 'running',
    server_status: 'ok',
    tags: ['role:web', 'prod'],
    main_ip: '192.0.2.123',
    internal_ip: '10.1.96.3',
  },
  {
    id: 'b2',
    label: 'Zürich-节点',
    status: 'active',
    power_status: 'stopped',
    server_status: 'ok',
    tags: [],
  },
];

describe('vultr()', () => {
  let server: ReplayServer;
  let fake: FakeVultr;
  let override: ((url: string) => ReplayResponse | undefined) | undefined;
  let time: ReturnType<typeof virtualTime>;
  beforeAll(async () => {
    server = await startReplayServer((req) => override?.(req.url) ?? fake.handle(req));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    fake = new FakeVultr(instances());
    override = undefined;
    time = virtualTime(5_000_000);
    server.requests.length = 0;
  });
  const make = (extra: Record<string, unknown> = {}) =>
    vultr({
      id: 'vu',
      token: TOKEN,
      baseUrl: `${server.url}/v2`,
      clock: time.clock,
      http: { sleep: time.sleep, baseDelayMs: 1, retryLimit: 2, random: () => 0 },
      ...extra,
    });

  it('listNodes() - follows meta.links.next cursors to "", the node shape, no password or console URL', async () => {
    fake.instances.push({ ...instances()[1]!, id: 'b3', label: 'c' });
    const nodes = await collect(make({ perPage: 2 }).listNodes());
    expect(nodes.map((n) => n.id)).toEqual(['cb676a46-66fd-4dfb-b839-443f2e6c0b60', 'b2', 'b3']);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/v2/instances?per_page=2',
      `/v2/instances?per_page=2&cursor=${Buffer.from('o2').toString('base64').replace(/=/g, '%3D')}`,
    ]);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(nodes[0]).toEqual({
      uid: 'vu:cb676a46-66fd-4dfb-b839-443f2e6c0b60',
      id: 'cb676a46-66fd-4dfb-b839-443f2e6c0b60',
      name: 'web-1',
      provider: 'vu',
      kind: 'vultr',
      state: 'running',
      rawState: 'active/running/ok',
      region: 'ewr',
      publicIps: ['192.0.2.123', '2001:db8:1112:18fb:200:ff:fe00:0'],
      privateIps: ['10.1.96.3'],
      size: 'vc2-1c-1gb',
      image: '2136',
      createdAt: new Date('2020-10-10T01:56:20Z'),
      tags: { role: 'web', prod: '' },
      extra: expect.objectContaining({
        status: 'active',
        power_status: 'running',
        server_status: 'ok',
        ram: 1024,
      }),
    });
    expect(nodes[1]).toMatchObject({ name: 'Zürich-节点', state: 'stopped', rawState: 'active/stopped' });
    const text = JSON.stringify(nodes);
    expect(text).not.toContain('v5{Fkvb#2ycPGwHs');
    expect(text).not.toContain('CONSOLE-ACCESS-TOKEN');
  });

  it('listNodes() - every folded state word and an unknown one', async () => {
    const words = [...Object.keys(VULTR_STATES), 'active/running/rebooting', 'closed'];
    fake.instances = words.map((w, i) => {
      const [status, power = 'running', srv = 'ok'] = w.split('/');
      return { id: `i${i}`, label: w, status: status!, power_status: power, server_status: srv, tags: [] };
    });
    const nodes = await collect(make().listNodes());
    expect(Object.fromEntries(nodes.map((n) => [n.rawState, n.state]))).toEqual({
      ...VULTR_STATES,
      'active/running/rebooting': 'unknown',
      closed: 'unknown',
    });
  });

  it('getNode() - undefined on 404; the error body message is kept', async () => {
    expect(await make().getNode('nope')).toBeUndefined();
    override = () => ({ status: 400, body: { error: 'Invalid instance-id (bad format).', status: 400 } });
    const err = await catchErr(make().getNode('x'));
    expect(err.code).toBe('E_PROVIDER');
    expect(err.message).toContain('Invalid instance-id (bad format).');
  });

  it('setTags() / removeTags() - key:value strings, PATCHed whole, a completed Operation', async () => {
    const p = make();
    const id = 'cb676a46-66fd-4dfb-b839-443f2e6c0b60';
    await (await p.setTags(id, { role: 'db', zone: 'b' })).done();
    const patch = server.requests.at(-1)!;
    expect([patch.method, JSON.parse(patch.body)]).toEqual([
      'PATCH',
      { tags: ['role:db', 'prod', 'zone:b'] },
    ]);
    await (await p.removeTags(id, ['prod'])).done();
    expect(fake.instances[0]!.tags).toEqual(['role:db', 'zone:b']);
    const bad = await catchErr(p.setTags(id, { 'a:b': 'c' }));
    expect([bad.code, bad.path]).toEqual(['E_VALIDATION', 'tags.a:b']);
  });

  it('startNode() / stopNode() / rebootNode() - 204, then the Operation polls the instance state', async () => {
    const p = make();
    const start = await p.startNode('b2');
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', url: '/v2/instances/b2/start' });
    expect(start.id).toBe('b2');
    expect((await start.done()).state).toBe('running');
    expect(time.waits).toEqual([3_000]);
    const stop = await p.stopNode('b2', { graceful: true });
    expect(server.requests.at(-1)!.url).toBe('/v2/instances/b2/halt');
    expect((await stop.done()).state).toBe('stopped');
    expect((await (await p.rebootNode('cb676a46-66fd-4dfb-b839-443f2e6c0b60')).done()).state).toBe('running');
  });

  it('Operation.done() - timeout, abort, and a node in error', async () => {
    fake.settlePolls = 1_000;
    const op = await make().startNode('b2');
    expect((await catchErr(op.done({ timeoutMs: 10_000 }))).code).toBe('E_TIMEOUT');
    expect((await catchErr(op.done({ signal: AbortSignal.abort() }))).code).toBe('E_ABORTED');
    expect((await catchErr(make().startNode('b2', { signal: AbortSignal.abort() }))).code).toBe('E_ABORTED');
  });

  it('createNode() - 202, OS or snapshot image, key looked up by name, user data base64; no password', async () => {
    fake.sshKeys = [{ id: 'key-9', name: 'ops', ssh_key: 'ssh-ed25519 AAAA', date_created: '' }];
    const logs: unknown[] = [];
    const rec = (...a: unknown[]) => void logs.push(a);
    const p = make({ logger: { debug: rec, info: rec, warn: rec, error: rec } });
    const node = await p.createNode({
      name: 'api-1',
      size: 'vc2-1c-1gb',
      image: '2136',
      location: 'ewr',
      keyPair: 'ops',
      tags: { role: 'api' },
      userData: '#cloud-config\n',
      extra: { hostname: 'api-1.example' },
    });
    expect(JSON.parse(server.requests.at(-1)!.body)).toEqual({
      hostname: 'api-1.example',
      region: 'ewr',
      plan: 'vc2-1c-1gb',
      label: 'api-1',
      os_id: 2136,
      sshkey_id: ['key-9'],
      tags: ['role:api'],
      user_data: Buffer.from('#cloud-config\n').toString('base64'),
    });
    expect(node).toMatchObject({ name: 'api-1', state: 'pending', rawState: 'pending' });
    expect(JSON.stringify([node, logs])).not.toContain('v5{Fkvb#2ycPGwHs');
    await p.createNode({
      name: 'b',
      size: 's',
      image: '8a1b2c3d-0000-4000-8000-000000000000',
      location: 'ewr',
    });
    expect(JSON.parse(server.requests.at(-1)!.body).snapshot_id).toBe('8a1b2c3d-0000-4000-8000-000000000000');
    const noKey = await catchErr(
      p.createNode({ name: 'c', size: 's', image: '1', location: 'ewr', keyPair: 'x' }),
    );
    expect([noKey.code, noKey.path]).toEqual(['E_NOT_FOUND', 'input.keyPair']);
    const noRegion = await catchErr(p.createNode({ name: 'c', size: 's', image: '1' }));
    expect([noRegion.code, noRegion.path]).toEqual(['E_VALIDATION', 'input.location']);
  });

  it('destroyNode() - 204, then the Operation waits until the instance is gone', async () => {
    const op = await make().destroyNode('b2');
    expect(op.action).toBe('destroy');
    await op.done();
    expect(fake.instances.map((i) => i.id)).toEqual(['cb676a46-66fd-4dfb-b839-443f2e6c0b60']);
  });

  it('throttling - a 429 without headers is retried with backoff; 401 never shows the key', async () => {
    let n = 0;
    override = () =>
      n++ < 2 ? { status: 429, body: { error: 'Rate limit reached', status: 429 } } : undefined;
    expect(await collect(make().listNodes())).toHaveLength(2);
    expect(time.waits).toEqual([0, 1]);
    override = () => ({ status: 429, body: { error: 'Rate limit reached', status: 429 } });
    const limited = await catchErr(collect(make().listNodes()));
    // No Retry-After: the kit suggests its next backoff step (1 ms × 2^3 here).
    expect([limited.code, limited.retryAfterMs]).toEqual(['E_RATE_LIMIT', 8]);
    override = () => ({ status: 401, body: { error: `Invalid API token ${TOKEN}.`, status: 401 } });
    const err = await catchErr(collect(make().listNodes()));
    expect(err.code).toBe('E_AUTH');
    expect(JSON.stringify(err) + err.message + String(err.stack)).not.toContain(TOKEN);
  });

  it('the key defaults to VULTR_API_KEY; missing is E_CONFIG', () => {
    const p = withEnv({ VULTR_API_KEY: TOKEN }, () => vultr({ id: 'vu' }));
    expect(JSON.stringify(p)).toBe('{"id":"vu","kind":"vultr"}');
    let err: { code?: string; message?: string } = {};
    try {
      withEnv({ VULTR_API_KEY: undefined }, () => vultr({ id: 'vu' }));
    } catch (e) {
      err = e as typeof err;
    }
    expect([err.code, err.message?.includes('VULTR_API_KEY')]).toEqual(['E_CONFIG', true]);
    expect(() => vultr({ id: 'vu', token: 't', perPage: 501 })).toThrow(/perPage/);
  });
});
