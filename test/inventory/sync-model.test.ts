/**
 * Model-based property tests of sync: a replica built only from the events must always equal what
 * the provider last listed successfully, and an outage must change nothing but staleness.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepEqual, diffNodes } from '../../src/inventory/diff.js';
import { Inventory } from '../../src/inventory/inventory.js';
import type { InventoryNode } from '../../src/inventory/types.js';
import type { Node } from '../../src/providers/types.js';
import { ArrayProvider, makeNode } from './providers.js';

const nodeArb: fc.Arbitrary<GenNode> = fc.record({
  id: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  state: fc.constantFrom('running' as const, 'stopped' as const, 'pending' as const),
  tags: fc.dictionary(fc.constantFrom('role', 'env', 'team'), fc.constantFrom('web', 'db', '', 'x y')),
  ips: fc.array(fc.constantFrom('10.0.0.1', '10.0.0.2', 'fe80::1'), { maxLength: 2 }),
  name: fc.constantFrom('n1', 'n2'),
});
interface GenNode {
  id: string;
  state: 'running' | 'stopped' | 'pending';
  tags: Record<string, string>;
  ips: string[];
  name: string;
}
type Step = { fail: true } | { fail: false; nodes: GenNode[] };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ fail: true as const }) },
  {
    weight: 4,
    arbitrary: fc
      .uniqueArray(nodeArb, { selector: (n) => n.id, maxLength: 5 })
      .map((nodes) => ({ fail: false as const, nodes })),
  },
);

const fields = (n: Node) => ({
  uid: n.uid,
  name: n.name,
  state: n.state,
  rawState: n.rawState,
  tags: n.tags,
  privateIps: n.privateIps,
});

describe('sync() model', () => {
  it('a replica built from added/changed/removed events always equals the last successful listing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (steps) => {
        const p = new ArrayProvider('p');
        const inv = new Inventory({ providers: [p] });
        const replica = new Map<string, InventoryNode>();
        // Listener errors are logged, not thrown, by the inventory: collect problems instead.
        const problems: string[] = [];
        inv.on('added', (e) => {
          if (replica.has(e.node.uid)) problems.push(`added twice: ${e.node.uid}`);
          replica.set(e.node.uid, e.node);
        });
        inv.on('changed', (e) => {
          const held = replica.get(e.node.uid);
          // Marking stale replaces node objects without an event, so compare fields, not identity.
          if (held === undefined || !deepEqual(fields(held), fields(e.previous)))
            problems.push(`changed from an unknown state: ${e.node.uid}`);
          if (e.changes.length === 0) problems.push(`changed without changes: ${e.node.uid}`);
          replica.set(e.node.uid, e.node);
        });
        inv.on('removed', (e) => {
          if (!replica.delete(e.node.uid)) problems.push(`removed unknown: ${e.node.uid}`);
        });
        let lastGood: Node[] = [];
        for (const step of steps) {
          if (step.fail) {
            p.fail = new Error('outage');
          } else {
            p.fail = undefined;
            p.nodes = step.nodes.map((n) =>
              makeNode('p', n.id, {
                name: n.name,
                state: n.state,
                rawState: n.state,
                tags: n.tags,
                privateIps: n.ips,
              }),
            );
            lastGood = p.nodes;
          }
          const report = await inv.sync();
          expect(report.ok).toBe(!step.fail);
          expect(problems).toEqual([]);
          const want = new Map(lastGood.map((n) => [n.uid, fields(n)]));
          expect(new Map([...replica].map(([uid, n]) => [uid, fields(n)]))).toEqual(want);
          expect(new Map(inv.nodes().map((n) => [n.uid, fields(n)]))).toEqual(want);
          expect(inv.nodes().every((n) => n.stale === step.fail)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('diffNodes() is empty exactly when the compared fields are equal', () => {
    const arb = nodeArb.map((n) =>
      makeNode('p', 'x', {
        name: n.name,
        state: n.state,
        tags: n.tags,
        privateIps: n.ips,
        extra: { s: n.state },
      }),
    );
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        const same = deepEqual(a, b);
        expect(diffNodes(a, b).length === 0).toBe(same);
        expect(diffNodes(a, structuredClone(a))).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
