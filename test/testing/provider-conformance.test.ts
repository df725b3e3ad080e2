/**
 * The provider conformance suite (`@fleetwatch/sdk/testing`) against the built-in static provider and
 * against a small custom provider written the way docs/writing-a-provider.md teaches.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetwatchError } from '../../src/errors.js';
import type { Node, NodeState, Provider } from '../../src/index.js';
import { staticProvider } from '../../src/index.js';
import { providerConformance } from '../../src/testing/index.js';

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
