import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIGITALOCEAN_STATES, digitalocean } from '../../src/providers/digitalocean.js';
import {
  catchErr,
  collect,
  type RecordedRequest,
  type ReplayResponse,
  type ReplayServer,
  recordingSleep,
  startReplayServer,
} from './server.js';

const TOKEN = 'dop_v1_supersecrettokenvalue0123456789';

function droplet(id: number, over: Record<string, unknown> = {}) {
  return {
    id,
    name: `web-${id}`,
    memory: 1024,
    vcpus: 1,
    disk: 25,
    locked: false,
    status: 'active',
    created_at: '2020-10-15T13:58:22Z',
    features: ['ipv6'],
    image: { id: 69463186, slug: 'ubuntu-20-04-x64' },
    size_slug: 's-1vcpu-1gb',
    networks: {
      v4: [
        { ip_address: `10.0.0.${id % 250}`, type: 'private' },
        { ip_address: `203.0.113.${id % 250}`, type: 'public' },
      ],
      v6: [{ ip_address: '2604:a880::1', type: 'public' }],
    },
    region: { slug: 'sfo3', name: 'San Francisco 3' },
    tags: [],
    vpc_uuid: 'vpc-1',
    ...over,
  };
}

describe('digitalocean()', () => {
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
    digitalocean({
      id: 'do',
      token: TOKEN,
      baseUrl: `${server.url}/v2/`,
      http: { sleep: recordingSleep().sleep, baseDelayMs: 1, retryLimit: 2 },
      ...extra,
    });

  it('listNodes() - follows links.pages.next over several pages, one request per page', async () => {
    const pages = [[droplet(1), droplet(2)], [droplet(3), droplet(4)], [droplet(5)]];
    handle = (req) => {
      const u = new URL(req.url, server.url);
      const page = Number(u.searchParams.get('page'));
      const next = page < 3 ? `${server.url}/v2/droplets?page=${page + 1}&per_page=2` : undefined;
      return {
        body: { droplets: pages[page - 1], links: next ? { pages: { next } } : {}, meta: { total: 5 } },
      };
    };
    const seen: number[] = [];
    const nodes = await collect(make({ perPage: 2 }).listNodes({ onPage: (p) => seen.push(p.nodes) }));
    expect(nodes.map((n) => n.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(server.requests).toHaveLength(3);
    expect(server.requests[0]!.url).toBe('/v2/droplets?page=1&per_page=2');
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.requests[0]!.headers['user-agent']).toMatch(/^fleetwatch\//);
    expect(seen).toEqual([2, 2, 1]);
    expect(nodes[0]).toEqual({
      uid: 'do:1',
      id: '1',
      name: 'web-1',
      provider: 'do',
      kind: 'digitalocean',
      state: 'running',
      rawState: 'active',
      region: 'sfo3',
      publicIps: ['203.0.113.1', '2604:a880::1'],
      privateIps: ['10.0.0.1'],
      size: 's-1vcpu-1gb',
      image: 'ubuntu-20-04-x64',
      createdAt: new Date('2020-10-15T13:58:22Z'),
      tags: {},
      extra: {
        memory: 1024,
        vcpus: 1,
        disk: 25,
        locked: false,
        features: ['ipv6'],
        vpc_uuid: 'vpc-1',
        size_slug: 's-1vcpu-1gb',
      },
    });
  });

  it('listNodes() - maps every state, unknown words to unknown, keeps rawState; tags and non-ASCII names', async () => {
    const statuses = [...Object.keys(DIGITALOCEAN_STATES), 'hibernating', 'constructor'];
    handle = () => ({
      body: {
        droplets: statuses.map((s, i) =>
          droplet(i + 1, { status: s, name: 'サーバー-ü-😀', tags: ['env:prod', 'database', 'a:b:c'] }),
        ),
        links: {},
      },
    });
    const nodes = await collect(make().listNodes());
    expect(nodes.map((n) => [n.rawState, n.state])).toEqual([
      ['new', 'pending'],
      ['active', 'running'],
      ['off', 'stopped'],
      ['archive', 'terminated'],
      ['hibernating', 'unknown'],
      ['constructor', 'unknown'],
    ]);
    expect(nodes[0]!.name).toBe('サーバー-ü-😀');
    expect(nodes[0]!.tags).toEqual({ env: 'prod', database: '', a: 'b:c' });
  });

  it('listNodes() - a next link that repeats raises E_PROVIDER instead of looping', async () => {
    handle = () => ({
      body: { droplets: [droplet(1)], links: { pages: { next: `${server.url}/v2/droplets?page=2` } } },
    });
    const err = await catchErr(collect(make().listNodes()));
    expect(err.code).toBe('E_PROVIDER');
    expect(server.requests.length).toBe(2);
  });

  it('listNodes() - a next link to another host is refused (the token is never sent there)', async () => {
    handle = () => ({
      body: { droplets: [], links: { pages: { next: 'https://evil.example/v2/droplets?page=2' } } },
    });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_PROVIDER');
  });

  it('listNodes() - retries 429 with Retry-After then continues', async () => {
    let n = 0;
    const s = recordingSleep();
    handle = () =>
      n++ === 0
        ? {
            status: 429,
            headers: { 'retry-after': '1', 'ratelimit-remaining': '0' },
            body: { id: 'too_many_requests', message: 'API Rate limit exceeded.' },
          }
        : { body: { droplets: [droplet(9)], links: {} } };
    const p = digitalocean({
      id: 'do',
      token: TOKEN,
      baseUrl: `${server.url}/v2`,
      http: { sleep: s.sleep, random: () => 0 },
    });
    expect((await collect(p.listNodes())).map((x) => x.id)).toEqual(['9']);
    expect(s.waits).toEqual([1000]);
  });

  it('listNodes() - auth failure is E_AUTH without the token anywhere', async () => {
    handle = () => ({
      status: 401,
      body: { id: 'unauthorized', message: `Unable to authenticate you (${TOKEN}).` },
    });
    const err = await catchErr(collect(make().listNodes()));
    expect(err.code).toBe('E_AUTH');
    expect(err.providerCode).toBe('unauthorized');
    expect(err.message).not.toContain(TOKEN);
    expect(JSON.stringify(err)).not.toContain(TOKEN);
    expect(String(err.stack)).not.toContain(TOKEN);
    expect(JSON.stringify(make())).not.toContain(TOKEN);
    expect(inspect(err, { depth: 10 })).not.toContain(TOKEN);
    expect(inspect(make(), { depth: 10, showHidden: true })).not.toContain(TOKEN);
  });

  it('listNodes() - malformed and truncated bodies are E_MALFORMED_RESPONSE', async () => {
    handle = () => ({ body: '{"droplets": [{"id": 1,' });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_MALFORMED_RESPONSE');
    handle = () => ({ body: { droplets: 'nope' } });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_MALFORMED_RESPONSE');
    handle = () => ({ body: { droplets: [droplet(1)], links: {} }, truncate: true });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_MALFORMED_RESPONSE');
  });

  it('getNode() - returns the node, or undefined on 404', async () => {
    handle = (req) =>
      req.url === '/v2/droplets/7'
        ? { body: { droplet: droplet(7, { status: 'off' }) } }
        : {
            status: 404,
            body: { id: 'not_found', message: 'The resource you were accessing could not be found.' },
          };
    const node = await make().getNode('7');
    expect(node?.state).toBe('stopped');
    expect(node?.uid).toBe('do:7');
    expect(await make().getNode('8')).toBeUndefined();
  });

  it('setTags() - merges: adds via tag resources, replaces values of the given keys, keeps other tags', async () => {
    handle = (req) =>
      req.method === 'GET'
        ? { body: { droplet: droplet(7, { tags: ['env:dev', 'keep', 'old', 'other:x'] }) } }
        : { status: 204 };
    await make().setTags!('7', { env: 'prod', keep: '', old: 'v2' });
    const calls = server.requests.slice(1).map((r) => `${r.method} ${r.url} ${r.body}`);
    const res = '{"resources":[{"resource_id":"7","resource_type":"droplet"}]}';
    expect(calls).toEqual([
      'POST /v2/tags {"name":"env:prod"}',
      `POST /v2/tags/env%3Aprod/resources ${res}`,
      'POST /v2/tags {"name":"old:v2"}',
      `POST /v2/tags/old%3Av2/resources ${res}`,
      `DELETE /v2/tags/env%3Adev/resources ${res}`,
      `DELETE /v2/tags/old/resources ${res}`,
    ]);
  });

  it('removeTags() - removes tags by key', async () => {
    handle = (req) =>
      req.method === 'GET'
        ? { body: { droplet: droplet(7, { tags: ['env:dev', 'keep'] }) } }
        : { status: 204 };
    await make().removeTags!('7', ['env']);
    expect(server.requests.slice(1).map((r) => `${r.method} ${r.url}`)).toEqual([
      'DELETE /v2/tags/env%3Adev/resources',
    ]);
  });

  it('setTags() - rejects keys with ":" and bad characters', async () => {
    await expect(make().setTags!('7', { 'a:b': 'c' })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'tags.a:b',
    });
    await expect(make().setTags!('7', { role: 'web server' })).rejects.toMatchObject({
      code: 'E_VALIDATION',
    });
  });

  it('rebootNode() / startNode() / stopNode() - post droplet actions (stop is a graceful shutdown)', async () => {
    handle = () => ({ status: 201, body: { action: { id: 1, status: 'in-progress', type: 'reboot' } } });
    const p = make();
    await p.rebootNode!('7');
    await p.startNode!('7');
    await p.stopNode!('7');
    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
      'POST /v2/droplets/7/actions {"type":"reboot"}',
      'POST /v2/droplets/7/actions {"type":"power_on"}',
      'POST /v2/droplets/7/actions {"type":"shutdown"}',
    ]);
  });

  it('createNode() / destroyNode() - create with tags, delete', async () => {
    handle = (req) =>
      req.method === 'POST'
        ? { status: 202, body: { droplet: droplet(42, { status: 'new', name: 'db-1', tags: ['role:db'] }) } }
        : { status: 204 };
    const p = make();
    const node = await p.createNode!({
      name: 'db-1',
      size: 's-1vcpu-1gb',
      image: 'ubuntu-20-04-x64',
      region: 'sfo3',
      tags: { role: 'db' },
      extra: { ipv6: true },
    });
    expect(node).toMatchObject({ id: '42', state: 'pending', tags: { role: 'db' } });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      ipv6: true,
      name: 'db-1',
      size: 's-1vcpu-1gb',
      image: 'ubuntu-20-04-x64',
      region: 'sfo3',
      tags: ['role:db'],
    });
    await p.destroyNode!('42');
    expect(server.requests[1]!.method).toBe('DELETE');
    expect(server.requests[1]!.url).toBe('/v2/droplets/42');
    await expect(
      p.createNode!({ name: 'x', size: 's', image: 'i', extra: { password: 'p' } }),
    ).rejects.toMatchObject({ path: 'input.extra.password' });
  });

  it('digitalocean() - token from DIGITALOCEAN_TOKEN; missing → E_CONFIG naming it', () => {
    const saved = process.env.DIGITALOCEAN_TOKEN;
    try {
      delete process.env.DIGITALOCEAN_TOKEN;
      expect(() => digitalocean({ id: 'do' })).toThrow(
        expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining('DIGITALOCEAN_TOKEN') }),
      );
      process.env.DIGITALOCEAN_TOKEN = 'from-env-token';
      expect(digitalocean({ id: 'do' }).kind).toBe('digitalocean');
      expect(() => digitalocean({ id: 'do', tokn: 'x' } as never)).toThrow(
        expect.objectContaining({ code: 'E_VALIDATION', path: 'options.tokn' }),
      );
      expect(() => digitalocean({ id: '' })).toThrow(expect.objectContaining({ path: 'options.id' }));
      expect(() => digitalocean({ id: 'do', perPage: 500 })).toThrow(
        expect.objectContaining({ path: 'options.perPage' }),
      );
    } finally {
      if (saved === undefined) delete process.env.DIGITALOCEAN_TOKEN;
      else process.env.DIGITALOCEAN_TOKEN = saved;
    }
  });
});
