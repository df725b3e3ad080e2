/**
 * The EC2 adapter against the moto emulator (scripts/moto start). moto does not check signatures,
 * so any credentials work; it routes by the SigV4 credential scope, which makes it a real test of
 * signing's region handling.
 */
import { beforeAll, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import { ec2 } from '../../src/providers/ec2.js';
import type { Node, Provider } from '../../src/providers/types.js';
import { describeWithService, MOTO_URL, probeMoto } from '../helpers/services.js';
import { motoCall } from './moto.js';

const credentials = { accessKeyId: 'AKIDFLEETWATCHTEST', secretAccessKey: 'moto-secret-not-checked' };
const REGION = 'eu-central-1';
const OTHER = 'ap-northeast-1';

const rawCall = (region: string, params: Record<string, string>) => motoCall(credentials, region, params);

async function collect(provider: Provider, onPage?: (info: { page: number; nodes: number }) => void) {
  const nodes: Node[] = [];
  for await (const node of provider.listNodes(onPage ? { onPage } : {})) nodes.push(node);
  return nodes;
}

describeWithService('ec2 provider against moto', await probeMoto(), () => {
  const aws = ec2({ id: 'aws-moto', region: REGION, credentials, endpoint: MOTO_URL, pageSize: 5 });
  const created: Node[] = [];

  beforeAll(async () => {
    await fetch(`${MOTO_URL}/moto-api/reset`, { method: 'POST' });
    for (let i = 0; i < 12; i++) {
      created.push(
        await aws.createNode({
          name: `web-${i}`,
          size: 't3.micro',
          image: 'ami-12345678',
          tags: { role: i < 8 ? 'web' : 'db', index: String(i) },
        }),
      );
    }
  });

  it('createNode() - runs an instance with its Name and tags', () => {
    const first = created[0] as Node;
    expect(first.id).toMatch(/^i-/);
    expect(first.uid).toBe(`aws-moto:${first.id}`);
    expect(first.kind).toBe('ec2');
    expect(first.region).toBe(REGION);
    expect(first.name).toBe('web-0');
    expect(first.tags).toEqual({ Name: 'web-0', role: 'web', index: '0' });
    expect(first.size).toBe('t3.micro');
    expect(first.image).toBe('ami-12345678');
    expect(first.rawState).toBe('pending');
    expect(first.state).toBe('pending');
  });

  it('listNodes() - follows NextToken through pages of 5 to the end', async () => {
    const pages: number[] = [];
    const nodes = await collect(aws, ({ nodes }) => pages.push(nodes));
    expect(nodes.map((n) => n.id).sort()).toEqual(created.map((n) => n.id).sort());
    expect(pages).toEqual([5, 5, 2]);
    expect(new Set(nodes.map((n) => n.uid)).size).toBe(12);
    const web3 = nodes.find((n) => n.name === 'web-3') as Node;
    expect(web3.tags.role).toBe('web');
    expect(web3.privateIps.length).toBeGreaterThan(0);
    expect(web3.createdAt).toBeInstanceOf(Date);
    expect(web3.zone?.startsWith(REGION)).toBe(true);
  });

  it('listNodes() - server-side filters (tag wildcard + state) narrow the listing', async () => {
    const filtered = ec2({
      id: 'aws-moto',
      region: REGION,
      credentials,
      endpoint: MOTO_URL,
      pageSize: 5,
      filters: { 'tag:role': 'd*', 'instance-state-name': ['pending', 'running'] },
    });
    const nodes = await collect(filtered);
    expect(nodes.map((n) => n.name).sort()).toEqual(['web-10', 'web-11', 'web-8', 'web-9']);
  });

  it('listNodes() - merges Elastic IPs into publicIps', async () => {
    const target = created[1] as Node;
    const alloc = await rawCall(REGION, { Action: 'AllocateAddress', Domain: 'vpc' });
    const allocationId = /<allocationId>([^<]+)</.exec(alloc)?.[1] as string;
    const publicIp = /<publicIp>([^<]+)</.exec(alloc)?.[1] as string;
    await rawCall(REGION, { Action: 'AssociateAddress', AllocationId: allocationId, InstanceId: target.id });
    const nodes = await collect(aws);
    expect(nodes.find((n) => n.id === target.id)?.publicIps).toContain(publicIp);
    expect(nodes.find((n) => n.id === (created[2] as Node).id)?.publicIps).not.toContain(publicIp);
    expect((await aws.getNode(target.id))?.publicIps).toContain(publicIp);
  });

  it('stopNode() / startNode() / rebootNode() - change the state', async () => {
    const id = (created[3] as Node).id;
    await aws.stopNode(id);
    const stopped = await aws.getNode(id);
    expect(['stopping', 'stopped']).toContain(stopped?.rawState);
    expect(stopped?.state).toBe(stopped?.rawState === 'stopping' ? 'stopping' : 'stopped');
    await aws.startNode(id);
    const started = await aws.getNode(id);
    expect(['pending', 'running']).toContain(started?.rawState);
    await aws.rebootNode(id);
    expect((await aws.getNode(id))?.state).toMatch(/^(pending|running)$/);
  });

  it('setTags() / removeTags() - retag an instance, non-ASCII values included', async () => {
    const id = (created[4] as Node).id;
    await aws.setTags(id, { role: 'cache', city: 'Zürich — 東京' });
    let node = await aws.getNode(id);
    expect(node?.tags).toEqual({ Name: 'web-4', role: 'cache', index: '4', city: 'Zürich — 東京' });
    await aws.removeTags(id, ['index', 'city']);
    node = await aws.getNode(id);
    expect(node?.tags).toEqual({ Name: 'web-4', role: 'cache' });
  });

  it('destroyNode() - terminates the instance', async () => {
    const id = (created[11] as Node).id;
    await aws.destroyNode(id);
    const node = await aws.getNode(id);
    expect(['shutting-down', 'terminated']).toContain(node?.rawState);
    expect(['stopping', 'terminated']).toContain(node?.state);
  });

  it('getNode() - undefined for an id that does not exist', async () => {
    expect(await aws.getNode('i-0123456789abcdef0')).toBeUndefined();
  });

  it('stopNode() - E_NOT_FOUND for an id that does not exist', async () => {
    const err = await aws.stopNode('i-0123456789abcdef0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code).toBe('E_NOT_FOUND');
    expect((err as FleetwatchError).providerCode).toBe('InvalidInstanceID.NotFound');
  });

  it('listNodes() - several regions at once, each node carrying its region', async () => {
    const other = await ec2({ id: 'aws-moto', region: OTHER, credentials, endpoint: MOTO_URL }).createNode({
      name: 'tokyo-1',
      size: 't3.nano',
      image: 'ami-87654321',
    });
    const multi = ec2({
      id: 'aws-multi',
      regions: [REGION, OTHER],
      credentials,
      endpoint: MOTO_URL,
      pageSize: 5,
    });
    const nodes = await collect(multi);
    expect(nodes).toHaveLength(13);
    expect(nodes.filter((n) => n.region === OTHER).map((n) => n.id)).toEqual([other?.id]);
    expect(nodes.filter((n) => n.region === REGION)).toHaveLength(12);
    // An action on a node of the second region is sent there.
    await multi.setTags(other?.id as string, { team: 'apac' });
    expect((await multi.getNode(other?.id as string))?.tags.team).toBe('apac');
    // 'all' discovers the regions with DescribeRegions and finds both.
    const all = ec2({ id: 'aws-all', regions: 'all', credentials, endpoint: MOTO_URL, regionConcurrency: 8 });
    const everywhere = await collect(all);
    expect(new Set(everywhere.map((n) => n.region))).toEqual(new Set([REGION, OTHER]));
    expect(everywhere).toHaveLength(13);
  });
});
