/**
 * A provider written outside fleetwatch: a plain object with its own `kind` type-checks as a
 * {@link Provider} without a cast (this file is type-checked with the project) and works in an
 * Inventory like the built-in ones.
 */
import { describe, expect, it } from 'vitest';
import { Inventory } from '../../src/inventory/inventory.js';
import {
  type KnownProviderKind,
  type Node,
  PROVIDER_KINDS,
  type Provider,
  type ProviderKind,
} from '../../src/providers/types.js';

const kind: ProviderKind = 'hetzner';

function node(id: string, tags: Record<string, string> = {}): Node {
  return {
    uid: `lab:${id}`,
    id,
    name: id,
    provider: 'lab',
    kind,
    state: 'running',
    rawState: 'up',
    publicIps: [],
    privateIps: ['10.0.0.2'],
    tags,
    extra: {},
  };
}

const lab: Provider = {
  id: 'lab',
  kind,
  async *listNodes() {
    yield node('pi-1', { role: 'dns' });
    yield node('pi-2');
  },
  async getNode(id) {
    return id === 'pi-1' ? node('pi-1', { role: 'dns' }) : undefined;
  },
};

describe('a custom provider', () => {
  it('is a plain object of a kind fleetwatch does not know, and an Inventory lists it', async () => {
    const inv = new Inventory({ providers: [lab] });
    const report = await inv.sync();
    expect(report.ok).toBe(true);
    expect(
      inv
        .nodes()
        .map((n) => [n.uid, n.kind])
        .sort(),
    ).toEqual([
      ['lab:pi-1', 'hetzner'],
      ['lab:pi-2', 'hetzner'],
    ]);
    expect(await lab.getNode('pi-1')).toMatchObject({ kind: 'hetzner', tags: { role: 'dns' } });
  });

  it('PROVIDER_KINDS lists the built-in kinds only', () => {
    const known: readonly KnownProviderKind[] = PROVIDER_KINDS;
    expect([...known].sort()).toEqual([
      'azure',
      'digitalocean',
      'ec2',
      'gce',
      'linode',
      'openstack',
      'static',
    ]);
  });
});
