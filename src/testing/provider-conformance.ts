import { isIP } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetwatchError } from '../errors.js';
import { NODE_STATES, type Node, type Provider } from '../providers/types.js';

/** What a provider factory returns to {@link providerConformance}. */
export interface ProviderUnderTest {
  /** The provider, configured against a backend holding at least one node. */
  provider: Provider;
  /**
   * Secrets the provider was configured with (tokens, passwords, keys): the suite asserts that none
   * appears in the provider, its nodes or its errors, printed or serialised.
   * @default []
   */
  secrets?: readonly string[];
  /**
   * A node id the backend does not hold: `getNode()` must resolve `undefined` for it.
   * @default 'fleetwatch-conformance-missing-node'
   */
  missingId?: string;
  /** Called once after the suite (stop a local server, delete a temporary file). */
  cleanup?: () => Promise<void>;
}

const STATES: ReadonlySet<string> = new Set(NODE_STATES);

async function collect(provider: Provider, signal?: AbortSignal): Promise<Node[]> {
  const nodes: Node[] = [];
  for await (const node of provider.listNodes(signal ? { signal } : {})) nodes.push(node);
  return nodes;
}

async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to reject, but it resolved');
}

function printed(value: unknown): string {
  return `${inspect(value, { depth: 8, showHidden: true })}\n${JSON.stringify(value) ?? ''}`;
}

/**
 * Register the {@link Provider} contract as a vitest suite: the shape of every listed {@link Node}
 * (`uid` is `${provider.id}:${id}`, a known `state`, the provider's own `rawState`, IP addresses,
 * string tags), unique uids, `getNode()` for a listed and a missing id, `E_ABORTED` for an aborted
 * signal, and no secret in the provider, its nodes or its errors.
 *
 * The factory is called once, before the suite; the backend must hold at least one node.
 *
 * @param name    the describe name (e.g. `'my-cloud'`)
 * @param factory builds the provider under test
 *
 * @example
 * ```ts
 * // test/my-cloud.test.ts, run by vitest
 * import { staticProvider } from '@fleetwatch/sdk';
 * import { providerConformance } from '@fleetwatch/sdk/testing';
 *
 * providerConformance('static', async () => ({
 *   provider: staticProvider({ id: 'dc1', nodes: [{ id: 'a', name: 'web-1', publicIps: ['192.0.2.10'] }] }),
 * }));
 * ```
 */
export function providerConformance(
  name: string,
  factory: () => ProviderUnderTest | Promise<ProviderUnderTest>,
): void {
  describe(`Provider conformance: ${name}`, () => {
    let under: ProviderUnderTest;
    let nodes: Node[];

    beforeAll(async () => {
      under = await factory();
      nodes = await collect(under.provider);
    });
    afterAll(async () => {
      await under?.cleanup?.();
    });

    it('id and kind - are non-empty strings', () => {
      expect(typeof under.provider.id).toBe('string');
      expect(under.provider.id.length).toBeGreaterThan(0);
      expect(typeof under.provider.kind).toBe('string');
      expect(under.provider.kind.length).toBeGreaterThan(0);
    });

    it('listNodes() - yields at least one node', () => {
      expect(nodes.length).toBeGreaterThan(0);
    });

    it('listNodes() - every node has the common shape', () => {
      const { id: providerId, kind } = under.provider;
      for (const node of nodes) {
        const at = `node ${JSON.stringify(node.uid)}`;
        expect(typeof node.id, at).toBe('string');
        expect(node.id.length, at).toBeGreaterThan(0);
        expect(node.uid, at).toBe(`${providerId}:${node.id}`);
        expect(node.provider, at).toBe(providerId);
        expect(node.kind, at).toBe(kind);
        expect(typeof node.name, at).toBe('string');
        expect(STATES.has(node.state), `${at}: state ${JSON.stringify(node.state)}`).toBe(true);
        expect(typeof node.rawState, at).toBe('string');
        for (const ip of [...node.publicIps, ...node.privateIps]) {
          expect(isIP(ip), `${at}: ip ${JSON.stringify(ip)}`).not.toBe(0);
        }
        for (const [key, value] of Object.entries(node.tags)) {
          expect(typeof value, `${at}: tag ${JSON.stringify(key)}`).toBe('string');
        }
        expect(node.extra !== null && typeof node.extra === 'object', at).toBe(true);
        if (node.createdAt !== undefined) {
          expect(node.createdAt, at).toBeInstanceOf(Date);
          expect(Number.isNaN(node.createdAt.getTime()), `${at}: createdAt is an invalid Date`).toBe(false);
        }
        for (const field of ['region', 'zone', 'size', 'image'] as const) {
          const value = node[field];
          if (value !== undefined) expect(typeof value, `${at}: ${field}`).toBe('string');
        }
      }
    });

    it('listNodes() - uids are unique within one listing', () => {
      const uids = nodes.map((n) => n.uid);
      expect(new Set(uids).size).toBe(uids.length);
    });

    it('listNodes() - a second listing yields the same nodes', async () => {
      const again = await collect(under.provider);
      expect(again.map((n) => n.uid).sort()).toEqual(nodes.map((n) => n.uid).sort());
    });

    it('getNode() - returns a listed node by its id', async () => {
      const first = nodes[0];
      expect(first).toBeDefined();
      const got = await under.provider.getNode(first!.id);
      expect(got?.uid).toBe(first!.uid);
      expect(got?.state).toBe(first!.state);
    });

    it('getNode() - resolves undefined for an id the backend does not hold', async () => {
      const missing = under.missingId ?? 'fleetwatch-conformance-missing-node';
      expect(nodes.some((n) => n.id === missing)).toBe(false);
      await expect(under.provider.getNode(missing)).resolves.toBeUndefined();
    });

    it('listNodes({ signal }) - an aborted signal rejects with E_ABORTED', async () => {
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      const err = await rejection(() => collect(under.provider, controller.signal));
      expect(err).toBeInstanceOf(FleetwatchError);
      expect((err as FleetwatchError).code).toBe('E_ABORTED');
    });

    it('getNode(id, { signal }) - an aborted signal rejects with E_ABORTED', async () => {
      const err = await rejection(() =>
        under.provider.getNode(nodes[0]!.id, { signal: AbortSignal.abort() }),
      );
      expect(err).toBeInstanceOf(FleetwatchError);
      expect((err as FleetwatchError).code).toBe('E_ABORTED');
    });

    it('secrets - never appear in the provider, its nodes or its errors', async () => {
      const secrets = (under.secrets ?? []).filter((s) => s.length > 0);
      const err = await rejection(() => collect(under.provider, AbortSignal.abort()));
      const text = [printed(under.provider), printed(nodes), printed(err)].join('\n');
      for (const secret of secrets)
        expect(text.includes(secret), 'a configured secret was printed').toBe(false);
    });
  });
}
