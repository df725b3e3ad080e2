/**
 * The common shape of every provider: one {@link Provider} interface and one {@link Node} model.
 */
import type { AbortOptions, Clock, Logger } from '../core.js';
import type {
  CreateNodeInput,
  KeyPair,
  ListCatalogOptions,
  ListImagesOptions,
  NodeImage,
  NodeLocation,
  NodeSize,
} from './catalog-types.js';

export type * from './catalog-types.js';

/** The kinds of the providers fleetwatch ships. */
export type KnownProviderKind =
  | 'ec2'
  | 'openstack'
  | 'digitalocean'
  | 'gce'
  | 'azure'
  | 'linode'
  | 'hetzner'
  | 'vultr'
  | 'static';

/**
 * Which adapter a provider is: one of the {@link KnownProviderKind}s (editors complete them) or any
 * other string, for a provider written outside fleetwatch.
 *
 * @example
 * ```ts
 * const builtIn: ProviderKind = 'ec2';
 * const mine: ProviderKind = 'lab-hosts';
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
  'hetzner',
  'vultr',
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
  /** The region the node runs in (`us-east-1`, `fra1`), when the provider has regions. */
  region?: string;
  /** The availability zone within the region (`us-east-1a`), when the provider has zones. */
  zone?: string;
  /** Public IPv4 and IPv6 addresses, in the order the provider lists them; empty when none. */
  publicIps: string[];
  /** Private (VPC, RFC 1918, ULA) addresses, in the order the provider lists them; empty when none. */
  privateIps: string[];
  /** The size (instance type, flavor, plan) id, as in {@link NodeSize.id}. */
  size?: string;
  /** The image the node was created from, as in {@link NodeImage.id}, when the provider says. */
  image?: string;
  /** When the provider created the node, when it says. */
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

/** Options of {@link Operation.done} and the waits. */
export interface WaitOptions extends AbortOptions {
  /** Give up after this long with `E_TIMEOUT`. @default 600_000 */
  timeoutMs?: number;
  /** First poll interval in ms; each adapter has its own default from the provider's guidance. */
  intervalMs?: number;
}

/**
 * A change the provider accepted and may still be carrying out. `done()` polls the provider's own
 * mechanism (a GCE zone operation, an Azure async operation, a DigitalOcean action, a node's state)
 * and resolves with the result, or rejects with `E_PROVIDER` carrying the provider's error,
 * `E_TIMEOUT` or `E_ABORTED`.
 *
 * @example
 * ```ts
 * declare const provider: Provider;
 * const op = await provider.stopNode?.('i-0abc', { graceful: true });
 * if (op) await op.done({ timeoutMs: 120_000 });
 * ```
 */
export interface Operation<T = void> {
  /** The provider's id for the operation (action id, operation name, node id for state polls). */
  readonly id: string;
  /** What it does, e.g. `stop`, `setTags`, `destroy`. */
  readonly action: string;
  /** Wait until the provider reports it finished. Each call polls afresh. */
  done(opts?: WaitOptions): Promise<T>;
}

/** Options of {@link Provider.stopNode}. */
export interface StopNodeOptions extends AbortOptions {
  /**
   * Ask the OS to shut down (ACPI) rather than cut the power. Where the provider offers both and the
   * graceful one does not finish within `timeoutMs`, the adapter powers off. @default true
   */
  graceful?: boolean;
  /** How long a graceful stop may take before the hard one, where the adapter falls back. */
  timeoutMs?: number;
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
  /** Unique id of this provider instance; the prefix of each node's `uid`. */
  readonly id: string;
  /** Which adapter this is (`ec2`, `gce`…, or a custom kind). */
  readonly kind: ProviderKind;
  /** Every node, following pages to the end; never truncates silently. */
  listNodes(opts?: ListNodesOptions): AsyncIterable<Node>;
  /** One node by the provider's id, or `undefined` when it does not exist. */
  getNode(id: string, opts?: AbortOptions): Promise<Node | undefined>;
  /** Set these provider-side tags (merge: other keys are kept), where the API allows. */
  setTags?(
    nodeId: string,
    tags: Record<string, string>,
    opts?: AbortOptions,
  ): Promise<void | Operation<void>>;
  /** Remove provider-side tags by key (where the API allows). */
  removeTags?(nodeId: string, keys: string[], opts?: AbortOptions): Promise<void | Operation<void>>;
  /** Reboot a node, where the API allows; mutating calls may return an {@link Operation}. */
  rebootNode?(id: string, opts?: AbortOptions): Promise<void | Operation<Node>>;
  /** Start (power on) a stopped node, where the API allows. */
  startNode?(id: string, opts?: AbortOptions): Promise<void | Operation<Node>>;
  /** Stop a node, gracefully by default (see {@link StopNodeOptions}), where the API allows. */
  stopNode?(id: string, opts?: StopNodeOptions): Promise<void | Operation<Node>>;
  /** Create a node; it usually comes back `pending` (use {@link Provider.waitForState}). */
  createNode?(input: CreateNodeInput, opts?: AbortOptions): Promise<Node>;
  /** Delete a node for good, where the API allows. */
  destroyNode?(id: string, opts?: AbortOptions): Promise<void | Operation<void>>;
  /** Images, the account's own by default; every page followed. */
  listImages?(opts?: ListImagesOptions): AsyncIterable<NodeImage>;
  /** Sizes a node can be created with; every page followed. */
  listSizes?(opts?: ListCatalogOptions): AsyncIterable<NodeSize>;
  /** Regions, zones or datacenters a node can be created in; every page followed. */
  listLocations?(opts?: ListCatalogOptions): AsyncIterable<NodeLocation>;
  /** SSH key pairs registered with the account; every page followed. */
  listKeyPairs?(opts?: ListCatalogOptions): AsyncIterable<KeyPair>;
  /** Register an SSH public key (OpenSSH format) under `name`. */
  importKeyPair?(input: { name: string; publicKey: string }, opts?: AbortOptions): Promise<KeyPair>;
  /** Delete the key pair called `name` from the account. */
  deleteKeyPair?(name: string, opts?: AbortOptions): Promise<void>;
  /**
   * Poll the node until its state is one of `states`; resolves with that node. A node that
   * disappears counts as `terminated`. Rejects `E_TIMEOUT` after `timeoutMs`, and `E_PROVIDER` when
   * the node reaches `error` (unless waited for).
   */
  waitForState?(nodeId: string, states: readonly NodeState[], opts?: WaitOptions): Promise<Node>;
}

/**
 * A provider with every node operation, catalogue listing and key-pair call, whose mutating calls
 * always return an {@link Operation} (what `ec2()`, `openstack()`, `azure()`, `digitalocean()`,
 * `linode()`, `hetzner()` and `vultr()` return).
 *
 * @example
 * ```ts
 * declare const provider: ManagedProvider;
 * const node = await (await provider.stopNode('42', { graceful: true })).done({ timeoutMs: 300_000 });
 * ```
 */
export interface ManagedProvider extends Provider {
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
  /** Create a node; it usually comes back `pending` (use {@link Provider.waitForState}). */
  createNode(input: CreateNodeInput, opts?: AbortOptions): Promise<Node>;
  /** Delete a node for good; the {@link Operation} completes when it is gone. */
  destroyNode(id: string, opts?: AbortOptions): Promise<Operation<void>>;
  /** Images, the account's own by default; every page followed. */
  listImages(opts?: ListImagesOptions): AsyncIterable<NodeImage>;
  /** Sizes a node can be created with; every page followed (Azure takes `filters.location` to list one location's). */
  listSizes(opts?: ListCatalogOptions): AsyncIterable<NodeSize>;
  /** Regions, zones or datacenters a node can be created in; every page followed. */
  listLocations(opts?: ListCatalogOptions): AsyncIterable<NodeLocation>;
  /** SSH key pairs registered with the account; every page followed. */
  listKeyPairs(opts?: ListCatalogOptions): AsyncIterable<KeyPair>;
  /** Register an SSH public key (OpenSSH format) under `name`. */
  importKeyPair(input: { name: string; publicKey: string }, opts?: AbortOptions): Promise<KeyPair>;
  /** Delete the key pair called `name` from the account. */
  deleteKeyPair(name: string, opts?: AbortOptions): Promise<void>;
  /** Poll the node until its state is one of `states` (see {@link Provider.waitForState}). */
  waitForState(nodeId: string, states: readonly NodeState[], opts?: WaitOptions): Promise<Node>;
}

/** Options every provider factory takes besides its own. */
export interface CommonProviderOptions {
  /** Unique id of this provider instance; becomes the prefix of each node's `uid`. */
  id: string;
  /** A pino-compatible logger for retries and throttling (never given secrets). @default silent */
  logger?: Logger;
  /** The clock for token expiry and throttling windows. @default `Date.now()` */
  clock?: Clock;
}
