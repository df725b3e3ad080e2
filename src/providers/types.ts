/**
 * The common shape of every provider: one {@link Provider} interface and one {@link Node} model.
 */
import type { AbortOptions, Clock, Logger } from '../core.js';

/** The kinds of the providers fleetwatch ships. */
export type KnownProviderKind = 'ec2' | 'openstack' | 'digitalocean' | 'gce' | 'azure' | 'linode' | 'static';

/**
 * Which adapter a provider is: one of the {@link KnownProviderKind}s (editors complete them) or any
 * other string, for a provider written outside fleetwatch.
 *
 * @example
 * ```ts
 * const builtIn: ProviderKind = 'ec2';
 * const mine: ProviderKind = 'hetzner';
 * ```
 */
export type ProviderKind = KnownProviderKind | (string & {});

/** Every built-in provider kind, in a stable order. */
export const PROVIDER_KINDS: readonly KnownProviderKind[] = [
  'ec2',
  'openstack',
  'digitalocean',
  'gce',
  'azure',
  'linode',
  'static',
];

/** The normalised lifecycle state of a node. A provider's new word maps to `unknown`, never a crash. */
export type NodeState =
  | 'running'
  | 'pending'
  | 'starting'
  | 'stopping'
  | 'stopped'
  | 'rebooting'
  | 'terminated'
  | 'suspended'
  | 'error'
  | 'unknown';

/** Every node state. */
export const NODE_STATES: readonly NodeState[] = [
  'running',
  'pending',
  'starting',
  'stopping',
  'stopped',
  'rebooting',
  'terminated',
  'suspended',
  'error',
  'unknown',
];

/** A server, as every provider reports it. */
export interface Node {
  /** `${providerId}:${id}`, unique across providers. */
  uid: string;
  /** The provider's own id for the node. */
  id: string;
  /** Display name (may be empty when the provider has none). */
  name: string;
  /** The id of the provider instance that listed it. */
  provider: string;
  /** The adapter kind. */
  kind: ProviderKind;
  /** Normalised state. */
  state: NodeState;
  /** The provider's own state word, always kept. */
  rawState: string;
  region?: string;
  zone?: string;
  publicIps: string[];
  privateIps: string[];
  size?: string;
  image?: string;
  createdAt?: Date;
  /** Provider tags / labels / metadata, normalised to strings. */
  tags: Record<string, string>;
  /** Provider-specific fields from an explicit key list; never secrets. */
  extra: Record<string, unknown>;
}

/** Options for {@link Provider.listNodes}. */
export interface ListNodesOptions extends AbortOptions {
  /** Called once per page fetched, for progress reporting. */
  onPage?: (info: { page: number; nodes: number }) => void;
}

/** Parameters for creating a node, where a provider supports it. Provider-only fields go in `extra`. */
export interface CreateNodeInput {
  name: string;
  size: string;
  image: string;
  region?: string;
  zone?: string;
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
}

/**
 * One cloud account (or file of servers), behind one interface. A plain object with `id`, `kind`,
 * `listNodes` and `getNode` is a provider; the other operations are optional.
 *
 * @example
 * ```ts
 * const hosts: Provider = {
 *   id: 'lab',
 *   kind: 'lab-hosts',
 *   async *listNodes() {
 *     yield { uid: 'lab:pi-1', id: 'pi-1', name: 'pi-1', provider: 'lab', kind: 'lab-hosts', state: 'running',
 *       rawState: 'up', publicIps: [], privateIps: ['10.0.0.2'], tags: {}, extra: {} };
 *   },
 *   async getNode() { return undefined; },
 * };
 * ```
 */
export interface Provider {
  readonly id: string;
  readonly kind: ProviderKind;
  /** Every node, following pages to the end; never truncates silently. */
  listNodes(opts?: ListNodesOptions): AsyncIterable<Node>;
  /** One node by the provider's id, or `undefined` when it does not exist. */
  getNode(id: string, opts?: AbortOptions): Promise<Node | undefined>;
  /** Replace the provider-side tags the SDK manages (where the API allows). */
  setTags?(nodeId: string, tags: Record<string, string>, opts?: AbortOptions): Promise<void>;
  /** Remove provider-side tags by key (where the API allows). */
  removeTags?(nodeId: string, keys: string[], opts?: AbortOptions): Promise<void>;
  rebootNode?(id: string, opts?: AbortOptions): Promise<void>;
  startNode?(id: string, opts?: AbortOptions): Promise<void>;
  stopNode?(id: string, opts?: AbortOptions): Promise<void>;
  createNode?(input: CreateNodeInput, opts?: AbortOptions): Promise<Node>;
  destroyNode?(id: string, opts?: AbortOptions): Promise<void>;
}

/** Options every provider factory takes besides its own. */
export interface CommonProviderOptions {
  /** Unique id of this provider instance; becomes the prefix of each node's `uid`. */
  id: string;
  logger?: Logger;
  clock?: Clock;
}
