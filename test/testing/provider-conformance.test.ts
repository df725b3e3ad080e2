/**
 * The provider conformance suite (`@fleetwatch/sdk/testing`) against the built-in static provider and
 * against a small custom provider written the way docs/writing-a-provider.md teaches.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import type { Node, NodeState, Provider } from '../../src/index.js';
import { hetzner, staticProvider, vultr } from '../../src/index.js';
import { providerConformance } from '../../src/testing/index.js';
import { FakeHetzner } from '../providers/fakes/hetzner.js';
import { FakeVultr } from '../providers/fakes/vultr.js';
import { startReplayServer } from '../providers/server.js';

providerConformance('staticProvider (inline nodes)', () => ({
  provider: staticProvider({
    id: 'dc1',
    nodes: [
      { id: 'a', name: 'web-1', publicIps: ['192.0.2.10'], tags: { role: 'web' } },
      { id: 'b', name: 'db-1', privateIps: ['10.0.0.2', 'fe80::1'], state: 'stopped' },
    ],
  }),
}));

providerConformance('staticProvider (YAML file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetwatch-conf-'));
  const file = join(dir, 'servers.yaml');
  writeFileSync(file, 'nodes:\n  - id: pi-1\n    publicIps: [192.0.2.11]\n    tags: { role: dns }\n');
  return {
    provider: staticProvider({ id: 'lab', file }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

/** A custom provider as in docs/writing-a-provider.md: a kind of its own, no casts. */
function myCloud(options: { id: string; token: string }): Provider {
  const servers = [
    { id: 'srv-1', label: 'web-1', status: 'up', ip: '198.51.100.7' },
    { id: 'srv-2', label: 'batch-1', status: 'paused', ip: '198.51.100.8' },
  ];
  const STATES: Record<string, NodeState> = { up: 'running', paused: 'suspended' };
  const toNode = (s: (typeof servers)[number]): Node => ({
    uid: `${options.id}:${s.id}`,
    id: s.id,
    name: s.label,
    provider: options.id,
    kind: 'my-cloud',
    state: STATES[s.status] ?? 'unknown',
    rawState: s.status,
    publicIps: [s.ip],
    privateIps: [],
    tags: {},
    extra: {},
  });
  const checkSignal = (signal?: AbortSignal) => {
    if (signal?.aborted) throw new FleetwatchError('E_ABORTED', 'aborted', { cause: signal.reason });
  };
  return {
    id: options.id,
    kind: 'my-cloud',
    async *listNodes(opts = {}) {
      checkSignal(opts.signal);
      for (const s of servers) yield toNode(s);
    },
    async getNode(id, opts = {}) {
      checkSignal(opts.signal);
      const s = servers.find((x) => x.id === id);
      return s === undefined ? undefined : toNode(s);
    },
  };
}

providerConformance('custom provider (kind: my-cloud)', () => ({
  provider: myCloud({ id: 'mc', token: 'tok-SECRET-1234' }),
  secrets: ['tok-SECRET-1234'],
}));

const HCLOUD_TOKEN = 'hcloud-conformance-token-SECRET-0001';
providerConformance('hetzner (replayed API)', async () => {
  const fake = new FakeHetzner([
    { id: 42, name: 'web-1', status: 'running', labels: { role: 'web' }, ipv4: '203.0.113.10' },
    { id: 43, name: 'db-1', status: 'off', labels: {}, privateIp: '10.0.0.3' },
  ]);
  const server = await startReplayServer((req) => fake.handle(req));
  return {
    provider: hetzner({ id: 'hz', token: HCLOUD_TOKEN, baseUrl: `${server.url}/v1/`, perPage: 1 }),
    secrets: [HCLOUD_TOKEN],
    missingId: '999',
    cleanup: () => server.close(),
  };
});

const VULTR_API_KEY = 'VULTRCONFORMANCEKEYSECRET0001';
providerConformance('vultr (replayed API)', async () => {
  const fake = new FakeVultr([
    {
      id: 'a1',
      label: 'web-1',
      status: 'active',
      power_status: 'running',
      server_status: 'ok',
      tags: ['role:web'],
      main_ip: '192.0.2.7',
    },
    { id: 'a2', label: 'db-1', status: 'pending', power_status: 'running', server_status: 'none', tags: [] },
  ]);
  const server = await startReplayServer((req) => fake.handle(req));
  return {
    provider: vultr({ id: 'vu', token: VULTR_API_KEY, baseUrl: `${server.url}/v2/`, perPage: 1 }),
    secrets: [VULTR_API_KEY],
    missingId: 'nope',
    cleanup: () => server.close(),
  };
});

describe('providerConformance() - catches a provider that breaks the contract', () => {
  it('fails the shape, getNode, abort and secret tests of a bad provider', () => {
    const dir = join(import.meta.dirname, 'fixtures');
    const out = join(mkdtempSync(join(tmpdir(), 'fleetwatch-conf-')), 'report.json');
    const vitest = join(import.meta.dirname, '../../node_modules/vitest/vitest.mjs');
    try {
      execFileSync(
        process.execPath,
        [vitest, 'run', '--root', dir, '--reporter=json', `--outputFile=${out}`],
        {
          stdio: 'ignore',
          env: { ...process.env, CI: 'true' },
        },
      );
    } catch {
      // the child run fails, as it should; the report says which tests
    }
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }>;
    };
    const failed = report.testResults
      .flatMap((f) => f.assertionResults)
      .filter((t) => t.status === 'failed')
      .map((t) => t.title)
      .sort();
    expect(failed).toEqual(
      [
        'getNode() - resolves undefined for an id the backend does not hold',
        'getNode(id, { signal }) - an aborted signal rejects with E_ABORTED',
        'listNodes() - every node has the common shape',
        'listNodes({ signal }) - an aborted signal rejects with E_ABORTED',
        'secrets - never appear in the provider, its nodes or its errors',
      ].sort(),
    );
  }, 60_000);
});
