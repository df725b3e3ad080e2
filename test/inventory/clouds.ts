/**
 * One local HTTP server (127.0.0.1) that plays every cloud API (plus a JSON file for the static
 * provider) from a small mutable model, so an Inventory over the seven real adapters can be synced,
 * changed and broken between syncs. Responses follow the shapes the adapters' own tests use.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { azure } from '../../src/providers/azure.js';
import { digitalocean } from '../../src/providers/digitalocean.js';
import { ec2 } from '../../src/providers/ec2.js';
import { gce } from '../../src/providers/gce.js';
import { hetzner } from '../../src/providers/hetzner.js';
import { linode } from '../../src/providers/linode.js';
import { openstack } from '../../src/providers/openstack.js';
import { staticProvider } from '../../src/providers/static.js';
import type { KnownProviderKind, Provider } from '../../src/providers/types.js';
import { vultr } from '../../src/providers/vultr.js';
import { renderHetznerServer } from '../providers/fakes/hetzner.js';
import { renderVultrInstance } from '../providers/fakes/vultr.js';
import {
  type RecordedRequest,
  type ReplayResponse,
  type ReplayServer,
  startReplayServer,
} from '../providers/server.js';

/** One server in a fake cloud. */
export interface FakeServer {
  /** Lower-case name, also the provider id where the API allows. */
  name: string;
  running: boolean;
  tags: Record<string, string>;
  /** A number making ids and IPs unique. */
  n: number;
}

/** A fake cloud: its servers and whether its API is down. */
export interface FakeCloud {
  servers: FakeServer[];
  down: boolean;
}

const SUB = '00000000-0000-0000-0000-000000000001';
const GCE_ZONE = 'us-central1-a';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const json = (body: unknown, status = 200): ReplayResponse => ({ status, body });
const xml = (body: string): ReplayResponse => ({
  headers: { 'content-type': 'text/xml;charset=UTF-8' },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
});
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function renderDo(s: FakeServer) {
  return {
    id: 1000 + s.n,
    name: s.name,
    status: s.running ? 'active' : 'off',
    created_at: '2026-01-01T00:00:00Z',
    image: { slug: 'ubuntu-24-04-x64' },
    size_slug: 's-1vcpu-1gb',
    networks: { v4: [{ ip_address: `10.1.0.${s.n}`, type: 'private' }], v6: [] },
    region: { slug: 'sfo3' },
    tags: Object.entries(s.tags).map(([k, v]) => `${k}:${v}`),
  };
}

function renderLinode(s: FakeServer) {
  return {
    id: 2000 + s.n,
    label: s.name,
    status: s.running ? 'running' : 'offline',
    region: 'us-east',
    type: 'g6-nanode-1',
    image: 'linode/debian12',
    ipv4: [`10.2.0.${s.n}`],
    ipv6: '',
    created: '2026-01-01T00:00:00',
    tags: Object.entries(s.tags).map(([k, v]) => `${k}:${v}`),
  };
}

function renderGce(s: FakeServer) {
  return {
    id: String(3000 + s.n),
    name: s.name,
    status: s.running ? 'RUNNING' : 'TERMINATED',
    zone: `https://compute.googleapis.com/compute/v1/projects/p/zones/${GCE_ZONE}`,
    machineType: `https://compute.googleapis.com/compute/v1/projects/p/zones/${GCE_ZONE}/machineTypes/e2-small`,
    creationTimestamp: '2026-01-01T00:00:00.000-00:00',
    networkInterfaces: [{ networkIP: `10.3.0.${s.n}`, accessConfigs: [] }],
    labels: s.tags,
    labelFingerprint: 'fp',
  };
}

function renderAzure(s: FakeServer) {
  return {
    id: `/subscriptions/${SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/${s.name}`,
    name: s.name,
    location: 'eastus',
    tags: s.tags,
    properties: {
      vmId: `vm-${s.n}`,
      hardwareProfile: { vmSize: 'Standard_B2s' },
      provisioningState: 'Succeeded',
      instanceView: {
        statuses: [
          { code: 'ProvisioningState/succeeded' },
          { code: s.running ? 'PowerState/running' : 'PowerState/deallocated' },
        ],
      },
    },
  };
}

function renderNova(s: FakeServer) {
  return {
    id: `srv-${s.n}`,
    name: s.name,
    status: s.running ? 'ACTIVE' : 'SHUTOFF',
    created: '2026-01-01T00:00:00Z',
    flavor: { id: 'm1.small' },
    image: { id: 'img-1' },
    'OS-EXT-AZ:availability_zone': 'nova',
    addresses: { private: [{ version: 4, addr: `10.5.0.${s.n}`, 'OS-EXT-IPS:type': 'fixed' }] },
    metadata: s.tags,
  };
}

function renderEc2(s: FakeServer): string {
  const tags = { Name: s.name, ...s.tags };
  return (
    `<item><instanceId>i-${s.n}</instanceId><imageId>ami-1</imageId><instanceState><code>16</code><name>${
      s.running ? 'running' : 'stopped'
    }</name></instanceState><instanceType>t3.small</instanceType><privateIpAddress>10.6.0.${s.n}</privateIpAddress>` +
    `<placement><availabilityZone>eu-west-1a</availabilityZone></placement><tagSet>${Object.entries(tags)
      .map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`)
      .join('')}</tagSet></item>`
  );
}

/** The fake clouds (one per kind), the server playing them, and the real adapters pointed at it. */
export class FakeClouds {
  readonly clouds: Record<KnownProviderKind, FakeCloud>;
  #server!: ReplayServer;
  #dir!: string;

  constructor(initial: (kind: KnownProviderKind) => FakeServer[]) {
    const kinds: KnownProviderKind[] = [
      'ec2',
      'openstack',
      'digitalocean',
      'gce',
      'azure',
      'linode',
      'hetzner',
      'vultr',
      'static',
    ];
    this.clouds = Object.fromEntries(kinds.map((k) => [k, { servers: initial(k), down: false }])) as Record<
      KnownProviderKind,
      FakeCloud
    >;
  }

  async start(): Promise<void> {
    this.#server = await startReplayServer((req) => this.#handle(req));
    this.#dir = mkdtempSync(join(tmpdir(), 'fleetwatch-inv-'));
    this.writeStatic();
  }

  async close(): Promise<void> {
    await this.#server?.close();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }

  get #staticFile(): string {
    return join(this.#dir, 'servers.json');
  }

  /** Write the static cloud's file (a broken file while it is down). Call after changing it. */
  writeStatic(): void {
    const c = this.clouds.static;
    const body = c.down
      ? '{ "nodes": [ broken'
      : JSON.stringify(
          c.servers.map((s) => ({
            id: s.name,
            name: s.name,
            state: s.running ? 'running' : 'stopped',
            privateIps: [`10.7.0.${s.n}`],
            tags: s.tags,
          })),
        );
    writeFileSync(this.#staticFile, body);
  }

  #handle(req: RecordedRequest): ReplayResponse {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname;
    const down = (kind: KnownProviderKind) => this.clouds[kind].down;
    const live = (kind: KnownProviderKind) => this.clouds[kind].servers;
    if (path.startsWith('/do/')) {
      if (down('digitalocean')) return json({ id: 'server_error', message: 'down' }, 503);
      return json({ droplets: live('digitalocean').map(renderDo), links: {}, meta: { total: 0 } });
    }
    if (path.startsWith('/hetzner/')) {
      if (down('hetzner')) return json({ error: { code: 'unavailable', message: 'down' } }, 503);
      const servers = live('hetzner').map((s) =>
        renderHetznerServer({
          id: 4000 + s.n,
          name: s.name,
          status: s.running ? 'running' : 'off',
          labels: s.tags,
          privateIp: `10.8.0.${s.n}`,
        }),
      );
      return json({
        servers,
        meta: { pagination: { page: 1, per_page: 50, next_page: null, last_page: 1 } },
      });
    }
    if (path.startsWith('/vultr/')) {
      if (down('vultr')) return json({ error: 'down', status: 503 }, 503);
      const instances = live('vultr').map((s) =>
        renderVultrInstance({
          id: `v-${s.n}`,
          label: s.name,
          status: 'active',
          power_status: s.running ? 'running' : 'stopped',
          server_status: 'ok',
          tags: Object.entries(s.tags).map(([k, v]) => `${k}:${v}`),
          internal_ip: `10.9.0.${s.n}`,
        }),
      );
      return json({ instances, meta: { total: instances.length, links: { next: '', prev: '' } } });
    }
    if (path.startsWith('/linode/')) {
      if (down('linode')) return json({ errors: [{ reason: 'down' }] }, 503);
      const data = live('linode').map(renderLinode);
      return json({ data, page: 1, pages: 1, results: data.length });
    }
    if (path === '/gce/token')
      return json({ access_token: 'gce-token', expires_in: 3599, token_type: 'Bearer' });
    if (path.startsWith('/gce/')) {
      if (down('gce')) return json({ error: { code: 503, message: 'down' } }, 503);
      return json({ items: { [`zones/${GCE_ZONE}`]: { instances: live('gce').map(renderGce) } } });
    }
    if (path.includes('/oauth2/token'))
      return json({
        token_type: 'Bearer',
        expires_in: '3599',
        expires_on: String(Math.floor(Date.now() / 1000) + 3599),
        access_token: 'az-token',
      });
    if (path.startsWith('/subscriptions/')) {
      if (down('azure')) return json({ error: { code: 'ServerBusy', message: 'down' } }, 503);
      return json({ value: live('azure').map(renderAzure) });
    }
    if (path === '/identity/v3/auth/tokens')
      return {
        status: 201,
        headers: { 'x-subject-token': 'os-token' },
        body: {
          token: {
            methods: ['password'],
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
            issued_at: new Date().toISOString(),
            project: { id: 'proj', name: 'fleet', domain: { id: 'default', name: 'Default' } },
            user: { id: 'u1', name: 'ops', domain: { id: 'default', name: 'Default' } },
            catalog: [
              {
                type: 'compute',
                name: 'nova',
                endpoints: [
                  { interface: 'public', region: 'RegionOne', url: `${this.#server.url}/compute/v2.1/proj/` },
                ],
              },
            ],
          },
        },
      };
    if (path.startsWith('/compute/')) {
      if (down('openstack')) return json({ computeFault: { code: 503, message: 'down' } }, 503);
      return json({ servers: live('openstack').map(renderNova) });
    }
    if (path === '/ec2/') {
      const action = new URLSearchParams(req.body).get('Action');
      if (action === 'DescribeAddresses')
        return xml('<DescribeAddressesResponse><addressesSet/></DescribeAddressesResponse>');
      if (down('ec2'))
        return {
          status: 503,
          body: '<Response><Errors><Error><Code>Unavailable</Code><Message>down</Message></Error></Errors></Response>',
        };
      return xml(
        `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet>${live(
          'ec2',
        )
          .map(
            (s) =>
              `<item><reservationId>r-${s.n}</reservationId><instancesSet>${renderEc2(s)}</instancesSet></item>`,
          )
          .join('')}</reservationSet></DescribeInstancesResponse>`,
      );
    }
    return json({ message: `no route ${req.method} ${path}` }, 404);
  }

  /** Every real adapter, pointed at this server, with no retries (a 503 fails at once). */
  providers(): Provider[] {
    const url = this.#server.url;
    const http = { retryLimit: 0, baseDelayMs: 1 };
    return [
      ec2({
        id: 'aws',
        region: 'eu-west-1',
        credentials: {
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        },
        endpoint: `${url}/ec2/`,
        http,
      }),
      openstack({
        id: 'os',
        authUrl: `${url}/identity/v3/`,
        username: 'ops',
        password: 'os-password',
        projectName: 'fleet',
        region: 'RegionOne',
        env: {},
        http,
      }),
      digitalocean({ id: 'do', token: 'do-token-value', baseUrl: `${url}/do/v2/`, http }),
      gce({
        id: 'gcp',
        project: 'p',
        serviceAccount: { client_email: 'sa@p.iam.gserviceaccount.com', private_key: PEM },
        baseUrl: `${url}/gce/compute/v1/`,
        tokenUrl: `${url}/gce/token`,
        http,
      }),
      azure({
        id: 'az',
        tenantId: 'tenant-1',
        clientId: 'client-1',
        clientSecret: 'az-secret',
        subscriptionId: SUB,
        baseUrl: url,
        authorityHost: `${url}/login`,
        http,
      }),
      linode({ id: 'lin', token: 'linode-token-value', baseUrl: `${url}/linode/v4/`, http }),
      hetzner({ id: 'hz', token: 'hetzner-token-value', baseUrl: `${url}/hetzner/v1/`, http }),
      vultr({ id: 'vu', token: 'vultr-key-value', baseUrl: `${url}/vultr/v2/`, http }),
      staticProvider({ id: 'dc', file: this.#staticFile }),
    ];
  }
}
