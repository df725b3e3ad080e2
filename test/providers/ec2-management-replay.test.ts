/**
 * EC2 management against a local replay server, for what moto cannot show: paged DescribeImages and
 * DescribeInstanceTypes (moto ignores MaxResults), operations that fail, time out or are aborted,
 * the forced stop, an HTML 500 on ImportKeyPair, and the request count of a multi-region setTags.
 * Responses are written from the EC2 API reference (API_DescribeImages, API_StopInstances…).
 */
import { describe, expect, it } from 'vitest';
import { ec2ReplaySetup } from './ec2-replay-setup.js';
import { catchErr, collect, type RecordedRequest, type ReplayResponse, recordingSleep } from './server.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET };

const xml = (body: string, status = 200): ReplayResponse => ({
  status,
  headers: { 'content-type': 'text/xml;charset=UTF-8' },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
});
const image = (id: string, name: string) =>
  `<item><imageId>${id}</imageId><name>${name}</name><imageState>available</imageState><imageOwnerId>123456789012</imageOwnerId>` +
  `<isPublic>false</isPublic><architecture>arm64</architecture><platformDetails>Linux/UNIX</platformDetails>` +
  `<creationDate>2026-03-01T10:00:00.000Z</creationDate></item>`;
const size = (id: string, cpus: number, mib: number) =>
  `<item><instanceType>${id}</instanceType><vCpuInfo><defaultVCpus>${cpus}</defaultVCpus></vCpuInfo><memoryInfo><sizeInMiB>${mib}</sizeInMiB></memoryInfo></item>`;
const instance = (id: string, state: string, reason?: [string, string]) =>
  `<item><instanceId>${id}</instanceId><instanceState><code>0</code><name>${state}</name></instanceState>` +
  (reason ? `<stateReason><code>${reason[0]}</code><message>${reason[1]}</message></stateReason>` : '') +
  '<tagSet/></item>';
const describeInstances = (items: string[]) =>
  xml(
    `<DescribeInstancesResponse><reservationSet>${items
      .map((i) => `<item><reservationId>r-1</reservationId><instancesSet>${i}</instancesSet></item>`)
      .join('')}</reservationSet></DescribeInstancesResponse>`,
  );
const ok = (action: string) => xml(`<${action}Response><return>true</return></${action}Response>`);

type Handler = (q: URLSearchParams, req: RecordedRequest) => ReplayResponse;
let handler: Handler = () => ({ status: 500 });
const replay = ec2ReplaySetup(
  (req) => handler(new URLSearchParams(req.body), req),
  (url) => ({ credentials, endpoint: `${url}/{region}` }),
);
const provider = replay.provider;

const sent = () => replay.server.requests.map((r) => Object.fromEntries(new URLSearchParams(r.body)));

describe('ec2 catalogue paging (replay)', () => {
  it('listImages() - follows NextToken to the end with Owner=self, MaxResults and the filters', async () => {
    handler = (q) => {
      const token = q.get('NextToken');
      if (token === null)
        return xml(
          `<DescribeImagesResponse><imagesSet>${image('ami-1', 'a')}${image('ami-2', 'b')}</imagesSet><nextToken>t2</nextToken></DescribeImagesResponse>`,
        );
      if (token === 't2')
        return xml(
          `<DescribeImagesResponse><imagesSet>${image('ami-3', 'c')}</imagesSet><nextToken>t3</nextToken></DescribeImagesResponse>`,
        );
      return xml(
        `<DescribeImagesResponse><imagesSet>${image('ami-4', 'd')}</imagesSet></DescribeImagesResponse>`,
      );
    };
    const pages: number[] = [];
    const images = await collect(
      provider().p.listImages({
        filters: { architecture: 'arm64' },
        onPage: ({ items }) => pages.push(items),
      }),
    );
    expect(images.map((i) => i.id)).toEqual(['ami-1', 'ami-2', 'ami-3', 'ami-4']);
    expect(pages).toEqual([2, 1, 1]);
    expect(images[0]).toMatchObject({
      name: 'a',
      public: false,
      os: 'linux',
      extra: { architecture: 'arm64' },
    });
    const reqs = sent();
    expect(reqs.map((r) => r.NextToken)).toEqual([undefined, 't2', 't3']);
    for (const r of reqs)
      expect(r).toMatchObject({
        Action: 'DescribeImages',
        'Owner.1': 'self',
        MaxResults: '1000',
        'Filter.1.Name': 'architecture',
        'Filter.1.Value.1': 'arm64',
      });
  });

  it("listImages({ owner: 'all' }) - sends no Owner; 'public' sends Owner=amazon", async () => {
    handler = () => xml('<DescribeImagesResponse><imagesSet/></DescribeImagesResponse>');
    await collect(provider().p.listImages({ owner: 'all' }));
    await collect(provider().p.listImages({ owner: 'public' }));
    expect(sent().map((r) => r['Owner.1'])).toEqual([undefined, 'amazon']);
  });

  it('listImages() - a repeated NextToken is E_PROVIDER, not an endless loop', async () => {
    handler = () =>
      xml(
        `<DescribeImagesResponse><imagesSet>${image('ami-1', 'a')}</imagesSet><nextToken>same</nextToken></DescribeImagesResponse>`,
      );
    const err = await catchErr(collect(provider().p.listImages()));
    expect([err.code, err.providerCode]).toEqual(['E_PROVIDER', 'PAGINATION_LOOP']);
    expect(replay.server.requests.length).toBeLessThanOrEqual(3);
  });

  it('listImages() - bad options are E_VALIDATION before any request', async () => {
    const err = await catchErr(collect(provider().p.listImages({ owner: 'everyone' as 'all' })));
    expect([err.code, err.path]).toEqual(['E_VALIDATION', 'opts.owner']);
    expect(replay.server.requests).toHaveLength(0);
  });

  it('listSizes() - pages of 100 through NextToken; sizes without vCPUs or memory are skipped', async () => {
    handler = (q) =>
      q.get('NextToken') === null
        ? xml(
            `<DescribeInstanceTypesResponse><instanceTypeSet>${size('t3.micro', 2, 1024)}<item><instanceType>odd</instanceType></item></instanceTypeSet><nextToken>n</nextToken></DescribeInstanceTypesResponse>`,
          )
        : xml(
            `<DescribeInstanceTypesResponse><instanceTypeSet>${size('c7g.large', 2, 4096)}</instanceTypeSet></DescribeInstanceTypesResponse>`,
          );
    const sizes = await collect(provider().p.listSizes());
    expect(sizes.map((s) => [s.id, s.cpus, s.memory])).toEqual([
      ['t3.micro', 2, 1024],
      ['c7g.large', 2, 4096],
    ]);
    expect(sent().map((r) => [r.MaxResults, r.NextToken])).toEqual([
      ['100', undefined],
      ['100', 'n'],
    ]);
  });
});

describe('ec2 operations (replay)', () => {
  it('stopNode().done() - polls DescribeInstances every 15 s until stopped', async () => {
    let polls = 0;
    handler = (q) => {
      if (q.get('Action') === 'StopInstances') return ok('StopInstances');
      if (q.get('Action') === 'DescribeAddresses')
        return xml('<DescribeAddressesResponse><addressesSet/></DescribeAddressesResponse>');
      polls++;
      return describeInstances([instance('i-1', polls < 3 ? 'stopping' : 'stopped')]);
    };
    const { p, waits } = provider();
    const op = await p.stopNode('i-1');
    const node = await op.done();
    expect(node.state).toBe('stopped');
    expect(waits).toEqual([15_000, 15_000]);
    expect(sent()[0]).toMatchObject({ Action: 'StopInstances', 'InstanceId.1': 'i-1' });
    expect(sent()[0]?.Force).toBeUndefined();
  });

  it('stopNode({ graceful: false }) - sends Force=true', async () => {
    handler = (q) =>
      q.get('Action') === 'StopInstances'
        ? ok('StopInstances')
        : q.get('Action') === 'DescribeAddresses'
          ? xml('<DescribeAddressesResponse/>')
          : describeInstances([instance('i-1', 'stopped')]);
    const op = await provider().p.stopNode('i-1', { graceful: false });
    await op.done();
    expect(sent()[0]).toMatchObject({ Action: 'StopInstances', Force: 'true' });
  });

  it('stopNode({ graceful: true, timeoutMs }) - forces the stop when the graceful one takes too long', async () => {
    let forced = false;
    let t = 0;
    handler = (q) => {
      if (q.get('Action') === 'StopInstances') {
        if (q.get('Force') === 'true') forced = true;
        return ok('StopInstances');
      }
      if (q.get('Action') === 'DescribeAddresses') return xml('<DescribeAddressesResponse/>');
      return describeInstances([instance('i-1', forced ? 'stopped' : 'stopping')]);
    };
    const sleeper = recordingSleep();
    const { p } = provider({
      clock: { now: () => t },
      http: {
        random: () => 0,
        sleep: async (ms) => {
          t += ms;
          await sleeper.sleep(ms);
        },
      },
    });
    const op = await p.stopNode('i-1', { graceful: true, timeoutMs: 60_000 });
    const node = await op.done({ timeoutMs: 600_000 });
    expect(node.state).toBe('stopped');
    expect(
      sent()
        .filter((r) => r.Action === 'StopInstances')
        .map((r) => r.Force),
    ).toEqual([undefined, 'true']);
  });

  it('startNode().done() - the instance ends terminated: E_PROVIDER with the provider state reason', async () => {
    handler = (q) =>
      q.get('Action') === 'StartInstances'
        ? ok('StartInstances')
        : q.get('Action') === 'DescribeAddresses'
          ? xml('<DescribeAddressesResponse/>')
          : describeInstances([
              instance('i-1', 'terminated', [
                'Server.InsufficientInstanceCapacity',
                'Server.InsufficientInstanceCapacity: Insufficient capacity.',
              ]),
            ]);
    const op = await provider().p.startNode('i-1');
    const err = await catchErr(op.done());
    expect(err.code).toBe('E_PROVIDER');
    expect(err.message).toContain('Insufficient capacity.');
    expect(err.message).toContain('terminated');
    expect(err.message).not.toContain(SECRET);
  });

  it('done() - E_TIMEOUT when the state is not reached; E_ABORTED when the signal fires', async () => {
    let t = 0;
    handler = (q) =>
      q.get('Action') === 'DescribeAddresses'
        ? xml('<DescribeAddressesResponse/>')
        : q.get('Action') === 'RebootInstances'
          ? ok('RebootInstances')
          : describeInstances([instance('i-1', 'pending')]);
    const { p } = provider({
      clock: { now: () => t },
      http: {
        random: () => 0,
        sleep: async (ms) => {
          t += ms;
        },
      },
    });
    const op = await p.rebootNode('i-1');
    const timeout = await catchErr(op.done({ timeoutMs: 40_000 }));
    expect([timeout.code, timeout.provider]).toEqual(['E_TIMEOUT', 'aws-replay']);
    const aborted = await catchErr(op.done({ signal: AbortSignal.abort() }));
    expect(aborted.code).toBe('E_ABORTED');
    const waited = await catchErr(p.waitForState('i-1', ['running'], { timeoutMs: 1 }));
    expect(waited.code).toBe('E_TIMEOUT');
  });

  it('destroyNode().done() - a terminated (or vanished) instance resolves', async () => {
    let gone = false;
    handler = (q) => {
      if (q.get('Action') === 'TerminateInstances') return ok('TerminateInstances');
      if (q.get('Action') === 'DescribeAddresses') return xml('<DescribeAddressesResponse/>');
      if (gone)
        return xml(
          '<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>gone</Message></Error></Errors></Response>',
          400,
        );
      gone = true;
      return describeInstances([instance('i-1', 'shutting-down')]);
    };
    const op = await provider().p.destroyNode('i-1');
    await expect(op.done()).resolves.toBeUndefined();
  });
});

describe('ec2 key pairs and regions (replay)', () => {
  it('importKeyPair() - an HTML 500 is E_PROVIDER without the page, and is not retried', async () => {
    handler = () => ({
      status: 500,
      headers: { 'content-type': 'text/html' },
      body: '<!doctype html><title>500 Internal Server Error</title><p>Traceback secret-internals</p>',
    });
    const err = await catchErr(
      provider().p.importKeyPair({
        name: 'ops',
        publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq ops@x',
      }),
    );
    expect([err.code, err.status]).toEqual(['E_PROVIDER', 500]);
    expect(JSON.stringify(err)).not.toContain('secret-internals');
    expect(err.message).not.toContain('<');
    expect(replay.server.requests).toHaveLength(1);
  });

  it('importKeyPair() - a private key or junk is refused locally without echoing it', async () => {
    const priv =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    const err = await catchErr(provider().p.importKeyPair({ name: 'ops', publicKey: priv }));
    expect([err.code, err.path]).toEqual(['E_VALIDATION', 'input.publicKey']);
    expect(JSON.stringify(err)).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
    expect(replay.server.requests).toHaveLength(0);
  });

  it('setTags() on a multi-region provider before any listing - one DescribeInstances per region, no DescribeAddresses', async () => {
    handler = (q, req) => {
      if (q.get('Action') === 'CreateTags') return ok('CreateTags');
      if (q.get('Action') === 'DescribeAddresses') return xml('<DescribeAddressesResponse/>');
      return req.url.startsWith('/us-east-2/')
        ? describeInstances([instance('i-far', 'running')])
        : xml('<DescribeInstancesResponse><reservationSet/></DescribeInstancesResponse>');
    };
    const { p } = provider({ region: undefined, regions: ['eu-west-1', 'us-east-2', 'ap-south-1'] });
    await (await p.setTags('i-far', { team: 'x' })).done();
    const actions = sent().map((r) => r.Action);
    expect(actions.filter((a) => a === 'DescribeAddresses')).toHaveLength(0);
    expect(actions).toHaveLength(4);
    const create = replay.server.requests.find((r) => r.body.includes('Action=CreateTags'));
    expect(create?.url.startsWith('/us-east-2/')).toBe(true);
    // Remembered: the next action goes straight to the region.
    replay.server.requests.length = 0;
    await p.setTags('i-far', { team: 'y' });
    expect(sent().map((r) => r.Action)).toEqual(['CreateTags']);
  });

  it('createNode({ location }) - a zone becomes Placement in its region; a region name picks the region', async () => {
    handler = () =>
      xml(
        `<RunInstancesResponse><reservationId>r-1</reservationId><instancesSet>${instance('i-n', 'pending')}</instancesSet></RunInstancesResponse>`,
      );
    const { p } = provider();
    const a = await p.createNode({
      name: 'a',
      size: 't3.micro',
      image: 'ami-1',
      location: 'us-west-2-lax-1a',
    });
    const b = await p.createNode({ name: 'b', size: 't3.micro', image: 'ami-1', location: 'eu-central-1' });
    expect([a.region, b.region]).toEqual(['us-west-2', 'eu-central-1']);
    expect(replay.server.requests.map((r) => r.url.split('/')[1])).toEqual(['us-west-2', 'eu-central-1']);
    expect(sent().map((r) => r['Placement.AvailabilityZone'])).toEqual(['us-west-2-lax-1a', undefined]);
    const bad = await catchErr(
      p.createNode({ name: 'c', size: 't3.micro', image: 'ami-1', location: 'euw1-az1' }),
    );
    expect([bad.code, bad.path]).toEqual(['E_VALIDATION', 'input.location']);
  });
});
