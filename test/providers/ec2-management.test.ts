/**
 * EC2 server management against moto (scripts/moto start): images, instance types, regions and
 * zones, key pairs, RunInstances with image/type/zone/key/user data, operations waited for, and
 * tags read back byte for byte. Uses its own regions (sa-east-1, ap-south-1) and no reset, so it
 * leaves the other EC2 suite's state alone.
 */
import { beforeAll, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import { ec2 } from '../../src/providers/ec2.js';
import type { Node } from '../../src/providers/types.js';
import { describeWithService, MOTO_URL, probeMoto } from '../helpers/services.js';
import { motoCall } from './moto.js';
import { catchErr, collect, recordingSleep } from './server.js';

const credentials = { accessKeyId: 'AKIDFLEETWATCHMGMT', secretAccessKey: 'moto-secret-not-checked' };
const REGION = 'sa-east-1';
const OTHER = 'ap-south-1';
const ED25519 =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@fleetwatch';
const run = `${Date.now().toString(36)}`;

const rawCall = (region: string, params: Record<string, string>) => motoCall(credentials, region, params);

describeWithService('ec2 management against moto', await probeMoto(), () => {
  const sleeper = recordingSleep();
  const aws = ec2({
    id: 'aws-mgmt',
    region: REGION,
    credentials,
    endpoint: MOTO_URL,
    http: { sleep: sleeper.sleep },
  });
  let publicImage: string;

  beforeAll(async () => {
    const images = await collect(
      aws.listImages({ owner: 'public', filters: { name: 'Windows_Server-2016-English-Nano-Base*' } }),
    );
    publicImage = (images[0] as { id: string }).id;
  });

  it("listImages({ owner: 'public', filters }) - Amazon's images, filtered server-side", async () => {
    const images = await collect(
      aws.listImages({ owner: 'public', filters: { name: 'Windows_Server-2016-English-Nano-Base*' } }),
    );
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      expect(image.name.startsWith('Windows_Server-2016-English-Nano-Base')).toBe(true);
      expect(image).toMatchObject({ provider: 'aws-mgmt', public: true, os: 'windows' });
      expect(image.id).toMatch(/^ami-/);
      expect(image.extra.ownerAlias).toBe('amazon');
      expect(image.createdAt).toBeInstanceOf(Date);
    }
  });

  it("listImages() - the account's own images by default (Owner=self)", async () => {
    const node = await aws.createNode({ name: `img-src-${run}`, size: 't3.micro', image: publicImage });
    const created = await rawCall(REGION, {
      Action: 'CreateImage',
      InstanceId: node.id,
      Name: `golden-${run}`,
    });
    const imageId = /<imageId>([^<]+)</.exec(created)?.[1];
    const own = await collect(aws.listImages());
    const mine = own.find((i) => i.id === imageId);
    expect(mine).toMatchObject({ name: `golden-${run}`, public: false });
    expect(own.every((i) => i.extra.ownerAlias !== 'amazon')).toBe(true);
    await (await aws.destroyNode(node.id)).done();
  });

  it('listSizes() - instance types with vCPUs, memory in MiB, local disk when present, no price', async () => {
    const pages: number[] = [];
    const sizes = await collect(aws.listSizes({ onPage: ({ items }) => pages.push(items) }));
    expect(sizes.length).toBeGreaterThan(500);
    expect(pages.reduce((a, b) => a + b, 0)).toBe(sizes.length);
    const micro = sizes.find((s) => s.id === 't3.micro');
    expect(micro).toMatchObject({ name: 't3.micro', cpus: 2, memory: 1024 });
    expect(micro?.disk).toBeUndefined();
    expect(sizes.find((s) => s.id === 'm5d.large')).toMatchObject({ cpus: 2, memory: 8192, disk: 75 });
    expect(sizes.every((s) => s.price === undefined && s.cpus > 0 && s.memory > 0)).toBe(true);
  }, 120_000); // moto takes ~16 s to build its 1,395 instance types

  it('listLocations() - each region and its availability zones', async () => {
    const multi = ec2({ id: 'aws-mgmt', regions: [REGION, OTHER], credentials, endpoint: MOTO_URL });
    const locations = await collect(multi.listLocations());
    const ids = locations.map((l) => l.id);
    expect(ids).toEqual(expect.arrayContaining([REGION, `${REGION}a`, OTHER, `${OTHER}a`]));
    expect(locations.find((l) => l.id === REGION)).toMatchObject({ region: REGION });
    expect(locations.find((l) => l.id === REGION)?.zone).toBeUndefined();
    expect(locations.find((l) => l.id === `${OTHER}b`)).toMatchObject({
      region: OTHER,
      zone: `${OTHER}b`,
      extra: { state: 'available' },
    });
  });

  it('importKeyPair() / listKeyPairs() / deleteKeyPair() - round trip; a taken name is E_CONFLICT', async () => {
    const name = `ops-${run}`;
    const kp = await aws.importKeyPair({ name, publicKey: ED25519 });
    expect(kp).toMatchObject({ name, provider: 'aws-mgmt', publicKey: ED25519 });
    expect(kp.fingerprint).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/);
    expect(kp.id).toMatch(/^key-/);
    const listed = (await collect(aws.listKeyPairs())).find((k) => k.name === name);
    expect(listed).toMatchObject({ fingerprint: kp.fingerprint, extra: { keyType: 'ed25519' } });
    const dup = await catchErr(aws.importKeyPair({ name, publicKey: ED25519 }));
    expect(dup).toBeInstanceOf(FleetwatchError);
    expect([dup.code, dup.providerCode, dup.status]).toEqual(['E_CONFLICT', 'InvalidKeyPair.Duplicate', 400]);
    // Passes the local line check, but moto cannot read the key: the provider's verdict.
    const bad = await catchErr(aws.importKeyPair({ name: `bad-${run}`, publicKey: 'ssh-ed25519 AAAA' }));
    expect([bad.code, bad.providerCode]).toEqual(['E_VALIDATION', 'InvalidKeyPair.Format']);
    await aws.deleteKeyPair(name);
    expect((await collect(aws.listKeyPairs())).some((k) => k.name === name)).toBe(false);
  });

  it('createNode() - image, size, zone, key pair, user data and tags; then waitForState(running)', async () => {
    const keyName = `boot-${run}`;
    await aws.importKeyPair({ name: keyName, publicKey: ED25519 });
    const userData = '#cloud-config\nruncmd:\n  - echo "héllo"\n';
    const node = await aws.createNode({
      name: `api-${run}`,
      size: 't3.small',
      image: publicImage,
      location: `${REGION}b`,
      keyPair: keyName,
      userData,
      tags: { role: 'api' },
    });
    expect(node).toMatchObject({ state: 'pending', region: REGION, zone: `${REGION}b`, size: 't3.small' });
    expect(node.image).toBe(publicImage);
    expect(node.extra.keyName).toBe(keyName);
    const attr = await rawCall(REGION, {
      Action: 'DescribeInstanceAttribute',
      InstanceId: node.id,
      Attribute: 'userData',
    });
    const encoded = /<userData>\s*<value>([^<]+)<\/value>/.exec(attr)?.[1] as string;
    expect(Buffer.from(encoded, 'base64').toString('utf8')).toBe(userData);
    const running = await aws.waitForState(node.id, ['running'], { timeoutMs: 120_000 });
    expect(running).toMatchObject({
      id: node.id,
      state: 'running',
      tags: { Name: `api-${run}`, role: 'api' },
    });
  });

  it('stopNode() / startNode() / rebootNode() / destroyNode() - operations resolve once the state is reached', async () => {
    const node = await aws.createNode({ name: `ops-${run}`, size: 't3.micro', image: publicImage });
    await aws.waitForState(node.id, ['running']);
    const stop = await aws.stopNode(node.id);
    expect([stop.id, stop.action]).toEqual([node.id, 'stop']);
    expect((await stop.done()).state).toBe('stopped');
    expect((await (await aws.startNode(node.id)).done()).state).toBe('running');
    expect((await (await aws.rebootNode(node.id)).done()).state).toBe('running');
    const hard = await aws.stopNode(node.id, { graceful: false });
    expect((await hard.done({ timeoutMs: 60_000 })).rawState).toBe('stopped');
    await expect((await aws.destroyNode(node.id)).done()).resolves.toBeUndefined();
    expect((await aws.getNode(node.id))?.rawState).toBe('terminated');
  });

  it("setTags() - '  kept  ' and a 200-emoji value read back byte for byte; limits in code points", async () => {
    const node = await aws.createNode({ name: `tags-${run}`, size: 't3.micro', image: publicImage });
    const emoji = '🚀'.repeat(200);
    const op = await aws.setTags(node.id, { ' padded key ': '  kept  ', rocket: emoji, tab: '\tx\t' });
    await op.done();
    const back = await aws.getNode(node.id);
    expect(back?.tags[' padded key ']).toBe('  kept  ');
    expect(back?.tags.rocket).toBe(emoji);
    expect(back?.tags.tab).toBe('\tx\t');
    const listed = (await collect(aws.listNodes())).find((n) => n.id === node.id) as Node;
    expect(listed.tags.rocket).toBe(emoji);
    expect(listed.tags[' padded key ']).toBe('  kept  ');
    // 256 emoji (512 UTF-16 units) is within EC2's 256-character limit; 257 is not.
    await (await aws.setTags(node.id, { max: '🚀'.repeat(256), ['🔑'.repeat(128)]: 'k' })).done();
    expect((await aws.getNode(node.id))?.tags.max).toBe('🚀'.repeat(256));
    const tooLong = await catchErr(aws.setTags(node.id, { over: '🚀'.repeat(257) }));
    expect([tooLong.code, tooLong.path]).toEqual(['E_VALIDATION', 'tags.over']);
    const keyTooLong = await catchErr(aws.setTags(node.id, { ['🔑'.repeat(129)]: 'v' }));
    expect(keyTooLong.code).toBe('E_VALIDATION');
  });
});
