import { type AzureProvider, azure } from '../../../src/providers/azure.js';
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
 * DELETE answering 202 + `Location`, and a paged location list.
 */
export class FakeAzure {
  vms = new Map<string, { name: string; power: string }>();
  ops = new Map<string, { polls: number; vm: string; then: string; fail: boolean }>();
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
    const op = /^\/ops\/(\w+)$/.exec(u.pathname);
    if (op) {
      const o = this.ops.get(op[1]!)!;
      if (++o.polls < this.opPolls)
        return { status: 202, headers: { 'retry-after': '7' }, body: { status: 'InProgress' } };
      if (o.fail)
        return {
          body: {
            status: 'Failed',
            error: {
              code: 'OperationNotAllowed',
              message: 'Operation powerOff is not allowed on VM fail-1 since the VM is being deleted.',
            },
          },
        };
      if (o.then === 'gone') this.vms.delete(o.vm);
      else this.vms.get(o.vm)!.power = o.then;
      return u.searchParams.get('kind') === 'location' ? { status: 200 } : { body: { status: 'Succeeded' } };
    }
    const vm =
      /^\/subscriptions\/sub\/resourceGroups\/rg\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)(?:\/(\w+))?$/.exec(
        u.pathname,
      );
    if (vm) {
      const v = this.vms.get(vm[1]!);
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
      return {
        body: {
          id: `/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/${v.name}`,
          name: v.name,
          location: 'eastus',
          properties: {
            provisioningState: 'Succeeded',
            instanceView: {
              statuses: [{ code: 'ProvisioningState/succeeded' }, { code: `PowerState/${v.power}` }],
            },
          },
        },
      };
    }
    return {
      status: 404,
      body: { error: { code: 'NotFound', message: `no route ${req.method} ${u.pathname}` } },
    };
  };

  #op(vm: string, then: string): string {
    const id = `op${++this.#n}`;
    this.ops.set(id, { polls: 0, vm, then, fail: vm.startsWith('fail-') });
    return id;
  }
}

/** An Azure provider pointed at a started fake (for the management conformance suite). */
export async function startAzureManagement(): Promise<{
  provider: AzureProvider;
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
    clock: time.clock,
    http: { sleep: time.sleep, retryLimit: 0 },
  });
  return { provider, fake, server, waits: time.waits };
}
