import { azure } from '../../../src/providers/azure.js';
import type { ManagedProvider } from '../../../src/providers/types.js';
import { virtualTime } from '../management-fixtures.js';
import {
  type RecordedRequest,
  type ReplayResponse,
  type ReplayServer,
  startReplayServer,
} from '../server.js';

/**
 * A small Azure Resource Manager written from learn.microsoft.com/rest/api/compute and the
 * async-operations guide: VMs whose power actions answer 202 + `Azure-AsyncOperation` +
 * `Retry-After` (Succeeded after `opPolls` polls; a VM named `fail-*` fails with ARM's error), a
 * DELETE answering 202 + `Location`, and a paged location list. Also the catalogue: own images and
 * Resource SKUs in two pages (`nextLink`), one marketplace SKU's versions (a bare array),
 * `sshPublicKeys` (list, PUT, DELETE), and `createNode`'s PUTs of a public IP, a NIC and a VM
 * (201 + `Azure-AsyncOperation`; a VM named `fail-*` ends `ProvisioningState/failed`).
 */
export class FakeAzure {
  vms = new Map<string, { name: string; power: string; provisioning?: string; readsLeft?: number }>();
  ops = new Map<string, { polls: number; vm: string; then: string; fail: boolean }>();
  keys = new Map<string, { rg: string; location: string; publicKey: string }>();
  /** Bodies of the PUTs made, by path. */
  puts = new Map<string, Record<string, unknown>>();
  opPolls = 2;
  #n = 0;
  constructor(readonly url: () => string) {}

  handle = (req: RecordedRequest): ReplayResponse => {
    if (req.url.includes('/oauth2/token'))
      return { body: { access_token: 'eyJ-SECRET', expires_in: '3599', token_type: 'Bearer' } };
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/subscriptions/sub/locations') {
      if (u.searchParams.get('page') === '2')
        return {
          body: {
            value: [{ name: 'westeurope', displayName: 'West Europe', metadata: { geography: 'Europe' } }],
          },
        };
      return {
        body: {
          value: [{ name: 'eastus', displayName: 'East US' }],
          nextLink: `${this.url()}/subscriptions/sub/locations?page=2`,
        },
      };
    }
    const catalog = this.#catalog(req, u);
    if (catalog) return catalog;
    const op = /^\/ops\/(\w+)$/.exec(u.pathname);
    if (op) {
      const o = this.ops.get(op[1]!)!;
      if (++o.polls < this.opPolls)
        return { status: 202, headers: { 'retry-after': '7' }, body: { status: 'InProgress' } };
      if (o.fail) {
        const v = this.vms.get(o.vm);
        if (v && o.then === 'created') v.provisioning = 'Failed';
        return {
          body: {
            status: 'Failed',
            error: {
              code: 'OperationNotAllowed',
              message: 'Operation powerOff is not allowed on VM fail-1 since the VM is being deleted.',
            },
          },
        };
      }
      if (o.then === 'gone') this.vms.delete(o.vm);
      else if (o.then === 'created')
        Object.assign(this.vms.get(o.vm)!, { power: 'running', provisioning: undefined });
      else if (o.then !== 'network') this.vms.get(o.vm)!.power = o.then;
      return u.searchParams.get('kind') === 'location' ? { status: 200 } : { body: { status: 'Succeeded' } };
    }
    const vm =
      /^\/subscriptions\/sub\/resourceGroups\/rg\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)(?:\/(\w+))?$/.exec(
        u.pathname,
      );
    if (vm && req.method === 'PUT') {
      const name = vm[1]!;
      const body = JSON.parse(req.body) as { properties: { osProfile: { adminPassword?: string } } };
      if (name === 'echo')
        return {
          status: 400,
          body: {
            error: {
              code: 'InvalidParameter',
              message: `The supplied password ${body.properties.osProfile.adminPassword} must be 6-72 characters long.`,
            },
          },
        };
      this.puts.set(u.pathname, body);
      // ARM carries on without anyone polling: after two reads the VM is running (or failed).
      this.vms.set(name, { name, power: 'starting', provisioning: 'Creating', readsLeft: 2 });
      return {
        status: 201,
        headers: { 'azure-asyncoperation': `${this.url()}/ops/${this.#op(name, 'created')}` },
        // ARM answers with the VM as sent, `provisioningState: Creating` and no instance view.
        body: {
          ...body,
          id: this.#vmJson(name).id,
          name,
          properties: { ...body.properties, provisioningState: 'Creating' },
        },
      };
    }
    if (vm) {
      const v = this.vms.get(vm[1]!);
      if (v?.readsLeft !== undefined && --v.readsLeft <= 0) {
        v.readsLeft = undefined;
        if (v.name.startsWith('fail-')) v.provisioning = 'Failed';
        else Object.assign(v, { power: 'running', provisioning: undefined });
      }
      if (!v) return { status: 404, body: { error: { code: 'ResourceNotFound', message: 'not found' } } };
      if (req.method === 'DELETE') {
        const id = this.#op(v.name, 'gone');
        return { status: 202, headers: { location: `${this.url()}/ops/${id}?kind=location` } };
      }
      if (vm[2]) {
        const next = { start: 'running', restart: 'running', powerOff: 'stopped' }[vm[2]] ?? 'running';
        return {
          status: 202,
          headers: {
            'azure-asyncoperation': `${this.url()}/ops/${this.#op(v.name, next)}`,
            'retry-after': '5',
          },
        };
      }
      return { body: this.#vmJson(v.name) };
    }
    return {
      status: 404,
      body: { error: { code: 'NotFound', message: `no route ${req.method} ${u.pathname}` } },
    };
  };

  #vmJson(name: string): Record<string, unknown> {
    const v = this.vms.get(name)!;
    const prov = v.provisioning ?? 'Succeeded';
    return {
      id: `/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/${v.name}`,
      name: v.name,
      location: 'eastus',
      properties: {
        provisioningState: prov,
        instanceView: {
          statuses: [{ code: `ProvisioningState/${prov.toLowerCase()}` }, { code: `PowerState/${v.power}` }],
        },
      },
    };
  }

  /** Images, SKUs, marketplace versions, SSH keys and network PUTs; `undefined` for other routes. */
  #catalog(req: RecordedRequest, u: URL): ReplayResponse | undefined {
    const compute = '/subscriptions/sub/providers/Microsoft.Compute';
    const page2 = u.searchParams.get('page') === '2';
    const next = (path: string) => `${this.url()}${path}?page=2`;
    if (u.pathname === `${compute}/images`)
      return page2
        ? { body: { value: [IMAGES[1]] } }
        : { body: { value: [IMAGES[0]], nextLink: next(u.pathname) } };
    if (u.pathname === `${compute}/skus`) {
      // ARM's nextLink carries the filter on (here as `loc`).
      const loc = page2
        ? u.searchParams.get('loc')
        : /^location eq '(\w+)'$/.exec(u.searchParams.get('$filter') ?? '')?.[1];
      if (!page2 && u.searchParams.get('api-version') !== '2021-07-01') return { status: 400, body: {} };
      const list = loc ? SKUS.filter((x) => x.locations.includes(loc)) : SKUS;
      if (page2) return { body: { value: list.slice(2) } };
      return { body: { value: list.slice(0, 2), nextLink: `${next(u.pathname)}&loc=${loc ?? ''}` } };
    }
    if (
      u.pathname ===
      `${compute}/locations/eastus/publishers/Canonical/artifacttypes/vmimage/offers/ubuntu-24_04-lts/skus/server/versions`
    )
      return {
        body: ['24.04.202409120', '24.04.202410010'].map((name) => ({
          location: 'eastus',
          name,
          id: `/Subscriptions/sub/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions/${name}`,
        })),
      };
    const keyJson = (name: string) => {
      const k = this.keys.get(name)!;
      return {
        id: `/subscriptions/sub/resourceGroups/${k.rg}/providers/Microsoft.Compute/sshPublicKeys/${name}`,
        name,
        location: k.location,
        properties: { publicKey: k.publicKey },
      };
    };
    if (u.pathname === `${compute}/sshPublicKeys`) {
      const all = [...this.keys.keys()].map(keyJson);
      return page2
        ? { body: { value: all.slice(1) } }
        : { body: { value: all.slice(0, 1), ...(all.length > 1 ? { nextLink: next(u.pathname) } : {}) } };
    }
    const key =
      /^\/subscriptions\/sub\/resourceGroups\/(\w+)\/providers\/Microsoft\.Compute\/sshPublicKeys\/([^/]+)$/.exec(
        u.pathname,
      );
    if (key && req.method === 'PUT') {
      const body = JSON.parse(req.body) as { location: string; properties: { publicKey: string } };
      this.keys.set(key[2]!, { rg: key[1]!, location: body.location, publicKey: body.properties.publicKey });
      return { status: 201, body: keyJson(key[2]!) };
    }
    if (key && req.method === 'DELETE') return { status: this.keys.delete(key[2]!) ? 200 : 204 };
    const net =
      /^\/subscriptions\/sub\/resourceGroups\/rg\/providers\/Microsoft\.Network\/(networkInterfaces|publicIPAddresses)\/([^/]+)$/.exec(
        u.pathname,
      );
    if (net && req.method === 'PUT') {
      this.puts.set(u.pathname, JSON.parse(req.body) as Record<string, unknown>);
      return {
        status: 201,
        headers: { 'azure-asyncoperation': `${this.url()}/ops/${this.#op(net[2]!, 'network')}` },
        body: { id: u.pathname, name: net[2], properties: { provisioningState: 'Updating' } },
      };
    }
    return undefined;
  }

  #op(vm: string, then: string): string {
    const id = `op${++this.#n}`;
    this.ops.set(id, { polls: 0, vm, then, fail: vm.startsWith('fail-') });
    return id;
  }
}

const IMAGES = ['golden-1', 'golden-2'].map((name, i) => ({
  id: `/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/images/${name}`,
  name,
  location: i === 0 ? 'eastus' : 'westeurope',
  properties: {
    storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized' } },
    provisioningState: 'Succeeded',
  },
}));

const caps = (vcpus: string, memoryGb: string) => [
  { name: 'vCPUs', value: vcpus },
  { name: 'MemoryGB', value: memoryGb },
  { name: 'MaxResourceVolumeMB', value: '7168' },
];

/** Resource SKUs as `Microsoft.Compute/skus` gives them: one item per location, disks mixed in. */
const SKUS = [
  {
    resourceType: 'virtualMachines',
    name: 'Standard_B1s',
    tier: 'Standard',
    family: 'standardBSFamily',
    locations: ['westeurope'],
    capabilities: caps('1', '1'),
    restrictions: [],
  },
  { resourceType: 'disks', name: 'Premium_LRS', locations: ['eastus'], capabilities: [] },
  {
    resourceType: 'virtualMachines',
    name: 'Standard_B1s',
    tier: 'Standard',
    locations: ['eastus'],
    capabilities: caps('1', '1'),
    restrictions: [],
  },
  {
    resourceType: 'virtualMachines',
    name: 'Standard_D2s_v5',
    tier: 'Standard',
    family: 'standardDSv5Family',
    locations: ['eastus'],
    capabilities: caps('2', '8'),
    restrictions: [],
  },
  {
    resourceType: 'virtualMachines',
    name: 'Standard_A1_v2',
    tier: 'Standard',
    locations: ['eastus'],
    capabilities: caps('1', '2.5'),
    restrictions: [{ type: 'Location', reasonCode: 'NotAvailableForSubscription' }],
  },
];

/** An Azure provider pointed at a started fake (for the management conformance suite). */
export async function startAzureManagement(): Promise<{
  provider: ManagedProvider;
  fake: FakeAzure;
  server: ReplayServer;
  waits: number[];
}> {
  let url = '';
  const fake = new FakeAzure(() => url);
  const server = await startReplayServer((req) => fake.handle(req));
  url = server.url;
  const time = virtualTime();
  const provider = azure({
    id: 'az',
    tenantId: 't',
    clientId: 'c',
    clientSecret: 'client-SECRET',
    subscriptionId: 'sub',
    baseUrl: server.url,
    authorityHost: `${server.url}/login`,
    addresses: false,
    resourceGroup: 'rg',
    location: 'eastus',
    clock: time.clock,
    http: { sleep: time.sleep, retryLimit: 0 },
  });
  return { provider, fake, server, waits: time.waits };
}
