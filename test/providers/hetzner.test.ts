import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hetzner } from '../../src/providers/hetzner.js';
import { HETZNER_STATES } from '../../src/providers/hetzner-wire.js';
import { FakeHetzner, type FakeHetznerServer } from './fakes/hetzner.js';
import { virtualTime } from './management-fixtures.js';
import {
  catchErr,
  collect,
  type ReplayResponse,
  type ReplayServer,
  startReplayServer,
  withEnv,
} from './server.js';

const TOKEN = 'hcloud-token-0123456789abcdefSECRET';

const servers = (): FakeHetznerServer[] => [
  {
    id: 42,
    name: 'web-1',
    status: 'running',
    labels: { role: 'web' },
    ipv4: '203.0.113.10',
    privateIp: '10.0.0.2',
  },
  { id: 43, name: 'Zürich-节点', status: 'off', labels: {} },
];

describe('hetzner()', () => {
  let server: ReplayServer;
  let fake: FakeHetzner;
  let override: ((url: string) => ReplayResponse | undefined) | undefined;
  let time: ReturnType<typeof virtualTime>;
  beforeAll(async () => {
    server = await startReplayServer((req) => override?.(req.url) ?? fake.handle(req));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    fake = new FakeHetzner(servers());
    override = undefined;
    time = virtualTime(1_000_000);
    server.requests.length = 0;
  });
  const make = (extra: Record<string, unknown> = {}) =>
    hetzner({
      id: 'hz',
      token: TOKEN,
      baseUrl: `${server.url}/v1`,
      clock: time.clock,
      http: { sleep: time.sleep, baseDelayMs: 1, retryLimit: 2, random: () => 0 },
      ...extra,
    });

  it('listNodes() - follows meta.pagination.next_page, bearer token, the node shape', async () => {
    fake.servers.push({ id: 44, name: 'c', status: 'running', labels: {} });
    const nodes = await collect(make({ perPage: 2 }).listNodes());
    expect(nodes.map((n) => n.id)).toEqual(['42', '43', '44']);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/v1/servers?page=1&per_page=2',
      '/v1/servers?page=2&per_page=2',
    ]);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(nodes[0]).toEqual({
      uid: 'hz:42',
      id: '42',
      name: 'web-1',
      provider: 'hz',
      kind: 'hetzner',
      state: 'running',
      rawState: 'running',
      region: 'fsn1',
      zone: 'fsn1-dc14',
      publicIps: ['203.0.113.10'],
      privateIps: ['10.0.0.2'],
      size: 'cx22',
      image: 'ubuntu-24.04',
      createdAt: new Date('2026-01-02T03:04:05Z'),
      tags: { role: 'web' },
      extra: expect.objectContaining({
        ipv6Network: '2001:db8:1234::/64',
        primary_disk_size: 40,
        locked: false,
      }),
    });
    expect(nodes[1]).toMatchObject({ name: 'Zürich-节点', state: 'stopped', publicIps: [], privateIps: [] });
  });

  it('listNodes() - labelSelector scopes the listing; every state and an unknown word', async () => {
    await collect(make({ labelSelector: 'role=web' }).listNodes());
    expect(server.requests[0]!.url).toBe('/v1/servers?label_selector=role%3Dweb&page=1&per_page=50');
    const words = [...Object.keys(HETZNER_STATES), 'teleporting'];
    fake.servers = words.map((status, i) => ({ id: i + 1, name: `s${i}`, status, labels: {} }));
    const nodes = await collect(make().listNodes());
    expect(Object.fromEntries(nodes.map((n) => [n.rawState, n.state]))).toEqual({
      ...HETZNER_STATES,
      teleporting: 'unknown',
    });
  });

  it('getNode() - the node, or undefined on not_found', async () => {
    expect((await make().getNode('43'))?.state).toBe('stopped');
    expect(await make().getNode('99')).toBeUndefined();
  });

  it('setTags() / removeTags() - merge into the labels, PUT them whole, a completed Operation', async () => {
    const p = make();
    const op = await p.setTags('42', { env: 'prod', 'example.com/team': 'a-1' });
    expect(op.action).toBe('setTags');
    await op.done();
    expect(JSON.parse(server.requests.at(-1)!.body)).toEqual({
      labels: { role: 'web', env: 'prod', 'example.com/team': 'a-1' },
    });
    await (await p.removeTags('42', ['role'])).done();
    expect(fake.servers[0]!.labels).toEqual({ env: 'prod', 'example.com/team': 'a-1' });
  });

  it('setTags() - Hetzner label rules are E_VALIDATION naming the label, before any request', async () => {
    const p = make();
    for (const [tags, path] of [
      [{ 'bad key': 'x' }, 'tags.bad key'],
      [{ ok: 'spaces are not allowed' }, 'tags.ok'],
      [{ ok: `${'a'.repeat(64)}` }, 'tags.ok'],
      [{ '-leading': 'x' }, 'tags.-leading'],
    ] as const) {
      const err = await catchErr(p.setTags('42', tags));
      expect([err.code, err.path]).toEqual(['E_VALIDATION', path]);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('startNode() / rebootNode() - an Operation on the action, then the node', async () => {
    const p = make();
    const op = await p.startNode('43');
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', url: '/v1/servers/43/actions/poweron' });
    const node = await op.done();
    expect(node.state).toBe('running');
    expect(time.waits).toEqual([1_000]);
    expect(server.requests.map((r) => r.url).filter((u) => u.includes('/actions/'))).toEqual([
      '/v1/servers/43/actions/poweron',
      expect.stringMatching(/^\/v1\/actions\/\d+$/),
      expect.stringMatching(/^\/v1\/actions\/\d+$/),
    ]);
    expect((await (await p.rebootNode('42')).done()).state).toBe('running');
  });

  it('stopNode() - graceful: shutdown, then waits for off; no poweroff when the guest complies', async () => {
    const node = await (await make().stopNode('42')).done();
    expect(node.state).toBe('stopped');
    const verbs = server.requests.map((r) => r.url).filter((u) => u.startsWith('/v1/servers/42/actions/'));
    expect(verbs).toEqual(['/v1/servers/42/actions/shutdown']);
  });

  it('stopNode() - a guest that ignores ACPI is powered off once timeoutMs ran out', async () => {
    fake.shutdownWorks = false;
    const op = await make().stopNode('42', { graceful: true, timeoutMs: 20_000 });
    const node = await op.done({ timeoutMs: 120_000 });
    expect(node.state).toBe('stopped');
    const verbs = server.requests.map((r) => r.url).filter((u) => u.startsWith('/v1/servers/42/actions/'));
    expect(verbs).toEqual(['/v1/servers/42/actions/shutdown', '/v1/servers/42/actions/poweroff']);
    // The grace is spent polling for `off` (the last poll that would overshoot it is skipped).
    const waited = time.waits.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThan(15_000);
    expect(waited).toBeLessThan(20_000 + 5_000);
  });

  it('stopNode({ graceful: false }) - poweroff at once', async () => {
    await (await make().stopNode('42', { graceful: false })).done();
    expect(server.requests[0]!.url).toBe('/v1/servers/42/actions/poweroff');
    expect(fake.servers[0]!.status).toBe('off');
  });

  it('Operation.done() - an action in error is E_PROVIDER with Hetzner code and message', async () => {
    fake.failing.set('poweron', { code: 'server_error', message: 'Host has no capacity left' });
    const err = await catchErr((await make().startNode('43')).done());
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('server_error');
    expect(err.message).toContain('Host has no capacity left');
  });

  it('Operation.done() - timeoutMs gives E_TIMEOUT, an aborted signal E_ABORTED', async () => {
    fake.actionPolls = 1_000;
    const op = await make().startNode('43');
    const err = await catchErr(op.done({ timeoutMs: 5_000 }));
    expect(err.code).toBe('E_TIMEOUT');
    const aborted = await catchErr(op.done({ signal: AbortSignal.abort() }));
    expect(aborted.code).toBe('E_ABORTED');
    const early = await catchErr(make().startNode('43', { signal: AbortSignal.abort() }));
    expect(early.code).toBe('E_ABORTED');
  });

  it('waitForState() - polls until the state; a vanished server counts as terminated', async () => {
    const p = make();
    fake.servers[1]!.status = 'starting';
    let polls = 0;
    override = (url) => {
      if (url === '/v1/servers/43' && ++polls === 3) fake.servers[1]!.status = 'running';
      return undefined;
    };
    expect((await p.waitForState('43', ['running'])).state).toBe('running');
    expect(polls).toBe(3);
    fake.servers = [];
    expect((await p.waitForState('43', ['terminated'])).state).toBe('terminated');
    expect((await catchErr(p.waitForState('43', []))).code).toBe('E_VALIDATION');
  });

  it('createNode() - sends the create body; root_password goes nowhere', async () => {
    const logs: unknown[] = [];
    const rec = (...a: unknown[]) => void logs.push(a);
    const p = make({ logger: { debug: rec, info: rec, warn: rec, error: rec } });
    const node = await p.createNode({
      name: 'api-1',
      size: 'cx22',
      image: 'ubuntu-24.04',
      location: 'nbg1',
      keyPair: 'ops',
      tags: { role: 'api' },
      userData: '#cloud-config\n',
      extra: { start_after_create: true },
    });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      start_after_create: true,
      name: 'api-1',
      server_type: 'cx22',
      image: 'ubuntu-24.04',
      location: 'nbg1',
      ssh_keys: ['ops'],
      labels: { role: 'api' },
      user_data: '#cloud-config\n',
    });
    expect(node).toMatchObject({ name: 'api-1', state: 'pending', rawState: 'initializing' });
    expect(JSON.stringify([node, logs])).not.toContain('YItygq1v3GYjjMomLaKc');
    const bad = await catchErr(
      p.createNode({ name: 'x', size: 'cx22', image: 'i', extra: { root_password: 'x' } }),
    );
    expect([bad.code, bad.path]).toEqual(['E_VALIDATION', 'input.extra.root_password']);
  });

  it('destroyNode() - an Operation on the delete action', async () => {
    const op = await make().destroyNode('42');
    expect(op.action).toBe('destroy');
    await op.done();
    expect(fake.servers.map((s) => s.id)).toEqual([43]);
    fake.failing.set('delete_server', { code: 'protected', message: 'server is delete-protected' });
    const err = await catchErr((await make().destroyNode('43')).done());
    expect([err.code, err.providerCode]).toEqual(['E_PROVIDER', 'protected']);
  });

  it('throttling - 429 rate_limit_exceeded is retried; 401 never shows the token', async () => {
    let n = 0;
    override = () =>
      n++ < 2
        ? {
            status: 429,
            body: {
              error: { code: 'rate_limit_exceeded', message: 'limit of 3600 requests per hour reached' },
            },
          }
        : undefined;
    expect(await collect(make().listNodes())).toHaveLength(2);
    expect(time.waits).toHaveLength(2);
    override = () => ({
      status: 401,
      body: { error: { code: 'unauthorized', message: `unable to authenticate ${TOKEN}` } },
    });
    const err = await catchErr(collect(make().listNodes()));
    expect([err.code, err.providerCode]).toEqual(['E_AUTH', 'unauthorized']);
    expect(JSON.stringify(err) + err.message + String(err.stack)).not.toContain(TOKEN);
  });

  it('the token defaults to HCLOUD_TOKEN; missing is E_CONFIG; inspecting shows no token', () => {
    const p = withEnv({ HCLOUD_TOKEN: TOKEN }, () => hetzner({ id: 'hz' }));
    expect(JSON.stringify(p)).toBe('{"id":"hz","kind":"hetzner"}');
    const err = (() => {
      try {
        withEnv({ HCLOUD_TOKEN: undefined }, () => hetzner({ id: 'hz' }));
      } catch (e) {
        return e as { code: string; message: string };
      }
    })();
    expect(err?.code).toBe('E_CONFIG');
    expect(err?.message).toContain('HCLOUD_TOKEN');
    expect(() => hetzner({ id: 'hz', token: 't', perPage: 51 })).toThrow(/perPage/);
  });
});
