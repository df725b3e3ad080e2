import { createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GCE_STATES, gce } from '../../src/providers/gce.js';
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

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const EMAIL = 'fleet@proj.iam.gserviceaccount.com';
const ACCESS = 'ya29.access-token-SECRET-value';

function instance(zone: string, name: string, over: Record<string, unknown> = {}) {
  return {
    id: '4006034190819017667',
    name,
    status: 'RUNNING',
    creationTimestamp: '2013-12-13T10:45:23.351-08:00',
    zone: `https://www.googleapis.com/compute/v1/projects/proj/zones/${zone}`,
    machineType: `https://www.googleapis.com/compute/v1/projects/proj/zones/${zone}/machineTypes/n1-standard-1`,
    networkInterfaces: [{ networkIP: '10.240.72.75', accessConfigs: [{ natIP: '23.236.58.15' }] }],
    labels: { role: 'web' },
    labelFingerprint: 'fp-1',
    tags: { items: ['http-server'], fingerprint: 'x' },
    metadata: { items: [{ key: 'startup-script', value: 'echo secret' }] },
    ...over,
  };
}

function decodeJwt(jwt: string) {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const ok = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(s, 'base64url'));
  return {
    ok,
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}

describe('gce()', () => {
  let server: ReplayServer;
  let handle: (req: RecordedRequest) => ReplayResponse;
  let tokenHandle: (req: RecordedRequest) => ReplayResponse;
  let tokensIssued = 0;
  beforeAll(async () => {
    server = await startReplayServer((req) =>
      req.url.startsWith('/token') ? tokenHandle(req) : handle(req),
    );
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    tokensIssued = 0;
    tokenHandle = () => ({
      body: { access_token: `${ACCESS}-${++tokensIssued}`, expires_in: 3599, token_type: 'Bearer' },
    });
  });
  const make = (extra: Record<string, unknown> = {}) =>
    gce({
      id: 'g',
      project: 'proj',
      serviceAccount: { client_email: EMAIL, private_key: PEM },
      baseUrl: `${server.url}/compute/v1`,
      tokenUrl: `${server.url}/token`,
      http: { sleep: recordingSleep().sleep, baseDelayMs: 1, retryLimit: 2 },
      ...extra,
    });
  const apiRequests = () => server.requests.filter((r) => !r.url.startsWith('/token'));

  it('listNodes() - signs a JWT, fetches one token, follows pageToken over aggregated zones', async () => {
    handle = (req) => {
      const token = new URL(req.url, server.url).searchParams.get('pageToken');
      if (!token)
        return {
          body: {
            items: {
              'zones/us-central1-a': {
                instances: [instance('us-central1-a', 'a1'), instance('us-central1-a', 'a2')],
              },
              'zones/us-central1-b': { warning: { code: 'NO_RESULTS_ON_PAGE' } },
            },
            nextPageToken: 't2',
          },
        };
      if (token === 't2')
        return {
          body: {
            items: { 'zones/europe-west1-b': { warning: { code: 'NO_RESULTS_ON_PAGE' } } },
            nextPageToken: 't3',
          },
        };
      return {
        body: { items: { 'zones/europe-west1-b': { instances: [instance('europe-west1-b', 'e1')] } } },
      };
    };
    const nodes = await collect(make().listNodes());
    expect(nodes.map((n) => n.uid)).toEqual([
      'g:us-central1-a/a1',
      'g:us-central1-a/a2',
      'g:europe-west1-b/e1',
    ]);
    expect(apiRequests().map((r) => r.url)).toEqual([
      '/compute/v1/projects/proj/aggregated/instances?maxResults=500',
      '/compute/v1/projects/proj/aggregated/instances?maxResults=500&pageToken=t2',
      '/compute/v1/projects/proj/aggregated/instances?maxResults=500&pageToken=t3',
    ]);
    expect(apiRequests()[0]!.headers.authorization).toBe(`Bearer ${ACCESS}-1`);
    const tokenReqs = server.requests.filter((r) => r.url.startsWith('/token'));
    expect(tokenReqs).toHaveLength(1);
    const form = new URLSearchParams(tokenReqs[0]!.body);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const jwt = decodeJwt(form.get('assertion')!);
    expect(jwt.ok).toBe(true);
    expect(jwt.header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(jwt.claims).toMatchObject({
      iss: EMAIL,
      aud: `${server.url}/token`,
      scope: 'https://www.googleapis.com/auth/compute',
    });
    expect(jwt.claims.exp - jwt.claims.iat).toBe(3600);
    expect(nodes[2]).toMatchObject({
      id: 'europe-west1-b/e1',
      name: 'e1',
      kind: 'gce',
      region: 'europe-west1',
      zone: 'europe-west1-b',
      publicIps: ['23.236.58.15'],
      privateIps: ['10.240.72.75'],
      size: 'n1-standard-1',
      tags: { role: 'web' },
      createdAt: new Date('2013-12-13T18:45:23.351Z'),
      extra: { id: '4006034190819017667', labelFingerprint: 'fp-1', networkTags: ['http-server'] },
    });
    expect(JSON.stringify(nodes[2]!.extra)).not.toContain('startup-script');
  });

  it('listNodes() - every state, unknown words and non-ASCII label values', async () => {
    const statuses = [...Object.keys(GCE_STATES), 'HIBERNATING'];
    handle = () => ({
      body: {
        items: {
          'zones/z-a': {
            instances: statuses.map((s, i) =>
              instance('z-a', `n${i}`, { status: s, labels: { owner: 'jürgen' } }),
            ),
          },
        },
      },
    });
    const nodes = await collect(make().listNodes());
    expect(Object.fromEntries(nodes.map((n) => [n.rawState, n.state]))).toEqual({
      ...GCE_STATES,
      HIBERNATING: 'unknown',
    });
    expect(GCE_STATES.TERMINATED).toBe('stopped');
    expect(nodes[0]!.tags).toEqual({ owner: 'jürgen' });
  });

  it('listNodes() - a repeated pageToken raises E_PROVIDER', async () => {
    handle = () => ({ body: { items: {}, nextPageToken: 'same' } });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_PROVIDER');
    expect(apiRequests()).toHaveLength(2);
  });

  it('listNodes() - 403 rateLimitExceeded is throttling: waits Retry-After and retries', async () => {
    const s = recordingSleep();
    let n = 0;
    handle = () =>
      n++ === 0
        ? {
            status: 403,
            headers: { 'retry-after': '1' },
            body: {
              error: {
                code: 403,
                message: 'Rate Limit Exceeded',
                errors: [{ reason: 'rateLimitExceeded', domain: 'usageLimits' }],
              },
            },
          }
        : { body: { items: { 'zones/z-a': { instances: [instance('z-a', 'x')] } } } };
    const nodes = await collect(make({ http: { sleep: s.sleep, random: () => 0 } }).listNodes());
    expect(nodes).toHaveLength(1);
    expect(s.waits).toEqual([1000]);
  });

  it('refreshes an expired token before use, and once on 401', async () => {
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    tokenHandle = () => ({ body: { access_token: `${ACCESS}-${++tokensIssued}`, expires_in: 120 } });
    handle = (req) =>
      req.headers.authorization === `Bearer ${ACCESS}-2` && !req.url.includes('retry')
        ? {
            status: 401,
            body: { error: { code: 401, message: 'Invalid Credentials', errors: [{ reason: 'authError' }] } },
          }
        : { body: { items: {} } };
    const p = make({ clock });
    await collect(p.listNodes());
    now += 61_000; // within refreshBeforeMs (60 s) of expiry → refresh
    await collect(p.listNodes()); // token 2 → 401 → token 3
    expect(tokensIssued).toBe(3);
    expect(apiRequests().map((r) => r.headers.authorization)).toEqual([
      `Bearer ${ACCESS}-1`,
      `Bearer ${ACCESS}-2`,
      `Bearer ${ACCESS}-3`,
    ]);
  });

  it('token endpoint invalid_grant is E_AUTH, with no key or token in the error', async () => {
    tokenHandle = () => ({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
    });
    handle = () => ({ body: { items: {} } });
    const err = await catchErr(collect(make().listNodes()));
    expect(err.code).toBe('E_AUTH');
    expect(err.providerCode).toBe('invalid_grant');
    const dump = `${err.message} ${JSON.stringify(err)} ${String((err as Error).stack)}`;
    expect(dump).not.toContain('PRIVATE KEY');
    expect(dump).not.toContain('assertion');
  });

  it('API errors never show the access token', async () => {
    handle = () => ({
      status: 400,
      body: {
        error: { code: 400, message: `bad request from ${ACCESS}-1`, errors: [{ reason: 'invalid' }] },
      },
    });
    const err = await catchErr(collect(make().listNodes()));
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('invalid');
    expect(`${err.message}${JSON.stringify(err)}`).not.toContain(ACCESS);
    expect(JSON.stringify(make())).not.toContain('PRIVATE');
  });

  it('listNodes() - malformed and truncated bodies', async () => {
    handle = () => ({ body: '{"items": {' });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_MALFORMED_RESPONSE');
    handle = () => ({ body: { items: { 'zones/a': { instances: [instance('a', 'b')] } } }, truncate: true });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_MALFORMED_RESPONSE');
  });

  it('getNode() - by "<zone>/<name>", undefined on 404, bad ids rejected', async () => {
    handle = (req) =>
      req.url.endsWith('/zones/us-central1-a/instances/web-1')
        ? { body: instance('us-central1-a', 'web-1', { status: 'TERMINATED' }) }
        : {
            status: 404,
            body: { error: { code: 404, message: 'not found', errors: [{ reason: 'notFound' }] } },
          };
    expect((await make().getNode('us-central1-a/web-1'))?.state).toBe('stopped');
    expect(await make().getNode('us-central1-a/nope')).toBeUndefined();
    await expect(make().getNode('web-1')).rejects.toMatchObject({ code: 'E_VALIDATION', path: 'id' });
  });

  it('setTags() - merges into the labels, setLabels with the fingerprint; retries once on a stale fingerprint (412)', async () => {
    let posts = 0;
    handle = (req) => {
      if (req.method === 'GET')
        return { body: instance('z-a', 'n', { labelFingerprint: `fp-${posts + 1}` }) };
      posts++;
      return posts === 1
        ? {
            status: 412,
            body: {
              error: {
                code: 412,
                message: 'Labels fingerprint invalid',
                errors: [{ reason: 'conditionNotMet' }],
              },
            },
          }
        : {
            body: {
              kind: 'compute#operation',
              name: 'op-1',
              zone: 'projects/proj/zones/z-a',
              status: 'PENDING',
            },
          };
    };
    await make().setTags!('z-a/n', { env: 'prod', team: '' });
    const setCalls = apiRequests().filter((r) => r.method === 'POST');
    expect(setCalls).toHaveLength(2);
    expect(setCalls[1]!.url).toBe('/compute/v1/projects/proj/zones/z-a/instances/n/setLabels');
    expect(JSON.parse(setCalls[1]!.body)).toEqual({
      labels: { role: 'web', env: 'prod', team: '' },
      labelFingerprint: 'fp-2',
    });
    await expect(make().setTags!('z-a/n', { Env: 'x' })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'tags.Env',
    });
  });

  it('removeTags() - keeps the other labels', async () => {
    handle = (req) =>
      req.method === 'GET'
        ? { body: instance('z-a', 'n', { labels: { a: '1', b: '2' } }) }
        : { body: { name: 'op-2', zone: 'projects/proj/zones/z-a', status: 'DONE' } };
    await make().removeTags!('z-a/n', ['a']);
    expect(JSON.parse(apiRequests()[1]!.body).labels).toEqual({ b: '2' });
  });

  it('startNode() / stopNode() / rebootNode() - post start/stop/reset; a failed operation is E_PROVIDER', async () => {
    handle = (req) =>
      req.url.endsWith('/reset')
        ? {
            body: {
              status: 'DONE',
              error: { errors: [{ code: 'RESOURCE_NOT_READY', message: 'not ready' }] },
            },
          }
        : { body: { name: 'op-3', zone: 'projects/proj/zones/z-a', status: 'PENDING' } };
    const p = make();
    await p.startNode!('z-a/n');
    await p.stopNode!('z-a/n');
    const err = await catchErr(p.rebootNode!('z-a/n'));
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('RESOURCE_NOT_READY');
    expect(apiRequests().map((r) => r.url.split('/').pop())).toEqual(['start', 'stop', 'reset']);
  });

  it('gce() - key from GOOGLE_APPLICATION_CREDENTIALS; missing or unreadable → E_CONFIG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-gce-'));
    try {
      const file = join(dir, 'key.json');
      writeFileSync(
        file,
        JSON.stringify({
          type: 'service_account',
          project_id: 'from-file',
          client_email: EMAIL,
          private_key: PEM,
        }),
      );
      withEnv({ GOOGLE_APPLICATION_CREDENTIALS: file }, () => {
        expect(gce({ id: 'g' }).toString()).toBeDefined();
        expect(JSON.stringify(gce({ id: 'g' }))).toContain('from-file');
      });
      withEnv({ GOOGLE_APPLICATION_CREDENTIALS: undefined }, () => {
        expect(() => gce({ id: 'g', project: 'p' })).toThrow(
          expect.objectContaining({
            code: 'E_CONFIG',
            message: expect.stringContaining('GOOGLE_APPLICATION_CREDENTIALS'),
          }),
        );
      });
      withEnv({ GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'missing.json') }, () => {
        expect(() => gce({ id: 'g', project: 'p' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
      });
      expect(() =>
        gce({ id: 'g', project: 'p', serviceAccount: { client_email: EMAIL, private_key: 'not a key' } }),
      ).toThrow(
        expect.objectContaining({ code: 'E_VALIDATION', path: 'options.serviceAccount.private_key' }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
