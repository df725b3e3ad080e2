/**
 * The EC2 adapter against a local replay server, for what moto cannot show: throttling, auth
 * failures, malformed bodies, a looping NextToken, signing details and secret hygiene. Plus the
 * recorded real responses in ../shared/fixtures/providers/ec2 where present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import {
  EC2_STATES,
  ec2,
  ec2ElasticIpsFromXml,
  ec2NodesFromXml,
  ec2RegionsFromXml,
} from '../../src/providers/ec2.js';
import { parseEc2Error, parseEc2Xml } from '../../src/providers/ec2-xml.js';
import type { Node } from '../../src/providers/types.js';
import { ec2ReplaySetup } from './ec2-replay-setup.js';
import type { RecordedRequest, ReplayResponse } from './server.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION = 'FwoGZXIvYXdzEXAMPLESESSIONTOKENVALUE0123456789';
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET, sessionToken: SESSION };
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

const xml = (body: string, status = 200): ReplayResponse => ({
  status,
  headers: { 'content-type': 'text/xml;charset=UTF-8' },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
});
const ec2Error = (code: string, message: string, status = 400) =>
  xml(
    `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>req-1</RequestID></Response>`,
    status,
  );
const instance = (id: string, state: string, tags: Record<string, string> = {}) =>
  `<item><instanceId>${id}</instanceId><imageId>ami-1</imageId><instanceState><code>16</code><name>${state}</name></instanceState>` +
  `<instanceType>t3.small</instanceType><privateIpAddress>10.0.0.${id.length}</privateIpAddress>` +
  `<placement><availabilityZone>eu-west-1a</availabilityZone></placement><tagSet>${Object.entries(tags)
    .map(([k, v]) => `<item><key>${k}</key><value>${v}</value></item>`)
    .join('')}</tagSet></item>`;
const describeInstances = (instances: string[], nextToken?: string) =>
  xml(
    `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet>${instances
      .map((i, n) => `<item><reservationId>r-${n}</reservationId><instancesSet>${i}</instancesSet></item>`)
      .join(
        '',
      )}</reservationSet>${nextToken === undefined ? '' : `<nextToken>${nextToken}</nextToken>`}</DescribeInstancesResponse>`,
  );
const noAddresses = xml('<DescribeAddressesResponse><addressesSet/></DescribeAddressesResponse>');

type Handler = (req: RecordedRequest, params: URLSearchParams) => ReplayResponse;
let handler: Handler = () => ({ status: 500 });
const replay = ec2ReplaySetup(
  (req) => handler(req, new URLSearchParams(req.body)),
  (url) => ({ credentials, endpoint: url, clock: { now: () => NOW } }),
);
const provider = replay.provider;

async function collect(iterable: AsyncIterable<Node>): Promise<Node[]> {
  const out: Node[] = [];
  for await (const n of iterable) out.push(n);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<FleetwatchError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FleetwatchError);
  return err as FleetwatchError;
}

const actions = () => replay.server.requests.map((r) => new URLSearchParams(r.body).get('Action'));

describe('ec2() against a replay server', () => {
  it('signs with SigV4 for the region, the injected clock and the session token', async () => {
    handler = (_req, q) => (q.get('Action') === 'DescribeAddresses' ? noAddresses : describeInstances([]));
    await collect(provider().p.listNodes());
    const req = replay.server.requests[0] as RecordedRequest;
    expect(req.method).toBe('POST');
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20260102\/eu-west-1\/ec2\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-date[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(req.headers['x-amz-date']).toBe('20260102T030405Z');
    expect(req.headers['x-amz-security-token']).toBe(SESSION);
    expect(new URLSearchParams(req.body).get('Version')).toBe('2016-11-15');
  });

  it('listNodes() - one DescribeAddresses per region, not per node or page', async () => {
    handler = (_req, q) => {
      if (q.get('Action') === 'DescribeAddresses')
        return xml(
          '<DescribeAddressesResponse><addressesSet><item><publicIp>203.0.113.9</publicIp><instanceId>i-b</instanceId></item>' +
            '<item><publicIp>203.0.113.10</publicIp></item></addressesSet></DescribeAddressesResponse>',
        );
      return q.get('NextToken') === null
        ? describeInstances([instance('i-a', 'running'), instance('i-b', 'running')], 'tok-2')
        : describeInstances([instance('i-c', 'stopped')]);
    };
    const nodes = await collect(provider().p.listNodes());
    expect(nodes.map((n) => n.id)).toEqual(['i-a', 'i-b', 'i-c']);
    expect(nodes.map((n) => n.publicIps)).toEqual([[], ['203.0.113.9'], []]);
    expect(actions().filter((a) => a === 'DescribeAddresses')).toHaveLength(1);
    expect(actions().filter((a) => a === 'DescribeInstances')).toHaveLength(2);
  });

  it('listNodes() - retries RequestLimitExceeded, then succeeds', async () => {
    let calls = 0;
    handler = (_req, q) => {
      if (q.get('Action') === 'DescribeAddresses') return noAddresses;
      calls++;
      return calls === 1
        ? ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503)
        : describeInstances([instance('i-a', 'running')]);
    };
    const { p, waits } = provider();
    const nodes = await collect(p.listNodes());
    expect(nodes.map((n) => n.id)).toEqual(['i-a']);
    expect(calls).toBe(2);
    expect(waits).toHaveLength(1);
  });

  it('listNodes() - RequestLimitExceeded on HTTP 400 is a throttle too; E_RATE_LIMIT once retries run out', async () => {
    let calls = 0;
    handler = (_req, q) => {
      if (q.get('Action') === 'DescribeAddresses') return noAddresses;
      calls++;
      return ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 400);
    };
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const { p } = provider({ http: { retryLimit: 2, sleep, random: () => 0 } });
    const err = await failure(collect(p.listNodes()));
    expect(err.code).toBe('E_RATE_LIMIT');
    expect(err.providerCode).toBe('RequestLimitExceeded');
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it.each([
    ['AuthFailure', 401],
    ['InvalidClientTokenId', 400],
    ['SignatureDoesNotMatch', 403],
  ])('%s (HTTP %i) → E_AUTH with providerCode, not retried', async (code, status) => {
    handler = () => ec2Error(code, 'AWS was not able to validate the provided access credentials', status);
    const { p, waits } = provider();
    const err = await failure(collect(p.listNodes()));
    expect(err.code).toBe('E_AUTH');
    expect(err.providerCode).toBe(code);
    expect(err.provider).toBe('aws-replay');
    expect(waits).toEqual([]);
  });

  it('other EC2 error codes → E_PROVIDER with providerCode', async () => {
    handler = () => ec2Error('InvalidParameterValue', 'Value (x) for parameter MaxResults is invalid');
    const err = await failure(provider().p.rebootNode('i-1'));
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('InvalidParameterValue');
    expect(err.status).toBe(400);
  });

  it('getNode() - undefined on InvalidInstanceID.NotFound', async () => {
    handler = (_req, q) =>
      q.get('Action') === 'DescribeAddresses'
        ? noAddresses
        : ec2Error('InvalidInstanceID.NotFound', "The instance ID 'i-404' does not exist");
    expect(await provider().p.getNode('i-404')).toBeUndefined();
  });

  it.each([
    ['truncated XML', '<DescribeInstancesResponse><reservationSet><item><instancesSet>'],
    ['not XML', 'upstream connect error or disconnect/reset before headers'],
    ['another service', '<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>'],
  ])('listNodes() - %s → E_MALFORMED_RESPONSE', async (_name, body) => {
    handler = (_req, q) => (q.get('Action') === 'DescribeAddresses' ? noAddresses : xml(body));
    const err = await failure(collect(provider().p.listNodes()));
    expect(err.code).toBe('E_MALFORMED_RESPONSE');
    expect(err.provider).toBe('aws-replay');
  });

  it('listNodes() - a body cut off mid-transfer → E_MALFORMED_RESPONSE after the retries', async () => {
    handler = (_req, q) =>
      q.get('Action') === 'DescribeAddresses'
        ? noAddresses
        : { ...describeInstances([instance('i-a', 'running'), instance('i-b', 'running')]), truncate: true };
    const err = await failure(
      collect(provider({ http: { retryLimit: 1, sleep: async () => {} } }).p.listNodes()),
    );
    expect(err.code).toBe('E_MALFORMED_RESPONSE');
    expect(actions().filter((a) => a === 'DescribeInstances')).toHaveLength(2);
  });

  it('listNodes() - a repeated NextToken stops with E_PROVIDER instead of looping', async () => {
    let pages = 0;
    handler = (_req, q) => {
      if (q.get('Action') === 'DescribeAddresses') return noAddresses;
      pages++;
      return describeInstances([instance(`i-${pages}`, 'running')], pages === 1 ? 'tok-A' : 'tok-B');
    };
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        for await (const n of provider().p.listNodes()) seen.push(n.id);
      })(),
    );
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('PAGINATION_LOOP');
    expect(pages).toBe(3);
    expect(seen).toEqual(['i-1', 'i-2', 'i-3']);
  });

  it('non-ASCII tag values survive both ways', async () => {
    handler = (_req, q) => {
      if (q.get('Action') === 'CreateTags') return xml('<CreateTagsResponse/>');
      if (q.get('Action') === 'DescribeAddresses') return noAddresses;
      return describeInstances([
        instance('i-u', 'running', { Name: 'café-01', city: 'Zürich &amp; 東京 😀' }),
      ]);
    };
    const { p } = provider();
    const node = await p.getNode('i-u');
    expect(node?.name).toBe('café-01');
    expect(node?.tags.city).toBe('Zürich & 東京 😀');
    await p.setTags('i-u', { owner: 'Ærøskøbing' });
    const create = replay.server.requests.find(
      (r) => new URLSearchParams(r.body).get('Action') === 'CreateTags',
    );
    const params = new URLSearchParams(create?.body);
    expect(params.get('ResourceId.1')).toBe('i-u');
    expect(params.get('Tag.1.Key')).toBe('owner');
    expect(params.get('Tag.1.Value')).toBe('Ærøskøbing');
  });

  it('errors never show the secret key or session token, even when the server echoes them', async () => {
    handler = () => ec2Error('SignatureDoesNotMatch', `token ${SESSION} with key ${SECRET} rejected`, 403);
    const { p } = provider();
    const err = await failure(collect(p.listNodes()));
    const shown = [
      err.message,
      JSON.stringify(err),
      String(err.stack),
      String((err.cause as Error)?.message),
    ].join('\n');
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain(SESSION);
    expect(JSON.stringify(p)).not.toContain(SECRET);
    expect(inspect(p, { depth: 10, showHidden: true })).not.toContain(SECRET);
    const rebootErr = await failure(p.rebootNode('i-x'));
    expect(inspect(rebootErr, { depth: 10 })).not.toContain(SESSION);
  });

  it('logs (debug and retries included) never carry the keys or the session token', async () => {
    const lines: string[] = [];
    const log = (obj: Record<string, unknown>, msg?: string) => lines.push(JSON.stringify({ obj, msg }));
    let calls = 0;
    handler = (_req, q) =>
      q.get('Action') === 'DescribeAddresses'
        ? noAddresses
        : ++calls === 1
          ? ec2Error('RequestLimitExceeded', 'slow down', 503)
          : describeInstances([instance('i-a', 'running')]);
    await collect(provider({ logger: { debug: log, info: log, warn: log, error: log } }).p.listNodes());
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.some((l) => l.includes('retry'))).toBe(true);
    const all = lines.join('\n');
    for (const secret of [SECRET, SESSION, 'AKIAIOSFODNN7EXAMPLE']) expect(all).not.toContain(secret);
  });

  it('an aborted signal rejects with E_ABORTED before any request', async () => {
    const { p } = provider();
    const signal = AbortSignal.abort();
    expect((await failure(collect(p.listNodes({ signal })))).code).toBe('E_ABORTED');
    expect((await failure(p.getNode('i-1', { signal }))).code).toBe('E_ABORTED');
    expect((await failure(p.stopNode('i-1', { signal }))).code).toBe('E_ABORTED');
    expect(replay.server.requests).toHaveLength(0);
  });

  it('createNode() - RunInstances with Name, tags, a ClientToken and the extras', async () => {
    handler = () =>
      xml(
        `<RunInstancesResponse><reservationId>r-9</reservationId><instancesSet>${instance(
          'i-new',
          'pending',
          {
            Name: 'api-1',
          },
        )}</instancesSet></RunInstancesResponse>`,
      );
    const node = await provider().p.createNode({
      name: 'api-1',
      size: 't3.small',
      image: 'ami-1',
      zone: 'eu-west-1a',
      tags: { role: 'api' },
      extra: { keyName: 'ops', securityGroupIds: ['sg-1', 'sg-2'], userData: '#!/bin/sh\necho hi' },
    });
    expect(node).toMatchObject({ id: 'i-new', state: 'pending', region: 'eu-west-1', name: 'api-1' });
    expect(node.extra.reservationId).toBe('r-9');
    const q = new URLSearchParams(replay.server.requests[0]?.body);
    expect(Object.fromEntries(q)).toMatchObject({
      Action: 'RunInstances',
      ImageId: 'ami-1',
      InstanceType: 't3.small',
      MinCount: '1',
      MaxCount: '1',
      'Placement.AvailabilityZone': 'eu-west-1a',
      KeyName: 'ops',
      'SecurityGroupId.1': 'sg-1',
      'SecurityGroupId.2': 'sg-2',
      UserData: Buffer.from('#!/bin/sh\necho hi').toString('base64'),
      'TagSpecification.1.ResourceType': 'instance',
      'TagSpecification.1.Tag.1.Key': 'role',
      'TagSpecification.1.Tag.1.Value': 'api',
      'TagSpecification.1.Tag.2.Key': 'Name',
      'TagSpecification.1.Tag.2.Value': 'api-1',
    });
    expect(q.get('ClientToken')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('createNode() - rejects unknown extra keys and aws: tag keys with E_VALIDATION', async () => {
    const { p } = provider();
    const a = await failure(
      p.createNode({ name: 'x', size: 't3.small', image: 'ami-1', extra: { spot: true } }),
    );
    expect([a.code, a.path]).toEqual(['E_VALIDATION', 'input.extra.spot']);
    const b = await failure(p.setTags('i-1', { 'aws:owner': 'x' }));
    expect([b.code, b.path]).toEqual(['E_VALIDATION', 'tags.aws:owner']);
    expect(replay.server.requests).toHaveLength(0);
  });
});

describe('ec2() options', () => {
  it('reads credentials and region from the environment', async () => {
    handler = (_req, q) => (q.get('Action') === 'DescribeAddresses' ? noAddresses : describeInstances([]));
    const p = ec2({
      id: 'aws-env',
      endpoint: replay.server.url,
      env: { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_REGION: 'sa-east-1' },
    });
    await collect(p.listNodes());
    expect(replay.server.requests[0]?.headers.authorization).toContain('Credential=AKIDENV/');
    expect(replay.server.requests[0]?.headers.authorization).toContain('/sa-east-1/ec2/aws4_request');
    expect(replay.server.requests[0]?.headers['x-amz-security-token']).toBeUndefined();
  });

  it('filters become Filter.N.Name / Filter.N.Value.M on every DescribeInstances page', async () => {
    handler = (_req, q) =>
      q.get('Action') === 'DescribeAddresses'
        ? noAddresses
        : describeInstances([], q.get('NextToken') === null ? 'next' : undefined);
    const { p } = provider({ filters: { 'tag:env': 'prod', 'instance-state-name': ['running', 'stopped'] } });
    await collect(p.listNodes());
    const pages = replay.server.requests
      .map((r) => Object.fromEntries(new URLSearchParams(r.body)))
      .filter((q) => q.Action === 'DescribeInstances');
    expect(pages).toHaveLength(2);
    for (const q of pages)
      expect(q).toMatchObject({
        'Filter.1.Name': 'tag:env',
        'Filter.1.Value.1': 'prod',
        'Filter.2.Name': 'instance-state-name',
        'Filter.2.Value.1': 'running',
        'Filter.2.Value.2': 'stopped',
      });
  });

  it('E_CONFIG without credentials; E_VALIDATION naming the field for bad input', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return [(e as FleetwatchError).code, (e as FleetwatchError).path];
      }
      return undefined;
    };
    expect(codeOf(() => ec2({ id: 'a', region: 'us-east-1', env: {} }))).toEqual([
      'E_CONFIG',
      'options.credentials',
    ]);
    expect(codeOf(() => ec2({ id: 'a', credentials, env: {} }))).toEqual(['E_CONFIG', 'options.region']);
    expect(codeOf(() => ec2({ id: 'a', region: 'Mars', credentials }))).toEqual([
      'E_VALIDATION',
      'options.region',
    ]);
    expect(codeOf(() => ec2({ id: 'a', regions: ['us-east-1', 'x'], credentials }))).toEqual([
      'E_VALIDATION',
      'options.regions[1]',
    ]);
    expect(codeOf(() => ec2({ id: 'a', region: 'us-east-1', credentials, pageSize: 2 }))).toEqual([
      'E_VALIDATION',
      'options.pageSize',
    ]);
    expect(
      codeOf(() =>
        ec2({ id: 'a', region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: '' } }),
      ),
    ).toEqual(['E_VALIDATION', 'options.credentials.secretAccessKey']);
    expect(codeOf(() => ec2({ id: 'a', region: 'us-east-1', credentials, filters: { x: [] } }))).toEqual([
      'E_VALIDATION',
      'options.filters.x',
    ]);
    expect(codeOf(() => ec2({ id: 'a', region: 'us-east-1', credentials, bogus: 1 } as never))).toEqual([
      'E_VALIDATION',
      'options.bogus',
    ]);
  });

  it("regions: 'all' lists every enabled region from DescribeRegions, concurrently", async () => {
    handler = (req, q) => {
      const region = /\/([a-z0-9-]+)\/ec2\/aws4_request/.exec(String(req.headers.authorization))?.[1];
      if (q.get('Action') === 'DescribeRegions')
        return xml(
          '<DescribeRegionsResponse><regionInfo>' +
            '<item><regionName>eu-west-1</regionName><optInStatus>opt-in-not-required</optInStatus></item>' +
            '<item><regionName>us-west-2</regionName><optInStatus>opt-in-not-required</optInStatus></item>' +
            '<item><regionName>af-south-1</regionName><optInStatus>not-opted-in</optInStatus></item>' +
            '</regionInfo></DescribeRegionsResponse>',
        );
      if (q.get('Action') === 'DescribeAddresses') return noAddresses;
      return describeInstances([instance(`i-${region}`, 'running')]);
    };
    const nodes = await collect(provider({ region: 'eu-west-1', regions: 'all' }).p.listNodes());
    expect(nodes.map((n) => [n.id, n.region]).sort()).toEqual([
      ['i-eu-west-1', 'eu-west-1'],
      ['i-us-west-2', 'us-west-2'],
    ]);
    expect(actions().filter((a) => a === 'DescribeRegions')).toHaveLength(1);
  });
});

describe('EC2_STATES', () => {
  it('maps every documented state and falls back to unknown', () => {
    expect(EC2_STATES).toEqual({
      pending: 'pending',
      running: 'running',
      'shutting-down': 'stopping',
      stopping: 'stopping',
      stopped: 'stopped',
      terminated: 'terminated',
    });
    const node = ec2NodesFromXml(
      parseEc2Xml(describeInstances([instance('i-h', 'hibernating')]).body as string),
      {
        provider: 'p',
        region: 'eu-west-1',
      },
    )[0];
    expect([node?.state, node?.rawState]).toEqual(['unknown', 'hibernating']);
    const proto = ec2NodesFromXml(
      parseEc2Xml(describeInstances([instance('i-p', 'constructor')]).body as string),
      {
        provider: 'p',
        region: 'eu-west-1',
      },
    )[0];
    expect([proto?.state, proto?.rawState]).toEqual(['unknown', 'constructor']);
    const odd = ec2NodesFromXml(
      parseEc2Xml(
        describeInstances([
          instance(
            'i-t',
            'running',
            Object.fromEntries([
              ['__proto__', 'x'],
              ['constructor', 'y'],
            ]),
          ),
        ]).body as string,
      ),
      { provider: 'p', region: 'eu-west-1' },
    )[0];
    expect(Object.entries(odd?.tags ?? {})).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
    expect(Object.getPrototypeOf(odd?.tags)).toBe(Object.prototype);
  });
});

const FIXTURES = new URL('../../../shared/fixtures/providers/ec2/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

describe.skipIf(!existsSync(FIXTURES))('recorded EC2 responses (shared/fixtures/providers/ec2)', () => {
  it('describe_instances.xml + describe_addresses_all.xml → nodes with Elastic IPs merged', () => {
    const eips = ec2ElasticIpsFromXml(parseEc2Xml(fixture('describe_addresses_all.xml')));
    expect(eips.get('i-4382922a')).toEqual(['1.2.3.4']);
    const nodes = ec2NodesFromXml(parseEc2Xml(fixture('describe_instances.xml')), {
      provider: 'rec',
      region: 'us-east-1',
      elasticIps: eips,
    });
    expect(nodes.map((n) => n.id)).toEqual(['i-4382922a', 'i-8474834a']);
    const first = nodes[0] as Node;
    expect(first).toMatchObject({
      uid: 'rec:i-4382922a',
      state: 'stopped',
      rawState: 'stopped',
      size: 'm1.small',
      image: 'ami-3215fe5a',
      zone: 'us-east-1d',
      publicIps: ['1.2.3.4'],
      privateIps: ['10.211.11.211'],
    });
    expect(first.createdAt?.toISOString()).toBe('2013-12-02T11:58:11.000Z');
    expect(first.extra).toMatchObject({ stateCode: '80', stateReason: 'Client.UserInitiatedShutdown' });
    expect(Object.keys(first.extra)).not.toContain('clientToken');
    expect((nodes[1] as Node).extra).toMatchObject({ vpcId: 'vpc-61dcd30e', subnetId: 'subnet-5fd9d412' });
  });

  it('ec2-describe-instances.xml (botocore) → empty tag values kept, running Windows node', () => {
    const nodes = ec2NodesFromXml(parseEc2Xml(fixture('ec2-describe-instances.xml')), {
      provider: 'rec',
      region: 'us-west-2',
    });
    expect(nodes.map((n) => [n.id, n.state])).toEqual([
      ['i-fde9cece', 'stopped'],
      ['i-78f1b94a', 'running'],
    ]);
    expect(nodes[0]?.tags).toHaveProperty('notebook', '');
    expect(nodes[1]?.publicIps).toContain('54.245.16.142');
    expect(nodes[1]?.extra.platform).toBe('windows');
  });

  it('run_instances.xml, ec2-describe-regions.xml and the error body', () => {
    const created = ec2NodesFromXml(parseEc2Xml(fixture('run_instances.xml')), {
      provider: 'rec',
      region: 'us-east-1',
    });
    expect(created.map((n) => [n.id, n.state])).toEqual([['i-2ba64342', 'pending']]);
    expect(created[0]?.extra.reservationId).toBe('r-47a5402e');
    expect(ec2RegionsFromXml(parseEc2Xml(fixture('ec2-describe-regions.xml')))).toHaveLength(8);
    expect(parseEc2Error(fixture('describe_key_pairs_doesnt_exist.xml'))).toMatchObject({
      code: 'InvalidKeyPair.NotFound',
      requestId: '31b97300-eb8e-405e-9567-b0f57b791fed',
    });
  });
});
