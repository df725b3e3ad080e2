import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AZURE_STATES, azure, azureState } from '../../src/providers/azure.js';
import { azureAddressBook } from '../../src/providers/azure-network.js';
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

const SECRET = 'azure-client-secret-~Q8.SECRET';
const ACCESS = 'eyJ0eXAiOiJKV1Qi.access.SECRET';
const SUB = '99999999-9999-9999-9999-999999999999';

function vm(rg: string, name: string, statuses: string[] | undefined, over: Record<string, unknown> = {}) {
  return {
    id: `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`,
    name,
    location: 'eastus',
    zones: ['2'],
    tags: { role: 'web' },
    properties: {
      vmId: 'CCEEBF63-E92B-4A50-9949-6E44BFC61D3F',
      hardwareProfile: { vmSize: 'Standard_B2s' },
      storageProfile: {
        imageReference: {
          publisher: 'Canonical',
          offer: 'ubuntu-24_04-lts',
          sku: 'server',
          version: 'latest',
        },
        osDisk: { osType: 'Linux' },
      },
      osProfile: { computerName: name, adminUsername: 'azureuser', adminPassword: 'never-returned' },
      provisioningState: 'Succeeded',
      timeCreated: '2024-05-01T10:00:00.0000000+00:00',
      ...(statuses ? { instanceView: { statuses: statuses.map((code) => ({ code })) } } : {}),
    },
    ...over,
  };
}

describe('azureState()', () => {
  it('prefers failing/creating/deleting provisioning over power state', () => {
    expect(
      azureState([{ code: 'ProvisioningState/succeeded' }, { code: 'PowerState/running' }], 'Succeeded'),
    ).toEqual({ state: 'running', rawState: 'PowerState/running', powerState: 'PowerState/running' });
    expect(
      azureState([{ code: 'ProvisioningState/updating' }, { code: 'PowerState/running' }], 'Updating').state,
    ).toBe('running');
    expect(
      azureState(
        [{ code: 'ProvisioningState/failed/InternalOperationError' }, { code: 'PowerState/running' }],
        'Failed',
      ),
    ).toMatchObject({ state: 'error', rawState: 'ProvisioningState/failed/InternalOperationError' });
    expect(azureState([{ code: 'ProvisioningState/deleting' }], 'Deleting').state).toBe('terminated');
    expect(azureState(undefined, 'Succeeded')).toEqual({
      state: 'unknown',
      rawState: 'ProvisioningState/succeeded',
      powerState: undefined,
    });
    expect(azureState([{ code: 'PowerState/hibernated' }], 'Succeeded')).toMatchObject({
      state: 'unknown',
      rawState: 'PowerState/hibernated',
    });
  });
});

describe('azureAddressBook()', () => {
  it('joins NICs to VMs case-insensitively and resolves public IP ids', () => {
    const book = azureAddressBook(
      [
        {
          properties: {
            virtualMachine: { id: '/X/VM1' },
            ipConfigurations: [
              { properties: { privateIPAddress: '10.0.0.1', publicIPAddress: { id: '/P/IP1' } } },
            ],
          },
        },
        {
          properties: {
            virtualMachine: { id: '/x/vm1' },
            ipConfigurations: [{ properties: { privateIPAddress: '10.0.0.2' } }],
          },
        },
        { properties: { ipConfigurations: [{ properties: { privateIPAddress: '10.9.9.9' } }] } },
      ],
      [{ id: '/p/ip1', properties: { ipAddress: '20.0.0.1' } }],
    );
    expect([...book.entries()]).toEqual([
      ['/x/vm1', { publicIps: ['20.0.0.1'], privateIps: ['10.0.0.1', '10.0.0.2'] }],
    ]);
  });
});

describe('azure()', () => {
  let server: ReplayServer;
  let handle: (req: RecordedRequest) => ReplayResponse;
  let tokenHandle: (req: RecordedRequest) => ReplayResponse;
  let issued = 0;
  beforeAll(async () => {
    server = await startReplayServer((req) =>
      req.url.includes('/oauth2/token') ? tokenHandle(req) : handle(req),
    );
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    issued = 0;
    tokenHandle = () => ({
      body: {
        token_type: 'Bearer',
        expires_in: '3599',
        expires_on: String(Math.floor(Date.now() / 1000) + 3599),
        access_token: `${ACCESS}-${++issued}`,
      },
    });
  });
  const make = (extra: Record<string, unknown> = {}) =>
    azure({
      id: 'az',
      tenantId: 'tenant-1',
      clientId: 'client-1',
      clientSecret: SECRET,
      subscriptionId: SUB,
      baseUrl: server.url,
      authorityHost: `${server.url}/login`,
      http: { sleep: recordingSleep().sleep, baseDelayMs: 1, retryLimit: 2 },
      addresses: false,
      ...extra,
    });
  const api = () => server.requests.filter((r) => !r.url.includes('/oauth2/token'));
  const listPath = `/subscriptions/${SUB}/providers/Microsoft.Compute/virtualMachines`;

  it('listNodes() - client-credentials token, statusOnly list following nextLink, no per-VM calls', async () => {
    handle = (req) => {
      const u = new URL(req.url, server.url);
      const skip = u.searchParams.get('$skiptoken');
      if (!skip)
        return {
          body: {
            value: [
              vm('rg1', 'a', ['ProvisioningState/succeeded', 'PowerState/running']),
              vm('RG1', 'b', ['PowerState/deallocated']),
            ],
            nextLink: `${server.url}${listPath}?api-version=2024-07-01&statusOnly=true&$skiptoken=p2`,
          },
        };
      if (skip === 'p2')
        return {
          body: {
            value: [vm('rg2', 'c', ['PowerState/stopped'])],
            nextLink: `${server.url}${listPath}?api-version=2024-07-01&statusOnly=true&$skiptoken=p3`,
          },
        };
      return { body: { value: [] } };
    };
    const nodes = await collect(make().listNodes());
    expect(nodes.map((n) => [n.id, n.state, n.rawState])).toEqual([
      ['rg1/a', 'running', 'PowerState/running'],
      ['RG1/b', 'stopped', 'PowerState/deallocated'],
      ['rg2/c', 'stopped', 'PowerState/stopped'],
    ]);
    expect(api()).toHaveLength(3);
    expect(api()[0]!.url).toBe(`${listPath}?api-version=2024-07-01&statusOnly=true`);
    expect(api()[0]!.headers.authorization).toBe(`Bearer ${ACCESS}-1`);
    const tokenReq = server.requests.find((r) => r.url.includes('/oauth2/token'))!;
    expect(tokenReq.url).toBe('/login/tenant-1/oauth2/token');
    expect(Object.fromEntries(new URLSearchParams(tokenReq.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'client-1',
      client_secret: SECRET,
      resource: 'https://management.core.windows.net/',
    });
    expect(nodes[0]).toEqual({
      uid: 'az:rg1/a',
      id: 'rg1/a',
      name: 'a',
      provider: 'az',
      kind: 'azure',
      state: 'running',
      rawState: 'PowerState/running',
      region: 'eastus',
      zone: '2',
      publicIps: [],
      privateIps: [],
      size: 'Standard_B2s',
      image: 'Canonical:ubuntu-24_04-lts:server:latest',
      createdAt: new Date('2024-05-01T10:00:00Z'),
      tags: { role: 'web' },
      extra: {
        armId: `/subscriptions/${SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/a`,
        resourceGroup: 'rg1',
        vmId: 'CCEEBF63-E92B-4A50-9949-6E44BFC61D3F',
        provisioningState: 'Succeeded',
        powerState: 'PowerState/running',
        osType: 'Linux',
      },
    });
    expect(JSON.stringify(nodes)).not.toContain('never-returned');
  });

  it('listNodes() - every state in the table, unknown codes, non-ASCII names', async () => {
    const codes = Object.keys(AZURE_STATES).map((k) =>
      k.replace('powerstate', 'PowerState').replace('provisioningstate', 'ProvisioningState'),
    );
    handle = () => ({
      body: {
        value: [...codes, 'PowerState/hibernated'].map((c, i) =>
          vm('rg', `vm-ñ-${i}`, [c], { tags: { Kostenstelle: 'Ä1' } }),
        ),
      },
    });
    const nodes = await collect(make().listNodes());
    expect(nodes.map((n) => n.state)).toEqual([...Object.values(AZURE_STATES), 'unknown']);
    expect(nodes[0]!.name).toBe('vm-ñ-0');
    expect(nodes[0]!.tags).toEqual({ Kostenstelle: 'Ä1' });
  });

  it("listNodes() - powerState 'perVm' is opt-in: one instanceView call per VM", async () => {
    handle = (req) =>
      req.url.includes('/instanceView')
        ? { body: { statuses: [{ code: 'ProvisioningState/succeeded' }, { code: 'PowerState/starting' }] } }
        : { body: { value: [vm('rg', 'a', undefined), vm('rg', 'b', undefined)] } };
    const nodes = await collect(make({ powerState: 'perVm' }).listNodes());
    expect(nodes.map((n) => n.state)).toEqual(['starting', 'starting']);
    expect(api().map((r) => r.url.split('?')[0])).toEqual([
      listPath,
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a/instanceView`,
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/b/instanceView`,
    ]);
    expect(api()[0]!.url).not.toContain('statusOnly');
  });

  it('listNodes() - nextLink loop and foreign-origin nextLink raise E_PROVIDER', async () => {
    handle = () => ({ body: { value: [], nextLink: `${server.url}${listPath}?$skiptoken=same` } });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_PROVIDER');
    handle = () => ({ body: { value: [], nextLink: 'https://attacker.example/steal' } });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_PROVIDER');
  });

  it('listNodes() - 429 with Retry-After is retried', async () => {
    const s = recordingSleep();
    let n = 0;
    handle = () =>
      n++ === 0
        ? {
            status: 429,
            headers: { 'retry-after': '1', 'x-ms-ratelimit-remaining-subscription-reads': '0' },
            body: { error: { code: 'TooManyRequests', message: 'throttled' } },
          }
        : { body: { value: [vm('rg', 'a', ['PowerState/running'])] } };
    expect(await collect(make({ http: { sleep: s.sleep, random: () => 0 } }).listNodes())).toHaveLength(1);
    expect(s.waits).toEqual([1000]);
  });

  it('refreshes an expired token (expires_on) and once on 401', async () => {
    let now = 1_700_000_000_000;
    tokenHandle = () => ({
      body: { access_token: `${ACCESS}-${++issued}`, expires_on: String(Math.floor(now / 1000) + 300) },
    });
    let first401 = true;
    handle = (req) => {
      if (req.headers.authorization === `Bearer ${ACCESS}-2` && first401) {
        first401 = false;
        return { status: 401, body: { error: { code: 'ExpiredAuthenticationToken', message: 'expired' } } };
      }
      return { body: { value: [] } };
    };
    const p = make({ clock: { now: () => now } });
    await collect(p.listNodes());
    now += 250_000;
    await collect(p.listNodes());
    expect(issued).toBe(3);
    expect(api().map((r) => r.headers.authorization)).toEqual([
      `Bearer ${ACCESS}-1`,
      `Bearer ${ACCESS}-2`,
      `Bearer ${ACCESS}-3`,
    ]);
  });

  it('bad client secret is E_AUTH and the secret appears nowhere', async () => {
    tokenHandle = () => ({
      status: 401,
      body: {
        error: 'invalid_client',
        error_description: `AADSTS7000215: Invalid client secret provided: ${SECRET}\r\nTrace ID: x`,
      },
    });
    const err = await catchErr(collect(make().listNodes()));
    expect(err.code).toBe('E_AUTH');
    expect(err.providerCode).toBe('invalid_client');
    expect(err.message).toContain('AADSTS7000215');
    const dump = `${err.message} ${JSON.stringify(err)} ${String((err as Error).stack)}`;
    expect(dump).not.toContain(SECRET);
    expect(JSON.stringify(make())).not.toContain(SECRET);
    expect(inspect(err, { depth: 10 })).not.toContain(SECRET);
    expect(inspect(make(), { depth: 10, showHidden: true })).not.toContain(SECRET);
  });

  it('listNodes() - malformed and truncated bodies', async () => {
    handle = () => ({ body: '{"value": [' });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_MALFORMED_RESPONSE');
    handle = () => ({ body: { value: [vm('rg', 'a', ['PowerState/running'])] }, truncate: true });
    expect((await catchErr(collect(make().listNodes()))).code).toBe('E_MALFORMED_RESPONSE');
  });

  it('getNode() - $expand=instanceView; undefined on 404', async () => {
    handle = (req) =>
      req.url.includes('/virtualMachines/a?')
        ? { body: vm('rg', 'a', ['PowerState/running']) }
        : { status: 404, body: { error: { code: 'ResourceNotFound', message: 'not found' } } };
    expect((await make().getNode('rg/a'))?.state).toBe('running');
    expect(api()[0]!.url).toContain('%24expand=instanceView');
    expect(await make().getNode('rg/zzz')).toBeUndefined();
    await expect(make().getNode('nogroup')).rejects.toMatchObject({ code: 'E_VALIDATION' });
  });

  it('setTags() / removeTags() - merge into the current tags and PATCH', async () => {
    handle = (req) =>
      req.method === 'GET'
        ? { body: vm('rg', 'a', undefined, { tags: { a: '1', b: '2' } }) }
        : { body: vm('rg', 'a', undefined) };
    await make().setTags!('rg/a', { env: 'prod', a: 'one' });
    expect(api().map((r) => r.method)).toEqual(['GET', 'PATCH']);
    expect(api()[1]!.url).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a?api-version=2024-07-01`,
    );
    expect(JSON.parse(api()[1]!.body)).toEqual({ tags: { a: 'one', b: '2', env: 'prod' } });
    await make().removeTags!('rg/a', ['a']);
    expect(JSON.parse(api()[3]!.body)).toEqual({ tags: { b: '2' } });
    await expect(make().setTags!('rg/a', { 'a/b': 'x' })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'tags.a/b',
    });
  });

  it('startNode() / stopNode() / rebootNode() - start, powerOff, restart', async () => {
    handle = () => ({ status: 202 });
    const p = make();
    await p.startNode!('rg/a');
    await p.stopNode!('rg/a');
    await p.rebootNode!('rg/a');
    expect(api().map((r) => `${r.method} ${r.url.split('?')[0]!.split('/').pop()}`)).toEqual([
      'POST start',
      'POST powerOff',
      'POST restart',
    ]);
  });

  it('listNodes() - addresses from one paged NIC listing and one public-IP listing, never per VM', async () => {
    const net = `/subscriptions/${SUB}/providers/Microsoft.Network`;
    const vmId = (rg: string, n: string) =>
      `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${n}`;
    const pipId = (n: string) =>
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/${n}`;
    const nic = (vm: string, priv: string, pip?: string) => ({
      id: `/nic-${priv}`,
      properties: {
        virtualMachine: { id: vm },
        ipConfigurations: [
          { properties: { privateIPAddress: priv, ...(pip ? { publicIPAddress: { id: pip } } : {}) } },
        ],
      },
    });
    handle = (req) => {
      const u = new URL(req.url, server.url);
      const skip = u.searchParams.get('$skiptoken');
      if (u.pathname === `${net}/networkInterfaces`)
        return skip
          ? { body: { value: [nic(vmId('RG', 'B'), '10.0.0.5')] } }
          : {
              body: {
                value: [nic(vmId('rg', 'a'), '10.0.0.4', pipId('ip-a').toUpperCase())],
                nextLink: `${server.url}${net}/networkInterfaces?$skiptoken=2`,
              },
            };
      if (u.pathname === `${net}/publicIPAddresses`)
        return {
          body: {
            value: [
              { id: pipId('ip-a'), properties: { ipAddress: '20.1.2.3' } },
              { id: pipId('unused'), properties: {} },
            ],
          },
        };
      return {
        body: {
          value: [
            vm('rg', 'a', ['PowerState/running']),
            vm('rg', 'b', ['PowerState/running']),
            vm('rg', 'c', ['PowerState/running']),
          ],
        },
      };
    };
    const nodes = await collect(make({ addresses: true }).listNodes());
    expect(nodes.map((n) => [n.id, n.publicIps, n.privateIps])).toEqual([
      ['rg/a', ['20.1.2.3'], ['10.0.0.4']],
      ['rg/b', [], ['10.0.0.5']],
      ['rg/c', [], []],
    ]);
    expect(
      api()
        .map((r) => new URL(r.url, server.url).pathname)
        .sort(),
    ).toEqual(
      [listPath, `${net}/networkInterfaces`, `${net}/networkInterfaces`, `${net}/publicIPAddresses`].sort(),
    );
    expect(api().find((r) => r.url.includes('networkInterfaces'))!.url).toContain('api-version=2023-09-01');
  });

  it("getNode() - addresses from the VM's own NICs", async () => {
    const nicId = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/a-nic`;
    const pip = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/a-ip`;
    handle = (req) => {
      if (req.url.startsWith(nicId))
        return {
          body: {
            properties: {
              ipConfigurations: [
                { properties: { privateIPAddress: '10.1.0.4', publicIPAddress: { id: pip } } },
              ],
            },
          },
        };
      if (req.url.startsWith(pip)) return { body: { properties: { ipAddress: '52.0.0.9' } } };
      const v = vm('rg', 'a', ['PowerState/running']);
      return {
        body: {
          ...v,
          properties: { ...v.properties, networkProfile: { networkInterfaces: [{ id: nicId }] } },
        },
      };
    };
    const node = await make({ addresses: true }).getNode('rg/a');
    expect(node).toMatchObject({ publicIps: ['52.0.0.9'], privateIps: ['10.1.0.4'] });
    expect(api()).toHaveLength(3);
  });

  it('azure() - credentials from AZURE_* variables; a missing one → E_CONFIG naming it', () => {
    const env = {
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_ID: 'c',
      AZURE_CLIENT_SECRET: 's',
      AZURE_SUBSCRIPTION_ID: 'sub',
    };
    withEnv(env, () => expect(azure({ id: 'az' }).kind).toBe('azure'));
    for (const name of Object.keys(env)) {
      withEnv({ ...env, [name]: undefined }, () => {
        expect(() => azure({ id: 'az' })).toThrow(
          expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining(name) }),
        );
      });
    }
    withEnv(env, () =>
      expect(() => azure({ id: 'az', powerState: 'sometimes' as never })).toThrow(
        expect.objectContaining({ path: 'options.powerState' }),
      ),
    );
  });
});
