/**
 * examples/multi-cloud-inventory.ts against local servers: DigitalOcean and Linode replay servers
 * (test/providers/server.ts) whose second listing differs from the first, and EC2 on the moto
 * emulator when it answers. Credentials come from the environment, as in a real run.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../examples/multi-cloud-inventory.js';
import { ec2 } from '../../src/providers/ec2.js';
import type { Node } from '../../src/providers/types.js';
import { describeWithService, MOTO_URL, probeMoto } from '../helpers/services.js';
import { collect, type ReplayServer, startReplayServer } from '../providers/server.js';

const DO_TOKEN = 'dop_v1_example_token_0123456789';
const LINODE_TOKEN = 'linode-example-token-0123456789';
const quiet = () => {};

function droplet(id: number, name: string, tags: string[], status = 'active') {
  return {
    id,
    name,
    status,
    created_at: '2024-05-01T10:00:00Z',
    size_slug: 's-1vcpu-1gb',
    image: { id: 1, slug: 'ubuntu-24-04-x64' },
    region: { slug: 'fra1', name: 'Frankfurt 1' },
    networks: { v4: [{ ip_address: `203.0.113.${id}`, type: 'public' }], v6: [] },
    tags,
  };
}

function instance(id: number, label: string, tags: string[]) {
  return {
    id,
    label,
    status: 'running',
    created: '2024-05-01T10:00:00',
    type: 'g6-nanode-1',
    ipv4: [`198.51.100.${id}`],
    image: 'linode/debian12',
    region: 'eu-central',
    tags,
  };
}

/** Count listings (first pages) per server; the second and later listings see the fleet changed. */
let doListings = 0;
let linodeListings = 0;
let doServer: ReplayServer;
let linodeServer: ReplayServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  doServer = await startReplayServer((req) => {
    if (!req.url.startsWith('/v2/droplets')) return { status: 404, body: { id: 'not_found' } };
    doListings++;
    const web = droplet(1, 'web-1', ['role:web', 'env:prod'], doListings === 1 ? 'active' : 'off');
    return { body: { droplets: [web, droplet(2, 'db-1', ['role:db'])], links: {}, meta: { total: 2 } } };
  });
  linodeServer = await startReplayServer((req) => {
    if (!req.url.startsWith('/v4/linode/instances')) return { status: 404, body: { errors: [] } };
    linodeListings++;
    const data = [instance(11, 'app-1', ['role:web'])];
    if (linodeListings > 1) data.push(instance(12, 'app-2', ['role:web']));
    return { body: { data, page: 1, pages: 1, results: data.length } };
  });
});

afterAll(async () => {
  await doServer.close();
  await linodeServer.close();
});

afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  doListings = 0;
  linodeListings = 0;
  doServer.requests.length = 0;
  linodeServer.requests.length = 0;
});

const overrides = () => ({
  digitalocean: { baseUrl: `${doServer.url}/v2/` },
  linode: { baseUrl: `${linodeServer.url}/v4/` },
});

describe('examples/multi-cloud-inventory.ts', () => {
  it('uses only the clouds with credentials in the environment, queries by tag, prints a table, sees changes', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    process.env.DIGITALOCEAN_TOKEN = DO_TOKEN;
    process.env.LINODE_TOKEN = LINODE_TOKEN;
    const lines: string[] = [];
    const result = await main({
      ...overrides(),
      syncIntervalMs: 50,
      watchMs: 20_000,
      maxChanges: 2,
      log: (l) => lines.push(l),
    });

    expect(result.providers).toEqual(['do', 'linode']);
    expect(result.synced).toEqual([
      { provider: 'do', nodes: 2 },
      { provider: 'linode', nodes: 1 },
    ]);
    // the tokens were read from the environment by the factories
    expect(doServer.requests[0]?.headers.authorization).toBe(`Bearer ${DO_TOKEN}`);
    expect(linodeServer.requests[0]?.headers.authorization).toBe(`Bearer ${LINODE_TOKEN}`);
    // tag query: the two web nodes, not the database
    expect([...result.matched].sort()).toEqual(['do:1', 'linode:11']);
    const rows = result.table.split('\n');
    expect(rows[0]).toMatch(/^provider\s+name\s+state\s+region\s+ip\s+tags$/);
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r.includes('web-1'))).toMatch(
      /^do\s+web-1\s+running\s+fra1\s+203\.0\.113\.1\s+role=web env=prod$/,
    );
    expect(rows.find((r) => r.includes('app-1'))).toMatch(
      /^linode\s+app-1\s+running\s+eu-central\s+198\.51\.100\.11\s+role=web$/,
    );
    expect(result.table).not.toContain('db-1');
    // the watch saw the droplet power off and the new Linode, and nothing about the database
    expect(result.changes).toHaveLength(2);
    expect(result.changes).toContainEqual({ type: 'added', uid: 'linode:12' });
    const changed = result.changes.find((c) => c.type === 'changed');
    expect(changed?.uid).toBe('do:1');
    expect(changed?.fields).toContain('state');
    expect(lines.some((l) => l.startsWith('changed do:1 web-1 stopped'))).toBe(true);
    // the periodic sync really ran again
    expect(doListings).toBeGreaterThanOrEqual(2);
  });

  it('fails with E_CONFIG naming the variables when no cloud is configured', async () => {
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'DIGITALOCEAN_TOKEN', 'LINODE_TOKEN'])
      delete process.env[k];
    await expect(main({ log: quiet })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('DIGITALOCEAN_TOKEN'),
    });
  });
});

describeWithService('examples/multi-cloud-inventory.ts with EC2 on moto', await probeMoto(), () => {
  const REGION = 'ca-central-1';
  const run = `ex${Math.random().toString(36).slice(2, 10)}`;
  const credentials = { accessKeyId: 'AKIDEXAMPLES', secretAccessKey: 'moto-does-not-check' };
  const aws = ec2({ id: 'aws', region: REGION, credentials, endpoint: MOTO_URL });
  const created: Node[] = [];

  beforeAll(async () => {
    for (const [name, role] of [
      ['api-1', 'web'],
      ['worker-1', 'batch'],
    ] as const) {
      created.push(
        await aws.createNode({ name, size: 't3.micro', image: 'ami-12345678', tags: { role, run } }),
      );
    }
    await collect(aws.listNodes()); // moto moves them from pending to running on the first describe
  });
  afterAll(async () => {
    for (const n of created) await aws.destroyNode(n.id).catch(() => undefined);
  });

  it('adds EC2 (credentials, region and endpoint from AWS_* variables) beside the other clouds', async () => {
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    process.env.AWS_REGION = REGION;
    process.env.AWS_ENDPOINT_URL = MOTO_URL;
    process.env.DIGITALOCEAN_TOKEN = DO_TOKEN;
    process.env.LINODE_TOKEN = LINODE_TOKEN;
    const result = await main({
      ...overrides(),
      // this run's instances only: moto is shared with other test files
      ec2: { filters: { 'tag:run': run } },
      syncIntervalMs: 50,
      watchMs: 20_000,
      maxChanges: 2,
      log: quiet,
    });
    expect(result.providers).toEqual(['aws', 'do', 'linode']);
    expect(result.synced.find((s) => s.provider === 'aws')).toEqual({ provider: 'aws', nodes: 2 });
    const api = created[0] as Node;
    expect([...result.matched].sort()).toEqual([`aws:${api.id}`, 'do:1', 'linode:11'].sort());
    expect(result.table).toMatch(new RegExp(`^aws\\s+api-1\\s+running\\s+${REGION}\\s`, 'm'));
    expect(result.table).not.toContain('worker-1');
    expect(result.changes).toContainEqual({ type: 'added', uid: 'linode:12' });
  });
});
