/**
 * What the Hetzner and Vultr adapters share beyond the adapter kit: the type of a fully managed
 * provider, and a key-pair lookup by name (for APIs that take a key's id where callers give its name).
 */
import type { AbortOptions } from '../core.js';
import { FleetwatchError } from '../errors.js';
import type {
  CatalogOperation,
  KeyPairOperation,
  NodeLifecycleOperation,
  ProviderWith,
} from './kit/options.js';
import type { KeyPair, Node, Operation, StopNodeOptions } from './types.js';

/**
 * The key pair called `name` among `keys`, or `E_NOT_FOUND` naming `path`.
 *
 * @example
 * ```ts
 * declare const provider: ManagedProvider;
 * const key = await keyPairByName('hz', provider.listKeyPairs(), 'ops', 'input.keyPair');
 * ```
 */
export async function keyPairByName(
  provider: string,
  keys: AsyncIterable<KeyPair>,
  name: string,
  path: string,
): Promise<KeyPair> {
  for await (const key of keys) if (key.name === name) return key;
  throw new FleetwatchError('E_NOT_FOUND', `${provider}: no key pair named ${JSON.stringify(name)}`, {
    provider,
    path,
  });
}

/**
 * A provider with every node operation and catalogue listing, whose mutating calls always return
 * an {@link Operation} (what `ec2()`, `openstack()`, `hetzner()` and `vultr()` return).
 *
 * @example
 * ```ts
 * declare const provider: ManagedProvider;
 * const node = await (await provider.stopNode('42', { graceful: true })).done({ timeoutMs: 300_000 });
 * ```
 */
export interface ManagedProvider
  extends ProviderWith<NodeLifecycleOperation | CatalogOperation | KeyPairOperation | 'waitForState'> {
  /**
   * Set these provider-side tags (merge: other keys are kept); the {@link Operation} completes when the cloud
   * has applied them.
   */
  setTags(nodeId: string, tags: Record<string, string>, opts?: AbortOptions): Promise<Operation<void>>;
  /** Remove provider-side tags by key; the {@link Operation} completes when the cloud has applied it. */
  removeTags(nodeId: string, keys: string[], opts?: AbortOptions): Promise<Operation<void>>;
  /** Reboot a node; the {@link Operation} resolves with the node once it runs again. */
  rebootNode(id: string, opts?: AbortOptions): Promise<Operation<Node>>;
  /** Start a stopped node; the {@link Operation} resolves with the running node. */
  startNode(id: string, opts?: AbortOptions): Promise<Operation<Node>>;
  /**
   * Stop a node, gracefully by default ({@link StopNodeOptions}); the {@link Operation} resolves with the
   * stopped node.
   */
  stopNode(id: string, opts?: StopNodeOptions): Promise<Operation<Node>>;
  /** Delete a node for good; the {@link Operation} completes when it is gone. */
  destroyNode(id: string, opts?: AbortOptions): Promise<Operation<void>>;
}
