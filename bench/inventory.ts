/**
 * Inventory listing benchmark: list N nodes (10k; 3k with BENCH_QUICK=1) spread over the six cloud
 * adapters, each served by a local 127.0.0.1 server with realistic page sizes. Reports nodes/s per
 * adapter and the requests each made against the expected ceil(n / pageSize) (no per-node calls).
 * Baseline, measured in the same run: a bare `fetch` + `JSON.parse` (or text for EC2's XML) of the
 * very same pages, with no adapter — the transport-and-parse floor.
 * "Other" requests: EC2's one DescribeAddresses per region; Azure's NIC and public-IP listings
 * (paged like the VMs, for addresses without a call per VM).
 *
 * Run: `npx tsx bench/inventory.ts`
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { azure } from '../src/providers/azure.js';
import { digitalocean } from '../src/providers/digitalocean.js';
import { ec2 } from '../src/providers/ec2.js';
import { gce } from '../src/providers/gce.js';
import { linode } from '../src/providers/linode.js';
import { openstack } from '../src/providers/openstack.js';
import type { Provider } from '../src/providers/types.js';
import { type BenchRow, writeResults } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const TOTAL = QUICK ? 3000 : 10_000;
const ROUNDS = QUICK ? 3 : 5;

type Kind = 'ec2' | 'openstack' | 'digitalocean' | 'linode' | 'gce' | 'azure';
/** Page sizes: each API's maximum the adapter asks for; Azure decides its own (50 per libcloud#1824). */
const PAGE_SIZE: Record<Kind, number> = {
  ec2: 1000,
  openstack: 1000,
  digitalocean: 200,
  linode: 500,
  gce: 500,
  azure: 50,
};
const KINDS = Object.keys(PAGE_SIZE) as Kind[];

interface Fake {
  kind: Kind;
  nodes: number;
  /** Pre-rendered page bodies, page 1 first. */
  pages: string[];
  /** The URLs a bare client fetches for the baseline, in order. */
  baselineUrls: string[];
  counts: { list: number; auth: number; other: number };
  /** Azure only: pages of the NIC and public-IP listings, by path. */
  network: Map<string, string[]>;
  server: Server;
  url: string;
}

// ---------------------------------------------------------------------------------------------
// Page bodies, shaped after each API's list response.

const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const pub = (i: number) => `198.51.${(i >> 8) & 255}.${i & 255}`;

function renderPage(kind: Kind, url: string, items: number[], page: number, last: boolean): string {
  switch (kind) {
    case 'digitalocean':
      return JSON.stringify({
        droplets: items.map((i) => ({
          id: i,
          name: `do-${i}`,
          status: i % 7 === 0 ? 'off' : 'active',
          created_at: '2024-01-01T00:00:00Z',
          memory: 1024,
          vcpus: 1,
          disk: 25,
          locked: false,
          features: ['ipv6'],
          size_slug: 's-1vcpu-1gb',
          image: { id: 1, slug: 'ubuntu-24-04-x64' },
          region: { slug: 'fra1' },
          networks: {
            v4: [
              { ip_address: ip(i), type: 'private' },
              { ip_address: pub(i), type: 'public' },
            ],
            v6: [],
          },
          tags: ['role:web', `shard:${i % 16}`, 'prod'],
        })),
        links: last
          ? {}
          : { pages: { next: `${url}/v2/droplets?page=${page + 1}&per_page=${PAGE_SIZE.digitalocean}` } },
        meta: { total: 0 },
      });
    case 'linode':
      return JSON.stringify({
        data: items.map((i) => ({
          id: i,
          label: `lin-${i}`,
          status: 'running',
          created: '2024-01-01T00:00:00',
          type: 'g6-standard-1',
          image: 'linode/debian12',
          region: 'eu-central',
          ipv4: [pub(i), `192.168.${(i >> 8) & 255}.${i & 255}`],
          ipv6: '2a01:7e01::1/128',
          tags: ['role:db'],
          specs: { disk: 51200, memory: 2048, vcpus: 1 },
          hypervisor: 'kvm',
        })),
        page,
        pages: 0, // filled in below
        results: 0,
      });
    case 'gce': {
      const zones: Record<string, { instances: unknown[] }> = {};
      for (const i of items) {
        const zone = ['europe-west1-b', 'us-central1-a', 'asia-east1-c'][i % 3] as string;
        zones[`zones/${zone}`] ??= { instances: [] };
        zones[`zones/${zone}`]!.instances.push({
          id: String(9_000_000 + i),
          name: `gce-${i}`,
          status: 'RUNNING',
          zone: `https://compute.googleapis.com/compute/v1/projects/p/zones/${zone}`,
          machineType: `https://compute.googleapis.com/compute/v1/projects/p/zones/${zone}/machineTypes/e2-small`,
          creationTimestamp: '2024-01-01T00:00:00.000-08:00',
          networkInterfaces: [{ networkIP: ip(i), accessConfigs: [{ natIP: pub(i) }] }],
          labels: { role: 'api', shard: String(i % 16) },
          labelFingerprint: 'abc=',
        });
      }
      return JSON.stringify({ items: zones, ...(last ? {} : { nextPageToken: `t${page + 1}` }) });
    }
    case 'azure':
      return JSON.stringify({
        value: items.map((i) => ({
          id: `/subscriptions/s/resourceGroups/rg${i % 4}/providers/Microsoft.Compute/virtualMachines/vm-${i}`,
          name: `vm-${i}`,
          location: 'westeurope',
          tags: { role: 'worker' },
          properties: {
            vmId: `0000-${i}`,
            provisioningState: 'Succeeded',
            hardwareProfile: { vmSize: 'Standard_B2s' },
            storageProfile: {
              imageReference: { publisher: 'Canonical', offer: 'ubuntu', sku: '24_04', version: 'latest' },
              osDisk: { osType: 'Linux' },
            },
            instanceView: {
              statuses: [{ code: 'ProvisioningState/succeeded' }, { code: 'PowerState/running' }],
            },
          },
        })),
        ...(last
          ? {}
          : {
              nextLink: `${url}/subscriptions/s/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01&statusOnly=true&$skiptoken=${page + 1}`,
            }),
      });
    case 'openstack':
      return JSON.stringify({
        servers: items.map((i) => ({
          id: `srv-${i}`,
          name: `os-${i}`,
          status: 'ACTIVE',
          created: '2024-01-01T00:00:00Z',
          flavor: { id: 'm1.small' },
          image: { id: 'img-1' },
          'OS-EXT-AZ:availability_zone': 'nova',
          addresses: { private: [{ version: 4, addr: ip(i), 'OS-EXT-IPS:type': 'fixed' }] },
          metadata: { role: 'web' },
        })),
        ...(last
          ? {}
          : {
              servers_links: [
                {
                  rel: 'next',
                  href: `${url}/compute/v2.1/proj/servers/detail?limit=${PAGE_SIZE.openstack}&marker=srv-${items.at(-1)}`,
                },
              ],
            }),
      });
    case 'ec2':
      return (
        '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet>' +
        items
          .map(
            (i) =>
              `<item><reservationId>r-${i}</reservationId><instancesSet><item><instanceId>i-${i.toString(16).padStart(8, '0')}</instanceId>` +
              `<imageId>ami-1</imageId><instanceState><code>16</code><name>running</name></instanceState><instanceType>t3.micro</instanceType>` +
              `<placement><availabilityZone>us-east-1a</availabilityZone></placement><privateIpAddress>${ip(i)}</privateIpAddress>` +
              `<ipAddress>${pub(i)}</ipAddress><launchTime>2024-01-01T00:00:00.000Z</launchTime>` +
              `<tagSet><item><key>Name</key><value>ec2-${i}</value></item><item><key>role</key><value>web</value></item></tagSet></item></instancesSet></item>`,
          )
          .join('') +
        `</reservationSet>${last ? '' : `<nextToken>t${page + 1}</nextToken>`}</DescribeInstancesResponse>`
      );
  }
}

function pageIndex(
  kind: Kind,
  req: IncomingMessage,
  body: string,
  offset: number,
): number | 'auth' | 'other' {
  const u = new URL(req.url ?? '/', 'http://x');
  const q = u.searchParams;
  switch (kind) {
    case 'digitalocean':
    case 'linode':
      return Number(q.get('page') ?? 1);
    case 'gce':
      if (u.pathname === '/token') return 'auth';
      return Number((q.get('pageToken') ?? 't1').slice(1));
    case 'azure':
      if (u.pathname.endsWith('/oauth2/token')) return 'auth';
      if (u.pathname.includes('/Microsoft.Network/')) return 'other';
      return Number(q.get('$skiptoken') ?? 1);
    case 'openstack': {
      if (u.pathname.endsWith('/auth/tokens')) return 'auth';
      const marker = q.get('marker');
      // Markers are `srv-<global index>`; pages start at this fake's first index.
      return marker === null ? 1 : Math.floor((Number(marker.slice(4)) - offset) / PAGE_SIZE.openstack) + 2;
    }
    case 'ec2': {
      const form = new URLSearchParams(body);
      if (form.get('Action') === 'DescribeAddresses') return 'other';
      const t = form.get('NextToken');
      return t === null ? 1 : Number(t.slice(1));
    }
  }
}

function authBody(
  kind: Kind,
  url: string,
): { status: number; headers: Record<string, string>; body: string } {
  if (kind === 'openstack')
    return {
      status: 201,
      headers: { 'x-subject-token': 'bench-token' },
      body: JSON.stringify({
        token: {
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          project: { id: 'proj', name: 'bench' },
          catalog: [
            {
              type: 'compute',
              endpoints: [{ interface: 'public', region: 'RegionOne', url: `${url}/compute/v2.1/proj` }],
            },
          ],
        },
      }),
    };
  return {
    status: 200,
    headers: {},
    body: JSON.stringify({ access_token: 'bench-token', expires_in: 3600 }),
  };
}

async function startFake(kind: Kind, nodes: number, offset: number): Promise<Fake> {
  const fake = {
    kind,
    nodes,
    pages: [] as string[],
    baselineUrls: [] as string[],
    counts: { list: 0, auth: 0, other: 0 },
    network: new Map(),
  } as Fake;
  fake.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/baseline/')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(fake.pages[Number(req.url.slice(10)) - 1] ?? '');
        return;
      }
      const idx = pageIndex(kind, req, Buffer.concat(chunks).toString(), offset);
      let out: { status: number; headers: Record<string, string>; body: string };
      if (idx === 'auth') {
        fake.counts.auth++;
        out = authBody(kind, fake.url);
      } else if (idx === 'other') {
        fake.counts.other++;
        const u = new URL(req.url ?? '/', 'http://x');
        const network = fake.network.get(u.pathname);
        out = {
          status: 200,
          headers: {},
          body: network
            ? (network[Number(u.searchParams.get('$skiptoken') ?? 1) - 1] ?? '{}')
            : '<DescribeAddressesResponse><addressesSet/></DescribeAddressesResponse>',
        };
      } else {
        fake.counts.list++;
        out = { status: 200, headers: {}, body: fake.pages[idx - 1] ?? '{}' };
      }
      res.writeHead(out.status, {
        'content-type': kind === 'ec2' ? 'text/xml' : 'application/json',
        ...out.headers,
      });
      res.end(out.body);
    });
  });
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  const size = PAGE_SIZE[kind];
  const count = Math.ceil(nodes / size);
  for (let p = 1; p <= count; p++) {
    const items = Array.from(
      { length: Math.min(size, nodes - (p - 1) * size) },
      (_, j) => offset + (p - 1) * size + j,
    );
    let body = renderPage(kind, fake.url, items, p, p === count);
    if (kind === 'linode') body = body.replace('"pages":0', `"pages":${count}`);
    fake.pages.push(body);
    fake.baselineUrls.push(`${fake.url}/baseline/${p}`);
  }
  if (kind === 'azure') {
    // One NIC (with a public IP) per VM, paged like the VM list.
    const net = '/subscriptions/s/providers/Microsoft.Network';
    for (const [name, render] of [
      [
        'networkInterfaces',
        (i: number) => ({
          id: `/nic-${i}`,
          properties: {
            virtualMachine: {
              id: `/subscriptions/s/resourceGroups/rg${i % 4}/providers/Microsoft.Compute/virtualMachines/vm-${i}`,
            },
            ipConfigurations: [
              { properties: { privateIPAddress: ip(i), publicIPAddress: { id: `/pip-${i}` } } },
            ],
          },
        }),
      ],
      ['publicIPAddresses', (i: number) => ({ id: `/pip-${i}`, properties: { ipAddress: pub(i) } })],
    ] as const) {
      const list: string[] = [];
      for (let p = 1; p <= count; p++) {
        const items = Array.from({ length: Math.min(size, nodes - (p - 1) * size) }, (_, j) =>
          render(offset + (p - 1) * size + j),
        );
        list.push(
          JSON.stringify({
            value: items,
            ...(p === count ? {} : { nextLink: `${fake.url}${net}/${name}?$skiptoken=${p + 1}` }),
          }),
        );
      }
      fake.network.set(`${net}/${name}`, list);
    }
  }
  return fake;
}

function makeProvider(f: Fake, addresses = true): Provider {
  const http = { retryLimit: 0 };
  switch (f.kind) {
    case 'digitalocean':
      return digitalocean({ id: 'do', token: 'bench', baseUrl: `${f.url}/v2`, http });
    case 'linode':
      return linode({ id: 'lin', token: 'bench', baseUrl: `${f.url}/v4`, http });
    case 'gce':
      return gce({
        id: 'gce',
        project: 'p',
        serviceAccount: { client_email: 'bench@p.iam.gserviceaccount.com', private_key: BENCH_KEY },
        baseUrl: `${f.url}/compute/v1`,
        tokenUrl: `${f.url}/token`,
        http,
      });
    case 'azure':
      return azure({
        id: 'az',
        tenantId: 't',
        clientId: 'c',
        clientSecret: 'bench',
        subscriptionId: 's',
        baseUrl: f.url,
        authorityHost: f.url,
        addresses,
        http,
      });
    case 'openstack':
      return openstack({
        id: 'os',
        authUrl: `${f.url}/identity/v3`,
        username: 'u',
        password: 'bench',
        projectName: 'bench',
        region: 'RegionOne',
        env: {},
        http,
      });
    case 'ec2':
      return ec2({
        id: 'aws',
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
        endpoint: f.url,
        env: {},
        http,
      });
  }
}

const { generateKeyPairSync } = await import('node:crypto');
const BENCH_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

async function listAll(p: Provider): Promise<number> {
  let n = 0;
  for await (const _ of p.listNodes()) n++;
  return n;
}

/** The baseline: fetch the same page bodies with bare `fetch`, parse them and count items — no adapter. */
async function baseline(f: Fake): Promise<number> {
  let n = 0;
  for (const url of f.baselineUrls) {
    const body = await (await fetch(url)).text();
    if (f.kind === 'ec2') {
      n += body.split('<instanceId>').length - 1;
      continue;
    }
    const j = JSON.parse(body) as Record<string, unknown>;
    const list = (j.droplets ?? j.data ?? j.value ?? j.servers) as unknown[] | undefined;
    if (list) n += list.length;
    else
      for (const z of Object.values(j.items as Record<string, { instances: unknown[] }>))
        n += z.instances.length;
  }
  return n;
}

async function best(fn: () => Promise<number>, expected: number): Promise<number> {
  let bestMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    const n = await fn();
    const ms = performance.now() - t;
    if (n !== expected) throw new Error(`listed ${n} nodes, expected ${expected}`);
    bestMs = Math.min(bestMs, ms);
  }
  return bestMs;
}

const per = Math.floor(TOTAL / KINDS.length);
const fakes: Fake[] = [];
let offset = 0;
for (const [i, kind] of KINDS.entries()) {
  const n = i === KINDS.length - 1 ? TOTAL - per * (KINDS.length - 1) : per;
  fakes.push(await startFake(kind, n, offset));
  offset += n;
}

const rows: BenchRow[] = [];
try {
  let adapterMsSum = 0;
  let baselineMsSum = 0;
  for (const f of fakes) {
    // Baseline first (it also warms the server), then the adapter with a fresh provider per round.
    const baseMs = await best(() => baseline(f), f.nodes);
    // One provider, warmed by one listing (token fetched, JIT warm); then measured rounds.
    const provider = makeProvider(f);
    f.counts = { list: 0, auth: 0, other: 0 };
    await listAll(provider);
    const warm = { ...f.counts };
    f.counts = { list: 0, auth: 0, other: 0 };
    const ms = await best(() => listAll(provider), f.nodes);
    const expected = Math.ceil(f.nodes / PAGE_SIZE[f.kind]);
    const perRun = f.counts.list / ROUNDS;
    adapterMsSum += ms;
    baselineMsSum += baseMs;
    rows.push({
      case: `${f.kind}: listNodes`,
      value: (f.nodes / ms) * 1000,
      unit: 'nodes/s',
      note: `${f.nodes} nodes, page size ${PAGE_SIZE[f.kind]}, best of ${ROUNDS}`,
    });
    rows.push({
      case: `${f.kind}: baseline (bare fetch + parse)`,
      value: (f.nodes / baseMs) * 1000,
      unit: 'nodes/s',
      note: `adapter speed = ${(baseMs / ms).toFixed(2)}x baseline`,
    });
    rows.push({
      case: `${f.kind}: list requests per listing`,
      value: perRun,
      unit: 'requests',
      goal: `= ceil(${f.nodes}/${PAGE_SIZE[f.kind]}) = ${expected}`,
      met: perRun === expected,
      note: `first listing also made ${warm.auth} token and ${warm.other} other request(s); later ones ${f.counts.auth / ROUNDS} and ${f.counts.other / ROUNDS}`,
    });
  }
  // Azure without the address listings: the VM list alone.
  const az = fakes.find((f) => f.kind === 'azure') as Fake;
  const azPlain = makeProvider(az, false);
  await listAll(azPlain);
  const azMs = await best(() => listAll(azPlain), az.nodes);
  rows.push({
    case: 'azure (addresses: false): listNodes',
    value: (az.nodes / azMs) * 1000,
    unit: 'nodes/s',
    note: 'VM list only (power state included via statusOnly); compare with the azure baseline',
  });
  // All six at once, as an Inventory sync would run them (fresh providers: includes token fetches).
  for (const f of fakes) f.counts = { list: 0, auth: 0, other: 0 };
  const allMs = await best(async () => {
    const counts = await Promise.all(fakes.map((f) => listAll(makeProvider(f))));
    return counts.reduce((a, b) => a + b, 0);
  }, TOTAL);
  const totalList = fakes.reduce((a, f) => a + f.counts.list, 0) / ROUNDS;
  const expectedTotal = fakes.reduce((a, f) => a + Math.ceil(f.nodes / PAGE_SIZE[f.kind]), 0);
  rows.push({
    case: `all six adapters concurrently`,
    value: (TOTAL / allMs) * 1000,
    unit: 'nodes/s',
    note: `${TOTAL} nodes, ${allMs.toFixed(0)} ms`,
  });
  rows.push({
    case: 'all six: sequential sum, adapters vs baseline',
    value: baselineMsSum / adapterMsSum,
    unit: 'x baseline speed',
    note: `adapters ${adapterMsSum.toFixed(0)} ms vs bare fetch+parse ${baselineMsSum.toFixed(0)} ms`,
  });
  rows.push({
    case: 'all six: list requests',
    value: totalList,
    unit: 'requests',
    goal: `= ${expectedTotal} (one per page)`,
    met: totalList === expectedTotal,
  });
} finally {
  await Promise.all(fakes.map((f) => new Promise<void>((r) => f.server.close(() => r()))));
}

writeResults('inventory', rows, { total: TOTAL, quick: QUICK, pageSizes: PAGE_SIZE, rounds: ROUNDS });
