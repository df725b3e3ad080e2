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

const kind: ProviderKind = 'scaleway';

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
      ['lab:pi-1', 'scaleway'],
      ['lab:pi-2', 'scaleway'],
    ]);
    expect(await lab.getNode('pi-1')).toMatchObject({ kind: 'scaleway', tags: { role: 'dns' } });
  });

  it('its nodes are found by kind:<its kind> in the query language, and only its nodes', async () => {
    const mine: Provider = {
      ...lab,
      id: 'mine',
      kind: 'my-cloud',
      async *listNodes() {
        yield { ...node('m-1'), uid: 'mine:m-1', provider: 'mine', kind: 'my-cloud' };
      },
    };
    const inv = new Inventory({ providers: [lab, mine] });
    expect((await inv.sync()).ok).toBe(true);
    expect(inv.query('kind:my-cloud').map((n) => n.uid)).toEqual(['mine:m-1']);
    expect(inv.query('kind:scaleway and tag:role=dns').map((n) => n.uid)).toEqual(['lab:pi-1']);
    expect(
      inv
        .query('kind:my-* or kind:scale*')
        .map((n) => n.uid)
        .sort(),
    ).toEqual(['lab:pi-1', 'lab:pi-2', 'mine:m-1']);
    expect(inv.query('kind:aws')).toEqual([]);
    // still a query value: syntax is checked
    expect(() => inv.query('kind:')).toThrow(expect.objectContaining({ code: 'E_VALIDATION', position: 5 }));
    expect(() => inv.query('kind:"my-cloud')).toThrow(expect.objectContaining({ code: 'E_VALIDATION' }));
  });

  it('PROVIDER_KINDS lists the built-in kinds only', () => {
    const known: readonly KnownProviderKind[] = PROVIDER_KINDS;
    expect([...known].sort()).toEqual([
      'azure',
      'digitalocean',
      'ec2',
      'gce',
      'hetzner',
      'linode',
      'openstack',
      'static',
      'vultr',
    ]);
  });
});
