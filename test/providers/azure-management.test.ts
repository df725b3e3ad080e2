import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { azure } from '../../src/providers/azure.js';
import { startAzureManagement } from './fakes/azure.js';
import { catchErr, collect } from './server.js';

/** The parts of a VM PUT body the tests read. */
interface VmPut {
  location: string;
  tags?: unknown;
  properties: {
    hardwareProfile: unknown;
    storageProfile: { imageReference: unknown };
    osProfile: { customData: string; linuxConfiguration?: unknown };
    networkProfile: { networkInterfaces: { id: string; properties: { deleteOption: string } }[] };
  };
}

describe('azure() management', () => {
  let ctx: Awaited<ReturnType<typeof startAzureManagement>>;
  beforeAll(async () => {
    ctx = await startAzureManagement();
  });
  afterAll(() => ctx.server.close());
  beforeEach(() => {
    ctx.server.requests.length = 0;
    ctx.waits.length = 0;
  });

  it('listLocations() - follows nextLink', async () => {
    expect(await collect(ctx.provider.listLocations())).toMatchObject([
      { id: 'eastus', name: 'East US' },
      { id: 'westeurope', name: 'West Europe', extra: { geography: 'Europe' } },
    ]);
  });

  it('stopNode() - powerOff, then Azure-AsyncOperation polled with Retry-After until Succeeded, then the VM', async () => {
    ctx.fake.vms.set('web', { name: 'web', power: 'running' });
    const op = await ctx.provider.stopNode('rg/web');
    const node = await op!.done();
    expect(node).toMatchObject({ state: 'stopped', rawState: 'PowerState/stopped' });
    const post = ctx.server.requests.find((r) => r.method === 'POST' && !r.url.includes('oauth2'));
    expect(post!.url).not.toContain('skipShutdown');
    expect(ctx.waits[0]).toBe(7_000);
    expect(ctx.server.requests.filter((r) => r.url.startsWith('/ops/'))).toHaveLength(2);
  });

  it('stopNode({ graceful: false }) - skipShutdown=true', async () => {
    ctx.fake.vms.set('web2', { name: 'web2', power: 'running' });
    await (await ctx.provider.stopNode('rg/web2', { graceful: false }))!.done();
    expect(ctx.server.requests.find((r) => r.method === 'POST' && !r.url.includes('oauth2'))!.url).toContain(
      'skipShutdown=true',
    );
  });

  it("rebootNode() - a Failed async operation rejects with E_PROVIDER carrying ARM's code and message", async () => {
    ctx.fake.vms.set('fail-1', { name: 'fail-1', power: 'running' });
    const err = await catchErr((await ctx.provider.rebootNode('rg/fail-1'))!.done());
    expect(err).toMatchObject({ code: 'E_PROVIDER', providerCode: 'OperationNotAllowed' });
    expect(err.message).toContain('is not allowed on VM fail-1');
    expect(JSON.stringify(err)).not.toMatch(/SECRET/);
  });

  it('startNode() - done() times out (E_TIMEOUT) and aborts (E_ABORTED); waitForState() likewise', async () => {
    ctx.fake.vms.set('slow', { name: 'slow', power: 'stopped' });
    ctx.fake.opPolls = 10_000;
    try {
      const op = await ctx.provider.startNode('rg/slow');
      expect((await catchErr(op!.done({ timeoutMs: 60_000 }))).code).toBe('E_TIMEOUT');
      const ac = new AbortController();
      ac.abort();
      expect((await catchErr(op!.done({ signal: ac.signal }))).code).toBe('E_ABORTED');
      expect(
        (await catchErr(ctx.provider.waitForState('rg/slow', ['running'], { timeoutMs: 30_000 }))).code,
      ).toBe('E_TIMEOUT');
    } finally {
      ctx.fake.opPolls = 2;
    }
  });

  it('destroyNode() - DELETE, then the Location URL until 200', async () => {
    ctx.fake.vms.set('tmp', { name: 'tmp', power: 'running' });
    await (await ctx.provider.destroyNode('rg/tmp'))!.done();
    expect(ctx.fake.vms.has('tmp')).toBe(false);
    expect(await ctx.provider.getNode('rg/tmp')).toBeUndefined();
  });

  it('listImages() - own images by default, every page (nextLink), ARM ids; filters.location keeps one location', async () => {
    const all = await collect(ctx.provider.listImages());
    expect(all).toMatchObject([
      {
        id: '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/images/golden-1',
        name: 'golden-1',
        os: 'linux',
        public: false,
      },
      { name: 'golden-2', extra: { location: 'westeurope' } },
    ]);
    const pages: number[] = [];
    const west = await collect(
      ctx.provider.listImages({ filters: { location: 'westeurope' }, onPage: (p) => pages.push(p.items) }),
    );
    expect(west.map((i) => i.name)).toEqual(['golden-2']);
    expect(pages).toEqual([0, 1]); // items yielded per page (page 1 holds only eastus images)
  });

  it("listImages({ owner: 'public' }) - one marketplace SKU's versions as URNs", async () => {
    const filters = { location: 'eastus', publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' };
    const images = await collect(ctx.provider.listImages({ owner: 'public', filters }));
    expect(images).toMatchObject([
      {
        id: 'Canonical:ubuntu-24_04-lts:server:24.04.202409120',
        public: true,
        extra: { location: 'eastus' },
      },
      { id: 'Canonical:ubuntu-24_04-lts:server:24.04.202410010' },
    ]);
    const both = await collect(ctx.provider.listImages({ owner: 'all', filters }));
    // 'all' with the marketplace filters: own images of that location, then the versions.
    expect(both.map((i) => i.name)).toEqual([
      'golden-1',
      'Canonical:ubuntu-24_04-lts:server:24.04.202409120',
      'Canonical:ubuntu-24_04-lts:server:24.04.202410010',
    ]);
  });

  it('listImages() - an unbounded marketplace walk is refused naming the missing filter; no request made', () => {
    const refused = (opts: Parameters<typeof ctx.provider.listImages>[0], path: string) => {
      let err: unknown;
      try {
        ctx.provider.listImages(opts);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'E_VALIDATION', path });
    };
    refused({ owner: 'public' }, 'opts.filters.location');
    refused(
      { owner: 'public', filters: { location: 'eastus', publisher: 'Canonical' } },
      'opts.filters.offer',
    );
    refused(
      { owner: 'all', filters: { location: 'eastus', publisher: 'C', offer: 'o' } },
      'opts.filters.sku',
    );
    refused({ filters: { publisher: 'Canonical' } }, 'opts.filters.publisher');
    refused({ owner: 'public', filters: { version: '1' } }, 'opts.filters.version');
    expect(ctx.server.requests).toHaveLength(0);
  });

  it('listSizes() - Resource SKUs over both pages, VMs only, one per name, vCPUs and MemoryGB → MiB, no price', async () => {
    const sizes = await collect(ctx.provider.listSizes());
    expect(sizes.map((s) => s.id)).toEqual(['Standard_B1s', 'Standard_D2s_v5', 'Standard_A1_v2']);
    expect(sizes[1]).toEqual({
      id: 'Standard_D2s_v5',
      name: 'Standard_D2s_v5',
      provider: 'az',
      cpus: 2,
      memory: 8192,
      extra: expect.objectContaining({ family: 'standardDSv5Family', resourceDiskMB: 7168 }),
    });
    expect(sizes[2]).toMatchObject({
      memory: 2560,
      extra: { restrictions: [{ reasonCode: 'NotAvailableForSubscription' }] },
    });
    expect(sizes.every((s) => s.price === undefined)).toBe(true);
    const first = ctx.server.requests.find((r) => r.url.includes('/skus'))!;
    expect(first.url).toContain('api-version=2021-07-01');
    expect(first.url).not.toContain('filter');
  });

  it("listSizes({ filters: { location } }) - $filter=location eq '…'; a bad location is refused", async () => {
    const sizes = await collect(ctx.provider.listSizes({ filters: { location: 'westeurope' } }));
    expect(sizes.map((s) => s.id)).toEqual(['Standard_B1s']);
    const url = new URL(ctx.server.requests.find((r) => r.url.includes('/skus'))!.url, 'http://x');
    expect(url.searchParams.get('$filter')).toBe("location eq 'westeurope'");
    expect(() => ctx.provider.listSizes({ filters: { location: "x' or 1 eq 1" } })).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'opts.filters.location' }),
    );
  });

  it('importKeyPair() / listKeyPairs() / deleteKeyPair() - sshPublicKeys in the resourceGroup option', async () => {
    const publicKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0 ops@host';
    const key = await ctx.provider.importKeyPair({ name: 'ops', publicKey });
    expect(key).toMatchObject({ name: 'ops', publicKey, extra: { resourceGroup: 'rg', location: 'eastus' } });
    const put = ctx.server.requests.find((r) => r.method === 'PUT')!;
    expect(put.url).toMatch(
      /^\/subscriptions\/sub\/resourceGroups\/rg\/providers\/Microsoft\.Compute\/sshPublicKeys\/ops\?/,
    );
    await ctx.provider.importKeyPair({ name: 'deploy', publicKey: 'ssh-rsa AAAAB3Nza deploy' });
    expect((await collect(ctx.provider.listKeyPairs())).map((k) => k.name)).toEqual(['ops', 'deploy']);
    await ctx.provider.deleteKeyPair('deploy');
    expect([...ctx.fake.keys.keys()]).toEqual(['ops']);
    expect((await catchErr(ctx.provider.deleteKeyPair('nope'))).code).toBe('E_NOT_FOUND');
    expect((await catchErr(ctx.provider.importKeyPair({ name: 'bad', publicKey: 'not a key' }))).path).toBe(
      'input.publicKey',
    );
  });

  it('createNode({ extra.subnetId, publicIp }) - public IP, then NIC, each followed, then the VM PUT; returns it pending', async () => {
    ctx.fake.keys.set('ops', { rg: 'rg', location: 'eastus', publicKey: 'ssh-ed25519 AAAAops ops' });
    const subnetId =
      '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/default';
    const node = await ctx.provider.createNode({
      name: 'web-1',
      size: 'Standard_B1s',
      image: 'Canonical:ubuntu-24_04-lts:server:latest',
      keyPair: 'ops',
      tags: { role: 'web' },
      userData: '#cloud-config\n',
      extra: { subnetId, publicIp: true },
    });
    expect(node).toMatchObject({
      id: 'rg/web-1',
      state: 'pending',
      size: 'Standard_B1s',
      tags: { role: 'web' },
    });
    const puts = ctx.server.requests.filter((r) => r.method === 'PUT').map((r) => r.url.split('?')[0]);
    expect(puts).toEqual([
      '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/web-1-ip',
      '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/web-1-nic',
      '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-1',
    ]);
    // Each network PUT's operation was polled before the next PUT.
    const order = ctx.server.requests.map((r) =>
      r.method === 'PUT' ? 'PUT' : r.url.startsWith('/ops/') ? 'op' : '-',
    );
    expect(order.filter((x) => x !== '-').join(' ')).toBe('PUT op op PUT op op PUT');
    const nic = ctx.fake.puts.get(puts[1]!) as {
      properties: { ipConfigurations: { properties: Record<string, unknown> }[] };
    };
    expect(nic.properties.ipConfigurations[0]!.properties).toMatchObject({
      subnet: { id: subnetId },
      publicIPAddress: { id: puts[0] },
    });
    const vm = ctx.fake.puts.get(puts[2]!) as unknown as VmPut;
    expect(vm.location).toBe('eastus');
    expect(vm.tags).toEqual({ role: 'web' });
    expect(vm.properties.hardwareProfile).toEqual({ vmSize: 'Standard_B1s' });
    expect(vm.properties.storageProfile.imageReference).toEqual({
      publisher: 'Canonical',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      version: 'latest',
    });
    expect(Buffer.from(vm.properties.osProfile.customData, 'base64').toString()).toBe('#cloud-config\n');
    expect(vm.properties.osProfile.linuxConfiguration).toEqual({
      disablePasswordAuthentication: true,
      ssh: {
        publicKeys: [{ path: '/home/azureuser/.ssh/authorized_keys', keyData: 'ssh-ed25519 AAAAops ops' }],
      },
    });
    expect(vm.properties.networkProfile.networkInterfaces).toEqual([
      { id: puts[1], properties: { primary: true, deleteOption: 'Delete' } },
    ]);
    expect(await ctx.provider.waitForState('rg/web-1', ['running'])).toMatchObject({ state: 'running' });
  });

  it('createNode({ extra.networkInterfaceId, image id }) - no network PUT; the NIC is detached on delete', async () => {
    const nicId = '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/given';
    const image = '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/images/golden-1';
    await ctx.provider.createNode({
      name: 'db-1',
      size: 'Standard_D2s_v5',
      image,
      location: 'westeurope',
      extra: { networkInterfaceId: nicId, adminPassword: 'Pa55-SECRET-word' },
    });
    const puts = ctx.server.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    const vm = JSON.parse(puts[0]!.body) as VmPut;
    expect(vm.location).toBe('westeurope');
    expect(vm.properties.storageProfile.imageReference).toEqual({ id: image });
    expect(vm.properties.networkProfile.networkInterfaces[0]?.properties.deleteOption).toBe('Detach');
    expect(vm.properties.osProfile.linuxConfiguration).toBeUndefined();
  });

  it('createNode() - refuses bad input before any request, without echoing the password', async () => {
    const base = { name: 'x', size: 'Standard_B1s', image: 'a:b:c:d', keyPair: 'ops' };
    const subnetId =
      '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s';
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, extra: {} }, 'input.extra.subnetId'],
      [{ ...base, image: 'ubuntu', extra: { subnetId } }, 'input.image'],
      [{ ...base, extra: { subnetId, networkInterfaceId: subnetId } }, 'input.extra.subnetId'],
      [{ ...base, keyPair: undefined, extra: { subnetId } }, 'input.keyPair'],
      [{ ...base, extra: { subnetId, adminPassword: 12345 } }, 'input.extra.adminPassword'],
      [{ ...base, extra: { subnetId, vmSize: 'x' } }, 'input.extra.vmSize'],
      [{ ...base, tags: { 'a/b': 'x' }, extra: { subnetId } }, 'tags.a/b'],
    ];
    for (const [input, path] of cases) {
      const err = await catchErr(ctx.provider.createNode(input as never));
      expect(err).toMatchObject({ code: 'E_VALIDATION', path });
      expect(JSON.stringify(err)).not.toContain('12345');
    }
    expect(ctx.server.requests).toHaveLength(0);
  });

  it('createNode() - a failing create: waitForState rejects with E_PROVIDER (ProvisioningState/failed)', async () => {
    const nicId = '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/given';
    const node = await ctx.provider.createNode({
      name: 'fail-create',
      size: 'Standard_B1s',
      image: 'a:b:c:d',
      extra: { networkInterfaceId: nicId, adminPassword: 'Pa55-SECRET-word' },
    });
    expect(node.state).toBe('pending');
    // The fake's VM leaves Creating for ProvisioningState/failed after two reads.
    const err = await catchErr(
      ctx.provider.waitForState('rg/fail-create', ['running'], { timeoutMs: 60_000 }),
    );
    expect(err).toMatchObject({ code: 'E_PROVIDER' });
    expect(err.message).toContain('ProvisioningState/failed');
    expect(JSON.stringify(err)).not.toMatch(/SECRET/);
  });

  it('createNode() - an ARM error echoing the password is redacted; abort rejects with E_ABORTED', async () => {
    const nicId = '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/given';
    const input = {
      name: 'echo',
      size: 'Standard_B1s',
      image: 'a:b:c:d',
      extra: { networkInterfaceId: nicId, adminPassword: 'Pa55-SECRET-word' },
    };
    const err = await catchErr(ctx.provider.createNode(input));
    expect(err).toMatchObject({ code: 'E_PROVIDER', providerCode: 'InvalidParameter' });
    expect(err.message).toContain('password');
    expect(JSON.stringify({ ...err, message: err.message, cause: String(err.cause) })).not.toContain(
      'Pa55-SECRET-word',
    );
    const ac = new AbortController();
    ac.abort();
    expect((await catchErr(ctx.provider.createNode(input, { signal: ac.signal }))).code).toBe('E_ABORTED');
    expect((await catchErr(collect(ctx.provider.listSizes({ signal: ac.signal })))).code).toBe('E_ABORTED');
  });

  it('key pairs - a name in several resource groups: the resourceGroup option decides, else E_VALIDATION', async () => {
    ctx.fake.keys.clear();
    ctx.fake.keys.set('dup', { rg: 'other', location: 'eastus', publicKey: 'ssh-ed25519 AAAAother o' });
    await ctx.provider.importKeyPair({ name: 'DUP', publicKey: 'ssh-ed25519 AAAAmine m' });
    // ARM names are case-insensitive: 'DUP' in rg and 'dup' in other.
    await ctx.provider.deleteKeyPair('dup');
    const del = ctx.server.requests.find((r) => r.method === 'DELETE')!;
    expect(del.url).toMatch(
      /^\/subscriptions\/sub\/resourceGroups\/rg\/providers\/Microsoft\.Compute\/sshPublicKeys\/DUP\?/,
    );
    const noRg = azure({
      id: 'az2',
      tenantId: 't',
      clientId: 'c',
      clientSecret: 'client-SECRET',
      subscriptionId: 'sub',
      baseUrl: ctx.server.url,
      authorityHost: `${ctx.server.url}/login`,
      http: { retryLimit: 0 },
    });
    ctx.fake.keys.set('Dup', { rg: 'a', location: 'eastus', publicKey: 'ssh-ed25519 AAAAa a' });
    expect(await catchErr(noRg.deleteKeyPair('dup'))).toMatchObject({
      code: 'E_VALIDATION',
      path: 'keyPair',
    });
    expect(await catchErr(noRg.importKeyPair({ name: 'k', publicKey: 'ssh-ed25519 AAAAk k' }))).toMatchObject(
      { code: 'E_VALIDATION', path: 'options.resourceGroup' },
    );
    expect((await catchErr(noRg.deleteKeyPair('nothing-here'))).code).toBe('E_NOT_FOUND');
    ctx.fake.keys.clear();
  });

  it('createNode() - a failing NIC operation rejects with E_PROVIDER and no VM is PUT', async () => {
    const subnetId =
      '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s';
    const err = await catchErr(
      ctx.provider.createNode({
        name: 'fail-nic',
        size: 'Standard_B1s',
        image: 'a:b:c:d',
        extra: { subnetId, adminPassword: 'Pa55-SECRET-word' },
      }),
    );
    expect(err).toMatchObject({ code: 'E_PROVIDER', providerCode: 'OperationNotAllowed' });
    expect(ctx.server.requests.filter((r) => r.method === 'PUT').map((r) => r.url.split('?')[0])).toEqual([
      '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/fail-nic-nic',
    ]);
    expect(JSON.stringify({ ...err, message: err.message })).not.toMatch(/SECRET/);
  });
});
