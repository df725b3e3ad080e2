/**
 * Second suite: the adapters parse recorded real responses from ../shared/fixtures/providers
 * (see SOURCES.md there), served by a local server. Skips with a notice when the folder is absent.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azure } from '../../src/providers/azure.js';
import { azureAddressBook } from '../../src/providers/azure-network.js';
import { digitalocean } from '../../src/providers/digitalocean.js';
import { gce } from '../../src/providers/gce.js';
import { linode } from '../../src/providers/linode.js';
import {
  catchErr,
  collect,
  type RecordedRequest,
  type ReplayResponse,
  type ReplayServer,
  recordingSleep,
  startReplayServer,
} from './server.js';

const root =
  process.env.FLEETWATCH_PROVIDER_FIXTURES ??
  resolve(import.meta.dirname, '../../../shared/fixtures/providers');
const present = existsSync(root);
if (!present)
  console.warn(`[fleetwatch] provider fixtures not found at ${root}; skipping the recorded-response suite`);

const text = (provider: string, file: string) => readFileSync(join(root, provider, file), 'utf8');
const http = { sleep: recordingSleep().sleep, retryLimit: 0 };

describe.skipIf(!present)('recorded provider responses', () => {
  let server: ReplayServer;
  let handle: (req: RecordedRequest) => ReplayResponse;
  beforeAll(async () => {
    server = await startReplayServer((req) => handle(req));
  });
  afterAll(() => server.close());
  /** Point recorded absolute links at the local server. */
  const local = (body: string, host: string) => body.split(host).join(server.url);

  describe('digitalocean', () => {
    const make = () => digitalocean({ id: 'do', token: 't0ken-value', baseUrl: `${server.url}/v2/`, http });

    it('list_nodes.json and list_nodes_page_1.json → nodes, following the recorded next link', async () => {
      handle = (req) =>
        new URL(req.url, server.url).searchParams.get('page') === '2'
          ? { body: text('digitalocean', 'list_nodes.json') }
          : { body: local(text('digitalocean', 'list_nodes_page_1.json'), 'https://api.digitalocean.com') };
      const nodes = await collect(make().listNodes());
      expect(nodes).toHaveLength(2);
      expect(nodes[0]).toMatchObject({
        id: '3164444',
        state: 'running',
        rawState: 'active',
        region: 'nyc3',
        publicIps: ['104.236.32.182', '2604:A880:0800:0010:0000:0000:02DD:4001'],
        privateIps: [],
        size: '512mb',
        image: 'ubuntu-14-04-x64',
        tags: { environment: 'prod', database: '' },
      });
      expect(nodes[1]).toMatchObject({
        region: 'sfo3',
        publicIps: ['128.199.13.158', '2604:a880:4:1d0::142:9000'],
        privateIps: ['10.124.0.2'],
        size: 's-1vcpu-1gb',
        image: 'ubuntu-20-04-x64',
        tags: {},
      });
    });

    it('error.json (401) → E_AUTH with the message', async () => {
      handle = () => ({ status: 401, body: text('digitalocean', 'error.json') });
      const err = await catchErr(collect(make().listNodes()));
      expect(err.code).toBe('E_AUTH');
      expect(err.providerCode).toBeUndefined();
      expect(err.message).toContain('Unable to authenticate you.');
    });

    it('reboot_node.json → rebootNode() returns the action to wait for', async () => {
      handle = () => ({ status: 201, body: text('digitalocean', 'reboot_node.json') });
      await expect(make().rebootNode!('3164444')).resolves.toMatchObject({ id: '918910', action: 'reboot' });
    });
  });

  describe('linode', () => {
    const make = () => linode({ id: 'lin', token: 't0ken-value', baseUrl: server.url, http });
    it('list_nodes.json → nodes; ex_get_node.json → getNode()', async () => {
      handle = (req) => ({
        body: text('linode', req.url.includes('?') ? 'list_nodes.json' : 'ex_get_node.json'),
      });
      const nodes = await collect(make().listNodes());
      expect(nodes.map((n) => [n.id, n.name, n.state])).toEqual([
        ['22344420', 'test_2', 'running'],
        ['22344421', 'test_1', 'running'],
      ]);
      expect(nodes[0]).toMatchObject({
        publicIps: ['138.89.34.81', '2a01:7e00::f03c:92ff:fe48:dc47'],
        privateIps: ['192.168.1.230'],
        tags: { '123': '', abcdefg: '', testing: '' },
        size: 'g6-nanode-1',
        image: 'linode/centos7',
        region: 'eu-west',
      });
      expect(nodes[0]!.createdAt).toEqual(new Date('2020-10-08T18:51:29Z'));
      expect((await make().getNode('22344420'))?.name).toBe('test_2');
    });
  });

  describe('gce', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const make = () =>
      gce({
        id: 'g',
        project: 'project_name',
        serviceAccount: { client_email: 'sa@project_name.iam.gserviceaccount.com', private_key: pem },
        baseUrl: `${server.url}/compute/v1`,
        tokenUrl: `${server.url}/token`,
        http,
      });
    const withToken = (f: (req: RecordedRequest) => ReplayResponse) => (req: RecordedRequest) =>
      req.url === '/token' ? { body: { access_token: 'ya29.x', expires_in: 3600 } } : f(req);

    it('aggregated_instances.json → nodes from every zone, warnings skipped', async () => {
      handle = withToken(() => ({ body: text('gce', 'aggregated_instances.json') }));
      const nodes = await collect(make().listNodes());
      expect(nodes.map((n) => n.id)).toEqual([
        'europe-west1-a/libcloud-demo-europe-multiple-nodes-000',
        'europe-west1-a/libcloud-demo-europe-persist-node',
        'europe-west1-a/libcloud-demo-europe-np-node',
        'us-central1-a/node-name',
        'us-central2-a/libcloud-demo-persist-node',
        'us-central2-a/libcloud-demo-np-node',
        'us-central2-a/libcloud-demo-multiple-nodes-000',
        'us-central2-a/libcloud-demo-multiple-nodes-001',
      ]);
      expect(nodes.at(-1)).toMatchObject({
        state: 'suspended',
        rawState: 'SUSPENDED',
        region: 'us-central2',
      });
    });

    it('zones_us-central1-a_instances_node-name.json → getNode(); setTags_post operation → setTags() waits for it', async () => {
      handle = withToken((req) =>
        req.method === 'POST'
          ? { body: text('gce', 'zones_us-central1-a_instances_node-name_setTags_post.json') }
          : req.url.includes('/operations/')
            ? {
                body: text(
                  'gce',
                  'operations_operation_zones_us-central1-a_instances_node-name_setTags_post.json',
                ),
              }
            : { body: text('gce', 'zones_us-central1-a_instances_node-name.json') },
      );
      const node = await make().getNode('us-central1-a/node-name');
      expect(node).toMatchObject({
        name: 'node-name',
        state: 'running',
        zone: 'us-central1-a',
        region: 'us-central1',
        publicIps: ['23.236.58.15'],
        privateIps: ['10.240.72.75'],
        size: 'n1-standard-1',
        tags: {},
      });
      expect(node!.createdAt).toEqual(new Date('2013-12-13T18:45:23.351Z'));
      const op = await make().setTags!('us-central1-a/node-name', { env: 'test' });
      expect(op).toMatchObject({
        id: 'operation-zones_us-central1-a_instances_node-name_setTags_post',
        action: 'setTags',
      });
      await expect(op!.done()).resolves.toBeUndefined();
    });

    it('global_images_family_notfound.json (404) → getNode() undefined', async () => {
      handle = withToken(() => ({ status: 404, body: text('gce', 'global_images_family_notfound.json') }));
      expect(await make().getNode('us-central1-a/gone')).toBeUndefined();
    });
  });

  describe('azure', () => {
    const tokenBody = () => text('azure_arm', '_77777777_7777_7777_7777_777777777777_oauth2_token.json');
    const make = (powerState?: 'list' | 'perVm') =>
      azure({
        id: 'az',
        tenantId: '77777777-7777-7777-7777-777777777777',
        clientId: 'c',
        clientSecret: 'client-secret-value',
        subscriptionId: '99999999-9999-9999-9999-999999999999',
        baseUrl: server.url,
        authorityHost: server.url,
        powerState,
        addresses: false,
        // The recorded token expires at 1111111111 (epoch s); run the clock an hour before that.
        clock: { now: () => 1_111_111_111_000 - 3_600_000 },
        http,
      });

    it('virtualMachines list (with recorded nextLink) and per-VM InstanceView', async () => {
      let listCalls = 0;
      handle = (req) => {
        if (req.url.includes('/oauth2/token')) return { body: tokenBody() };
        if (req.url.includes('/InstanceView') || req.url.includes('/instanceView'))
          return {
            body: text(
              'azure_arm',
              '_subscriptions_99999999_resourceGroups_000000_providers_Microsoft_Compute_virtualMachines_test_node_1_InstanceView.json',
            ),
          };
        if (listCalls++ === 0)
          return {
            body: local(
              text('azure_arm', '_subscriptions_99999999_providers_Microsoft_Compute_virtualMachines.json'),
              'https://management.azure.com:443',
            ),
          };
        return { body: { value: [] } };
      };
      const listed = await collect(make('list').listNodes());
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({
        id: '000000/test-node-1',
        name: 'test-node-1',
        region: 'eastus',
        size: 'Standard_A1',
        image: 'OpenLogic:CentOS:7.3:latest',
        state: 'unknown',
        rawState: 'ProvisioningState/running',
      });
      expect(JSON.stringify(listed[0])).not.toContain('adminUsername');
      listCalls = 0;
      const viewed = await collect(make('perVm').listNodes());
      // "ProvisioningState/updating" + "PowerState/running": the power state wins.
      expect(viewed[0]).toMatchObject({ state: 'running', rawState: 'PowerState/running' });
      const tokenCalls = server.requests.filter((r) => r.url.includes('/oauth2/token'));
      expect(tokenCalls.length).toBeGreaterThanOrEqual(2);
      expect(tokenCalls[0]!.url).toBe('/77777777-7777-7777-7777-777777777777/oauth2/token');
    });

    it('networkInterfaces list + publicIPAddresses → addresses by VM', () => {
      const nics = text(
        'azure_arm',
        '_subscriptions_99999999_providers_Microsoft_Network_networkInterfaces.json',
      );
      const pip = text(
        'azure_arm',
        '_subscriptions_99999999_resourceGroups_REVIZOR_providers_Microsoft_Network_publicIPAddresses_test_public_ip.json',
      );
      const book = azureAddressBook((JSON.parse(nics) as { value: unknown[] }).value, [JSON.parse(pip)]);
      // The recorded public IP carries no ipAddress (not yet allocated), so only the private one shows.
      expect(
        book.get(
          '/subscriptions/subid/resourcegroups/revizor/providers/microsoft.compute/virtualmachines/test-vm-1',
        ),
      ).toEqual({
        publicIps: [],
        privateIps: ['172.20.2.4'],
      });
    });

    it('test_node_1.json → getNode() with tags', async () => {
      handle = (req) =>
        req.url.includes('/oauth2/token')
          ? { body: tokenBody() }
          : {
              body: text(
                'azure_arm',
                '_subscriptions_99999999_resourceGroups_000000_providers_Microsoft_Compute_virtualMachines_test_node_1.json',
              ),
            };
      const node = await make().getNode('000000/test_vm');
      expect(node).toMatchObject({ name: 'test_vm', tags: { tag_key1: 'tag_val1' } });
    });
  });
});
