import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LINODE_STATES, linode } from '../../src/providers/linode.js';
import {
  catchErr,
  collect,
  type RecordedRequest,
  type ReplayResponse,
  type ReplayServer,
  recordingSleep,
  startReplayServer,
  withEnv,
} from './server.js';

const TOKEN = 'linode-pat-0123456789abcdefSECRET';

function instance(id: number, over: Record<string, unknown> = {}) {
  return {
    id,
    label: `app-${id}`,
    group: '',
    status: 'running',
    created: '2020-10-08T18:51:29',
    updated: '2020-10-08T18:51:29',
    type: 'g6-nanode-1',
    ipv4: ['138.89.34.81', '192.168.1.230'],
    ipv6: '2a01:7e00::f03c:92ff:fe48:dc47/64',
    image: 'linode/debian12',
    region: 'eu-west',
    specs: { disk: 25600, memory: 1024, vcpus: 1 },
    hypervisor: 'kvm',
    watchdog_enabled: true,
    tags: [],
    ...over,
  };
}

describe('linode()', () => {
  let server: ReplayServer;
  let handle: (req: RecordedRequest) => ReplayResponse;
  beforeAll(async () => {
    server = await startReplayServer((req) => handle(req));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });
  const make = (extra: Record<string, unknown> = {}) =>
    linode({
      id: 'lin',
      token: TOKEN,
      baseUrl: `${server.url}/v4`,
      http: { sleep: recordingSleep().sleep, baseDelayMs: 1, retryLimit: 2 },
      ...extra,
    });

  it('listNodes() - walks page 1..pages, one request per page', async () => {
    handle = (req) => {
      const page = Number(new URL(req.url, server.url).searchParams.get('page'));
      return { body: { data: [instance(page * 10), instance(page * 10 + 1)], page, pages: 3, results: 6 } };
    };
    const nodes = await collect(make({ pageSize: 25 }).listNodes());
    expect(nodes.map((n) => n.id)).toEqual(['10', '11', '20', '21', '30', '31']);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/v4/linode/instances?page=1&page_size=25',
      '/v4/linode/instances?page=2&page_size=25',
      '/v4/linode/instances?page=3&page_size=25',
    ]);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(nodes[0]).toEqual({
      uid: 'lin:10',
      id: '10',
      name: 'app-10',
      provider: 'lin',
      kind: 'linode',
      state: 'running',
      rawState: 'running',
      region: 'eu-west',
      publicIps: ['138.89.34.81', '2a01:7e00::f03c:92ff:fe48:dc47'],
      privateIps: ['192.168.1.230'],
      size: 'g6-nanode-1',
      image: 'linode/debian12',
      createdAt: new Date('2020-10-08T18:51:29Z'),
      tags: {},
      extra: {
        group: '',
        hypervisor: 'kvm',
        specs: { disk: 25600, memory: 1024, vcpus: 1 },
        watchdog_enabled: true,
        updated: '2020-10-08T18:51:29',
      },
    });
  });

  it('listNodes() - a server that repeats a page raises E_PROVIDER', async () => {
    handle = () => ({ body: { data: [instance(1)], page: 1, pages: 5 } });
    const err = await catchErr(collect(make().listNodes()));
    expect(err.code).toBe('E_PROVIDER');
    expect(server.requests).toHaveLength(2);
  });

  it('listNodes() - every state, unknown words, tags and non-ASCII labels', async () => {
    const statuses = [...Object.keys(LINODE_STATES), 'teleporting'];
    handle = () => ({
      body: {
        data: statuses.map((s, i) =>
          instance(i, { status: s, label: 'Zürich-节点', tags: ['role:web', 'prod'] }),
        ),
        page: 1,
        pages: 1,
      },
    });
    const nodes = await collect(make().listNodes());
    expect(Object.fromEntries(nodes.map((n) => [n.rawState, n.state]))).toEqual({
      ...LINODE_STATES,
      teleporting: 'unknown',
    });
    expect(LINODE_STATES.offline).toBe('stopped');
    expect(LINODE_STATES.booting).toBe('starting');
    expect(nodes[0]!.name).toBe('Zürich-节点');
    expect(nodes[0]!.tags).toEqual({ role: 'web', prod: '' });
  });

  it('listNodes() - throttling with Retry-After, then auth failure without the token', async () => {
    const s = recordingSleep();
    let n = 0;
    handle = () =>
      n++ < 2
        ? {
            status: 429,
            headers: { 'retry-after': '0' },
            body: { errors: [{ reason: 'Too many requests' }] },
          }
        : { body: { data: [instance(1)], page: 1, pages: 1 } };
    expect(
      await collect(
        linode({
          id: 'lin',
          token: TOKEN,
          baseUrl: server.url,
          http: { sleep: s.sleep, random: () => 0 },
        }).listNodes(),
      ),
    ).toHaveLength(1);
    expect(s.waits).toEqual([0, 0]);
    handle = () => ({ status: 401, body: { errors: [{ reason: `Invalid Token ${TOKEN}` }] } });
    const err = await catchErr(collect(make().listNodes()));
    expect(err.code).toBe('E_AUTH');
    expect(err.message).toContain('Invalid Token');
    expect(JSON.stringify(err)).not.toContain(TOKEN);
    expect(err.message).not.toContain(TOKEN);
  });

  it('listNodes() - malformed and truncated bodies', async () => {
    handle = () => ({ body: '{"data": [' });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_MALFORMED_RESPONSE');
    handle = () => ({ body: { data: [instance(1)], page: 1, pages: 1 }, truncate: true });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_MALFORMED_RESPONSE');
  });

  it('getNode() - node or undefined on 404', async () => {
    handle = (req) =>
      req.url.endsWith('/5')
        ? { body: instance(5, { status: 'offline' }) }
        : { status: 404, body: { errors: [{ reason: 'Not found' }] } };
    expect((await make().getNode('5'))?.state).toBe('stopped');
    expect(await make().getNode('6')).toBeUndefined();
  });

  it('setTags() / removeTags() - merge into the current tags and PUT the whole list', async () => {
    handle = (req) =>
      req.method === 'GET'
        ? { body: instance(5, { tags: ['role:web', 'prod', 'team:a'] }) }
        : { body: instance(5) };
    await make().setTags!('5', { role: 'db', zone: 'b' });
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'PUT']);
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ tags: ['role:db', 'prod', 'team:a', 'zone:b'] });
    await make().removeTags!('5', ['team']);
    expect(JSON.parse(server.requests[3]!.body)).toEqual({ tags: ['role:web', 'prod'] });
  });

  it('rebootNode() / startNode() / stopNode() / createNode() / destroyNode()', async () => {
    handle = (req) =>
      req.method === 'POST' && req.url.endsWith('/instances')
        ? { body: instance(77, { status: 'provisioning' }) }
        : { body: {} };
    const p = make();
    await p.rebootNode!('5');
    await p.startNode!('5');
    await p.stopNode!('5');
    const node = await p.createNode!({
      name: 'n',
      size: 'g6-nanode-1',
      image: 'linode/debian12',
      region: 'eu-west',
      tags: { a: 'b' },
      extra: { root_pass: 'Sup3rS3cret!' },
    });
    await p.destroyNode!('77');
    expect(node.state).toBe('pending');
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /v4/linode/instances/5/reboot',
      'POST /v4/linode/instances/5/boot',
      'POST /v4/linode/instances/5/shutdown',
      'POST /v4/linode/instances',
      'DELETE /v4/linode/instances/77',
    ]);
    expect(JSON.parse(server.requests[3]!.body)).toEqual({
      root_pass: 'Sup3rS3cret!',
      label: 'n',
      type: 'g6-nanode-1',
      image: 'linode/debian12',
      region: 'eu-west',
      tags: ['a:b'],
    });
  });

  it('linode() - LINODE_TOKEN default; missing → E_CONFIG naming it', () => {
    withEnv({ LINODE_TOKEN: undefined }, () => {
      expect(() => linode({ id: 'l' })).toThrow(
        expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining('LINODE_TOKEN') }),
      );
    });
    withEnv({ LINODE_TOKEN: 'x-token' }, () => expect(linode({ id: 'l' }).id).toBe('l'));
    expect(() => make({ pageSize: 10 })).toThrow(expect.objectContaining({ path: 'options.pageSize' }));
  });
});
