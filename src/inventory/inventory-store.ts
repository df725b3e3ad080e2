/**
 * Where an {@link Inventory} keeps its nodes and local tags between restarts: the
 * {@link InventoryStore} interface and {@link MemoryInventoryStore}, the reference implementation and
 * the default. `CassandraInventoryStore` (`@fleetwatch/sdk/cassandra`) implements the same contract.
 */
import { type AbortOptions, checkAbortOptions } from '../core.js';
import { FleetwatchError, throwIfAborted, validationError } from '../errors.js';
import { requireTenant, validateNodeTags } from '../naming.js';
import type { Node } from '../providers/types.js';
import { checkArray, checkUid } from './args.js';

/** One node as stored: the provider's node plus the inventory's staleness. */
export interface StoredNode {
  /** The node as its provider listed it. */
  node: Node;
  /** True while the node's provider fails to list it. */
  stale: boolean;
  /** Epoch ms when the node became stale, while `stale`. */
  staleSince?: number;
  /** The error code and message of the failed listing, while `stale`. */
  staleReason?: string;
}

/** Everything stored for one tenant. */
export interface InventorySnapshot {
  /** Every stored node of the tenant. */
  nodes: StoredNode[];
  /** Local tags by node uid (also for uids whose node is not stored). */
  localTags: Map<string, Record<string, string>>;
}

/**
 * Persistence for an inventory. All methods take a tenant, so one store serves many inventories.
 *
 * Lifecycle: `close()` is idempotent; any call after it rejects with `E_CLOSED`. Tenants and local
 * tags follow the naming rules of docs/naming.md (`E_VALIDATION` otherwise).
 * Tag index: `findByTag` answers from the merged view (provider tags, local tags overriding), which
 * the store keeps up to date on `putNodes`, `removeNodes`, `setLocalTags` and `removeLocalTags`.
 */
export interface InventoryStore {
  /** Everything stored for the tenant. */
  load(tenant: string, opts?: AbortOptions): Promise<InventorySnapshot>;
  /** Insert or replace nodes (by `node.uid`). */
  putNodes(tenant: string, nodes: readonly StoredNode[], opts?: AbortOptions): Promise<void>;
  /** Delete nodes and their local tags. Unknown uids are ignored. */
  removeNodes(tenant: string, uids: readonly string[], opts?: AbortOptions): Promise<void>;
  /** Merge `tags` into the uid's local tags; returns the local tags after the change. */
  setLocalTags(
    tenant: string,
    uid: string,
    tags: Readonly<Record<string, string>>,
    opts?: AbortOptions,
  ): Promise<Record<string, string>>;
  /** Remove local tags by key; returns the local tags after the change. */
  removeLocalTags(
    tenant: string,
    uid: string,
    keys: readonly string[],
    opts?: AbortOptions,
  ): Promise<Record<string, string>>;
  /**
   * Uids of stored nodes whose merged tags have `key` (and, if given, exactly `value`), sorted.
   * `key` must be non-empty (`E_VALIDATION`); tags with an empty key are stored but not indexed.
   */
  findByTag(tenant: string, key: string, value?: string, opts?: AbortOptions): Promise<string[]>;
  /** Release resources. Idempotent. */
  close(): Promise<void>;
}

/** Provider tags with local tags overriding: the view `tag:` queries and `findByTag` use. */
export function mergeTags(
  provider: Readonly<Record<string, string>>,
  local: Readonly<Record<string, string>>,
): Record<string, string> {
  let localCount = 0;
  for (const _ in local) localCount++;
  return localCount === 0 ? { ...provider } : { ...provider, ...local };
}

interface TenantData {
  nodes: Map<string, StoredNode>;
  localTags: Map<string, Record<string, string>>;
}

/** A deep copy of JSON-like data (plain objects, arrays, Dates, primitives). */
function cloneValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map(cloneValue);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = cloneValue(v);
  return out;
}

/** Copy a stored node so callers can never mutate what the store holds (much faster than structuredClone). */
function cloneNode(s: StoredNode): StoredNode {
  const n = s.node;
  const node: Node = {
    ...n,
    publicIps: [...n.publicIps],
    privateIps: [...n.privateIps],
    tags: { ...n.tags },
    extra: cloneValue(n.extra) as Record<string, unknown>,
  };
  if (n.createdAt !== undefined) node.createdAt = new Date(n.createdAt.getTime());
  return { ...s, node };
}

/**
 * The in-memory {@link InventoryStore}: the default for an {@link Inventory} without a store, and the
 * reference the conformance suite is written against. Data lives only as long as the object.
 *
 * @example
 * ```ts
 * const store = new MemoryInventoryStore();
 * const inv = new Inventory({ providers, store });
 * await inv.sync();
 * await store.findByTag('default', 'role', 'web'); // uids of the nodes tagged role=web
 * ```
 */
export class MemoryInventoryStore implements InventoryStore {
  readonly #tenants = new Map<string, TenantData>();
  #closed = false;

  #data(tenant: string, opts: AbortOptions | undefined): TenantData {
    if (this.#closed) throw new FleetwatchError('E_CLOSED', 'inventory store is closed');
    requireTenant(tenant);
    throwIfAborted(checkAbortOptions(opts).signal);
    let data = this.#tenants.get(tenant);
    if (data === undefined) {
      data = { nodes: new Map(), localTags: new Map() };
      this.#tenants.set(tenant, data);
    }
    return data;
  }

  /** Everything stored for the tenant: its nodes and local tags. */
  async load(tenant: string, opts?: AbortOptions): Promise<InventorySnapshot> {
    const data = this.#data(tenant, opts);
    return {
      nodes: [...data.nodes.values()].map(cloneNode),
      localTags: new Map([...data.localTags].map(([uid, tags]) => [uid, { ...tags }])),
    };
  }

  /** Insert or replace nodes (by `node.uid`), keeping the tag index current. */
  async putNodes(tenant: string, nodes: readonly StoredNode[], opts?: AbortOptions): Promise<void> {
    const data = this.#data(tenant, opts);
    checkArray(nodes, 'nodes', (s) => typeof s?.node?.uid === 'string', 'a stored node with node.uid');
    for (const s of nodes) data.nodes.set(s.node.uid, cloneNode(s));
  }

  /** Delete nodes and their local tags. Unknown uids are ignored. */
  async removeNodes(tenant: string, uids: readonly string[], opts?: AbortOptions): Promise<void> {
    const data = this.#data(tenant, opts);
    checkArray(uids, 'uids', (u) => typeof u === 'string', 'a node uid');
    for (const uid of uids) {
      data.nodes.delete(uid);
      data.localTags.delete(uid);
    }
  }

  /** Merge `tags` into the uid's local tags; returns the local tags after the change. */
  async setLocalTags(
    tenant: string,
    uid: string,
    tags: Readonly<Record<string, string>>,
    opts?: AbortOptions,
  ): Promise<Record<string, string>> {
    const data = this.#data(tenant, opts);
    checkUid(uid);
    const valid = validateNodeTags(tags);
    const next = { ...data.localTags.get(uid), ...valid };
    data.localTags.set(uid, next);
    return { ...next };
  }

  /** Remove local tags by key; returns the local tags after the change. */
  async removeLocalTags(
    tenant: string,
    uid: string,
    keys: readonly string[],
    opts?: AbortOptions,
  ): Promise<Record<string, string>> {
    const data = this.#data(tenant, opts);
    checkUid(uid);
    checkArray(keys, 'keys', (k) => typeof k === 'string', 'a tag key');
    const next = { ...data.localTags.get(uid) };
    for (const k of keys) delete next[k];
    if (Object.keys(next).length === 0) data.localTags.delete(uid);
    else data.localTags.set(uid, next);
    return { ...next };
  }

  /** Uids of stored nodes whose merged tags have `key` (and, if given, exactly `value`), sorted. */
  async findByTag(tenant: string, key: string, value?: string, opts?: AbortOptions): Promise<string[]> {
    const data = this.#data(tenant, opts);
    if (typeof key !== 'string' || key === '') throw validationError('key', 'a non-empty tag key', key);
    const out: string[] = [];
    for (const [uid, s] of data.nodes) {
      const merged = mergeTags(s.node.tags, data.localTags.get(uid) ?? {});
      if (Object.hasOwn(merged, key) && (value === undefined || merged[key] === value)) out.push(uid);
    }
    return out.sort();
  }

  /** Release the store; later calls reject with `E_CLOSED`. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}
