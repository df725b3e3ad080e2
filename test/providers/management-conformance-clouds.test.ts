/**
 * The management conformance suite (`@fleetwatch/sdk/testing`) against Azure, DigitalOcean, Linode, GCE,
 * Hetzner and Vultr, each on its stateful replay fake (written from the cloud's API reference).
 */
import { describe, expect, it } from 'vitest';
import { hetzner } from '../../src/providers/hetzner.js';
import { vultr } from '../../src/providers/vultr.js';
import { providerManagementConformance } from '../../src/testing/index.js';
import { startAzureManagement } from './fakes/azure.js';
import { startDigitalOceanManagement } from './fakes/digitalocean.js';
import { PEM, startGceManagement } from './fakes/gce.js';
import { FakeHetzner, HETZNER_CX22 } from './fakes/hetzner.js';
import { startLinodeManagement } from './fakes/linode.js';
import { FakeVultr, VULTR_VC2_PLAN } from './fakes/vultr.js';
import { virtualTime } from './management-fixtures.js';
import { startReplayServer } from './server.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@x';

const digitalOcean = await startDigitalOceanManagement();
providerManagementConformance('digitalocean (replay)', () => {
  const p = digitalOcean.provider;
  return {
    provider: p,
    create: { name: 'conf-do-1', size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64', location: 'fra1' },
    publicKey: KEY,
    failingOperation: {
      // The fake errors every action of a droplet named `fail-*`; DigitalOcean's action carries
      // no message, only `status: 'errored'`.
      start: async () =>
        (await p.rebootNode((await p.createNode({ name: 'fail-do', size: 's-1vcpu-1gb', image: 'x' })).id)) ??
        undefined,
      message: '(reboot) errored',
    },
    secrets: ['dop_v1_secret'],
    cleanup: () => digitalOcean.server.close(),
  };
});

const az = await startAzureManagement();
providerManagementConformance('azure (replay)', () => {
  const p = az.provider;
  return {
    provider: p,
    create: {
      name: 'conf-az-1',
      size: 'Standard_B1s',
      image: 'Canonical:ubuntu-24_04-lts:server:latest',
      extra: {
        subnetId:
          '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/default',
        adminPassword: 'Conf-az-Pa55',
      },
    },
    publicKey: KEY,
    failingOperation: {
      // The fake fails every async operation on a VM named `fail-*`, with ARM's code and message.
      start: async () => {
        az.fake.vms.set('fail-conf', { name: 'fail-conf', power: 'running' });
        return (await p.rebootNode('rg/fail-conf')) ?? undefined;
      },
      message: 'is not allowed on VM',
    },
    secrets: ['client-SECRET', 'Conf-az-Pa55'],
    cleanup: () => az.server.close(),
  };
});

const lin = await startLinodeManagement();
providerManagementConformance('linode (replay)', () => {
  const p = lin.provider;
  return {
    provider: p,
    create: { name: 'conf-lin-1', size: 'g6-nanode-1', image: 'linode/debian12', location: 'eu-central' },
    publicKey: KEY,
    // Public and private: 31 images, two pages of 25.
    imagesOptions: { owner: 'all' },
    failingOperation: {
      // The fake fails every event of a Linode labelled `fail-*`, with Linode's message.
      start: async () =>
        (await p.rebootNode(
          (
            await p.createNode({ name: 'fail-lin', size: 'g6-nanode-1', location: 'eu-central' })
          ).id,
        )) ?? undefined,
      message: 'Linode busy: a migration is in progress',
    },
    secrets: ['lin-secret-token'],
    cleanup: () => lin.server.close(),
  };
});

const g = await startGceManagement();
providerManagementConformance('gce (replay)', () => {
  const p = g.provider;
  return {
    provider: p,
    create: { name: 'conf-gce-1', size: 'e2-small', image: 'debian-12-a', location: 'europe-west1-b' },
    failingOperation: {
      // The fake ends every zone operation on an instance named `fail-*` with `error.errors[]`.
      start: async () => {
        await p
          .createNode({ name: 'fail-gce', size: 'e2-small', image: 'debian-12-a', location: 'z-a' })
          .catch(() => undefined);
        return (await p.startNode('z-a/fail-gce')) ?? undefined;
      },
      message: "The zone 'z-a' does not have enough resources available.",
    },
    // The access token and a line of the service account's private key.
    secrets: ['ya29.SECRET', PEM.split('\n')[1] as string],
    cleanup: () => g.server.close(),
  };
});

const HZ_TOKEN = 'hcloud-conformance-token-SECRET';
const hzFake = new FakeHetzner();
// Three snapshots: two pages of two.
hzFake.images = [9001, 9002, 9003].map((id) => ({
  id,
  type: 'snapshot',
  status: 'available',
  name: null,
  description: `conf snapshot ${id}`,
  created: '2025-05-06T07:08:09+00:00',
  os_flavor: 'debian',
  labels: {},
}));
hzFake.serverTypes = [HETZNER_CX22];
hzFake.locations = [
  { id: 1, name: 'fsn1', description: 'Falkenstein DC Park 1', country: 'DE', city: 'Falkenstein' },
];
hzFake.failing.set('poweron', { code: 'server_error', message: 'Host has no capacity left' });
const hzServer = await startReplayServer((req) => hzFake.handle(req));
const hzTime = virtualTime();
const hz = hetzner({
  id: 'hz-conf',
  token: HZ_TOKEN,
  baseUrl: `${hzServer.url}/v1/`,
  perPage: 2,
  clock: hzTime.clock,
  http: { sleep: hzTime.sleep, retryLimit: 0 },
});
providerManagementConformance('hetzner (replay)', () => ({
  provider: hz,
  create: { name: 'conf-hz-1', size: 'cx22', image: 'ubuntu-24.04', location: 'fsn1' },
  publicKey: KEY,
  failingOperation: {
    // The fake's `poweron` actions end in `error` with Hetzner's message.
    start: async () => {
      const node = await hz.createNode({ name: 'fail-hz', size: 'cx22', image: 'ubuntu-24.04' });
      await hz.waitForState(node.id, ['running']);
      await (await hz.stopNode(node.id, { graceful: false })).done();
      return hz.startNode(node.id);
    },
    message: 'Host has no capacity left',
  },
  secrets: [HZ_TOKEN],
  cleanup: () => hzServer.close(),
}));

const VU_TOKEN = 'vultr-conformance-token-SECRET';
const vuFake = new FakeVultr();
vuFake.os = [
  { id: 2136, name: 'Debian 12 x64 (bookworm)', arch: 'x64', family: 'debian' },
  { id: 2284, name: 'Ubuntu 24.04 LTS x64', arch: 'x64', family: 'ubuntu' },
];
vuFake.plans = [VULTR_VC2_PLAN];
vuFake.regions = [{ id: 'ewr', city: 'New Jersey', country: 'US', continent: 'North America', options: [] }];
const vuServer = await startReplayServer((req) => vuFake.handle(req));
const vuTime = virtualTime();
const vu = vultr({
  id: 'vu-conf',
  token: VU_TOKEN,
  baseUrl: `${vuServer.url}/v2/`,
  perPage: 1,
  clock: vuTime.clock,
  http: { sleep: vuTime.sleep, retryLimit: 0 },
});
providerManagementConformance('vultr (replay)', () => ({
  provider: vu,
  // The account has no snapshots: the public OS images, two cursor pages of one.
  imagesOptions: { owner: 'public' },
  create: { name: 'conf-vu-1', size: 'vc2-1c-1gb', image: '2136', location: 'ewr' },
  publicKey: KEY,
  // No failingOperation: Vultr has no operation object. Power actions and deletes answer 204 and
  // the adapter waits for the instance's state; Vultr documents no error state to end in.
  secrets: [VU_TOKEN],
  cleanup: () => vuServer.close(),
}));

/** The suite's checks return early where a provider lacks the method: say which, so none is skipped unseen. */
describe('management conformance - the checks each cloud runs', () => {
  it('every cloud has every method the suite checks, except GCE key pairs', () => {
    const methods = [
      'listImages',
      'listSizes',
      'listLocations',
      'listKeyPairs',
      'importKeyPair',
      'deleteKeyPair',
      'createNode',
      'waitForState',
      'stopNode',
      'destroyNode',
    ] as const;
    const providers = {
      azure: az.provider,
      digitalocean: digitalOcean.provider,
      linode: lin.provider,
      gce: g.provider,
      hetzner: hz,
      vultr: vu,
    };
    const missing = Object.fromEntries(
      Object.entries(providers).map(([name, p]) => [
        name,
        methods.filter((m) => typeof (p as unknown as Record<string, unknown>)[m] !== 'function'),
      ]),
    );
    // GCE has no key-pair resource: SSH keys go in instance metadata (`extra.sshKeys`).
    expect(missing).toEqual({
      azure: [],
      digitalocean: [],
      linode: [],
      gce: ['listKeyPairs', 'importKeyPair', 'deleteKeyPair'],
      hetzner: [],
      vultr: [],
    });
  });
});
