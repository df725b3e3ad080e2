/**
 * The Cassandra {@link InventoryStore}: nodes, local tags and a merged-tag index in three tables
 * (see ./inventory-schema.ts). Prepared statements only, every query restricted by its full
 * partition key (no ALLOW FILTERING), no multi-partition batches, keyspace validated before it
 * reaches CQL.
 */

import {
  type AbortOptions,
  checkAbortOptions,
  type Logger,
  rejectUnknownKeys,
  silentLogger,
} from '../core.js';
import { FleetwatchError, throwIfAborted, validationError } from '../errors.js';
import { checkArray, checkUid } from '../inventory/args.js';
import {
  type InventorySnapshot,
  type InventoryStore,
  mergeTags,
  type StoredNode,
} from '../inventory/inventory-store.js';
import { requireTenant, validateNodeTags } from '../naming.js';
import type { Node } from '../providers/types.js';
import { mapLimit } from './concurrency.js';
import {
  type CassandraConnectionOptions,
  createClient,
  DEFAULT_REPLICATION,
  validateConnectionOptions,
} from './connection.js';
import { type Client, cassandra } from './driver.js';
import { toStoreError } from './driver-errors.js';
import {
  INVENTORY_BUCKETS,
  INVENTORY_MIGRATIONS,
  inventoryBucket,
  inventoryQueries,
} from './inventory-schema.js';
import { ensureKeyspace, ensureSchema } from './schema.js';

/** Options of {@link CassandraInventoryStore.connect}: the connection options and these. */
export interface CassandraInventoryStoreOptions extends CassandraConnectionOptions {
  /** Requests in flight at once for multi-node writes. @default 32 */
  concurrency?: number;
  /** @default silentLogger */
  logger?: Logger;
  /** Abort connecting and migrating. */
  signal?: AbortSignal;
}

const KEYS = [
  'contactPoints',
  'localDataCenter',
  'keyspace',
  'replication',
  'credentials',
  'client',
  'concurrency',
  'logger',
  'signal',
] as const;

/** A tag map: keys to string values. */
export type Tags = Record<string, string>;

/** Most uids in one `IN` list. */
const IN_CHUNK = 100;
/**
 * Size caps of one unlogged same-partition batch, under Cassandra's default 5 KiB warning
 * threshold (`batch_size_warn_threshold`).
 */
const INDEX_BATCH_BYTES = 2048;
const NODE_BATCH_BYTES = 4096;
const writeOptions = {
  prepare: true,
  isIdempotent: true,
  consistency: cassandra.types.consistencies.localQuorum,
};

interface IndexEntry {
  key: string;
  value: string;
  uid: string;
}

/** Group items by the bucket of their uid. */
function byBucket<T>(items: Iterable<T>, uidOf: (item: T) => string): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const item of items) {
    const b = inventoryBucket(uidOf(item));
    const list = out.get(b);
    if (list === undefined) out.set(b, [item]);
    else list.push(item);
  }
  return out;
}

interface NodeRow {
  node: Node | undefined;
  indexTags: Tags;
}

function tagsOf(value: unknown): Tags {
  if (value === null || value === undefined) return {};
  return { ...(value as Tags) };
}

function decodeNode(json: string): Node {
  const node = JSON.parse(json) as Node & { createdAt?: string | Date };
  if (typeof node.createdAt === 'string') node.createdAt = new Date(node.createdAt);
  return node;
}

/**
 * The Cassandra implementation of {@link InventoryStore}. Create it with {@link CassandraInventoryStore.connect}.
 *
 * @example
 * ```ts
 * import { CassandraInventoryStore } from '@fleetwatch/sdk/cassandra';
 * const store = await CassandraInventoryStore.connect({
 *   contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1', keyspace: 'fleetwatch' });
 * const inv = new Inventory({ providers, store });
 * ```
 */
export class CassandraInventoryStore implements InventoryStore {
  readonly #client: Client;
  readonly #ownClient: boolean;
  readonly #concurrency: number;
  readonly #q: ReturnType<typeof inventoryQueries>;
  #closed = false;

  private constructor(client: Client, ownClient: boolean, keyspace: string, concurrency: number) {
    this.#client = client;
    this.#ownClient = ownClient;
    this.#concurrency = concurrency;
    this.#q = inventoryQueries(keyspace);
  }

  /** Connect (unless `client` is given), create the keyspace if missing and apply the inventory migrations. */
  static async connect(options: CassandraInventoryStoreOptions): Promise<CassandraInventoryStore> {
    if (typeof options !== 'object' || options === null)
      throw validationError('options', 'an object', options);
    rejectUnknownKeys(options, KEYS);
    const keyspace = validateConnectionOptions(options);
    const concurrency = options.concurrency ?? 32;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)
      throw validationError('options.concurrency', 'an integer 1-1024', concurrency);
    const own = options.client === undefined;
    const client =
      options.client ?? createClient(options, { consistency: cassandra.types.consistencies.localQuorum });
    try {
      throwIfAborted(options.signal);
      await client.connect();
      await ensureKeyspace(client, keyspace, options.replication ?? DEFAULT_REPLICATION, {
        logger: options.logger ?? silentLogger,
      });
      await ensureSchema(client, {
        keyspace,
        component: 'inventory',
        migrations: INVENTORY_MIGRATIONS,
        logger: options.logger ?? silentLogger,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (err) {
      if (own) await client.shutdown().catch(() => undefined);
      throw toStoreError(err, 'connect');
    }
    return new CassandraInventoryStore(client, own, keyspace, concurrency);
  }

  #check(tenant: string, opts: AbortOptions | undefined): AbortOptions {
    if (this.#closed) throw new FleetwatchError('E_CLOSED', 'inventory store is closed');
    requireTenant(tenant);
    const checked = checkAbortOptions(opts);
    throwIfAborted(checked.signal);
    return checked;
  }

  async #exec(what: string, query: string, params: unknown[]): Promise<cassandra.types.ResultSet> {
    try {
      return await this.#client.execute(query, params, {
        prepare: true,
        isIdempotent: true,
        consistency: cassandra.types.consistencies.localQuorum,
      });
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  async #rows(what: string, query: string, params: unknown[]): Promise<cassandra.types.Row[]> {
    try {
      const rs = await this.#client.execute(query, params, {
        prepare: true,
        // A read: the driver may retry it on another replica when a connection drops under it.
        isIdempotent: true,
        fetchSize: 1000,
        consistency: cassandra.types.consistencies.localQuorum,
      });
      const rows: cassandra.types.Row[] = [];
      for await (const row of rs) rows.push(row);
      return rows;
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  /** Everything stored for the tenant: its nodes and local tags. */
  async load(tenant: string, opts?: AbortOptions): Promise<InventorySnapshot> {
    opts = this.#check(tenant, opts);
    const buckets = Array.from({ length: INVENTORY_BUCKETS }, (_, b) => b);
    const nodes: StoredNode[] = [];
    const localTags = new Map<string, Tags>();
    await mapLimit(buckets, 4, async (b) => {
      throwIfAborted(opts.signal);
      for (const row of await this.#rows('load', this.#q.loadNodes, [tenant, b])) {
        // A row without a node can be left by an index update racing a removal: not a node.
        if (typeof row.get('node') !== 'string') continue;
        const s: StoredNode = {
          node: decodeNode(row.get('node') as string),
          stale: row.get('stale') === true,
        };
        if (s.stale) {
          const since = row.get('stale_since') as Date | null;
          const reason = row.get('stale_reason') as string | null;
          if (since !== null) s.staleSince = since.getTime();
          if (reason !== null) s.staleReason = reason;
        }
        nodes.push(s);
      }
      for (const row of await this.#rows('load', this.#q.loadLocal, [tenant, b])) {
        const tags = tagsOf(row.get('tags'));
        if (Object.keys(tags).length > 0) localTags.set(row.get('uid') as string, tags);
      }
    });
    return { nodes, localTags };
  }

  /** Rows of one bucket for many uids (`uid IN ?`, in chunks), by uid. */
  async #readMany(query: string, tenant: string, bucket: number, uids: readonly string[]) {
    const out = new Map<string, cassandra.types.Row>();
    for (let i = 0; i < uids.length; i += IN_CHUNK) {
      const rows = await this.#rows('read', query, [tenant, bucket, uids.slice(i, i + IN_CHUNK)]);
      for (const row of rows) out.set(row.get('uid') as string, row);
    }
    return out;
  }

  /** The stored node rows (node and indexed tags) and local tags of uids of one bucket. */
  async #readState(tenant: string, bucket: number, uids: readonly string[]) {
    const [nodeRows, localRows] = await Promise.all([
      this.#readMany(this.#q.getNodes, tenant, bucket, uids),
      this.#readMany(this.#q.getLocals, tenant, bucket, uids),
    ]);
    return (uid: string): NodeRow & { local: Tags } => {
      const row = nodeRows.get(uid);
      const json = row?.get('node');
      return {
        node: typeof json === 'string' ? decodeNode(json) : undefined,
        indexTags: tagsOf(row?.get('index_tags')),
        local: tagsOf(localRows.get(uid)?.get('tags')),
      };
    };
  }

  /**
   * Add or delete tag-index rows: grouped by partition `(tenant, tag_key)` into unlogged
   * same-partition batches.
   */
  async #indexWrite(tenant: string, query: string, entries: readonly IndexEntry[]): Promise<void> {
    const byKey = new Map<string, IndexEntry[]>();
    for (const e of entries) {
      const list = byKey.get(e.key);
      if (list === undefined) byKey.set(e.key, [e]);
      else list.push(e);
    }
    const rows: Array<{ query: string; params: unknown[] }> = [];
    for (const list of byKey.values())
      for (const e of list) rows.push({ query, params: [tenant, e.key, e.value, e.uid] });
    await this.#batches(rows, INDEX_BATCH_BYTES);
  }

  /**
   * Run statements, in order, as unlogged batches of one partition each (same statement, same two
   * first bound values: every statement here binds its partition key `tenant, bucket` or
   * `tenant, tag_key` first) and at most about `maxBytes` of data.
   */
  async #batches(rows: ReadonlyArray<{ query: string; params: unknown[] }>, maxBytes: number): Promise<void> {
    const batches: Array<Array<{ query: string; params: unknown[] }>> = [];
    let current: Array<{ query: string; params: unknown[] }> = [];
    let bytes = 0;
    let partition = '';
    for (const row of rows) {
      const size = row.params.reduce<number>((n, p) => n + (typeof p === 'string' ? p.length : 16), 0);
      const key = `${row.query}\u0000${String(row.params[0])}\u0000${String(row.params[1])}`;
      if (current.length > 0 && (key !== partition || bytes + size > maxBytes)) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      partition = key;
      current.push(row);
      bytes += size;
    }
    if (current.length > 0) batches.push(current);
    await mapLimit(batches, this.#concurrency, async (batch) => {
      try {
        if (batch.length === 1) await this.#client.execute(batch[0]!.query, batch[0]!.params, writeOptions);
        else await this.#client.batch(batch, { ...writeOptions, logged: false });
      } catch (err) {
        throw toStoreError(err, 'write');
      }
    });
  }

  /**
   * Move the tag index of many uids from `before` to `after` (merged views): add the new entries,
   * run `write` (the rows that record `after`), then delete the old entries. A crash can leave an
   * extra index entry, never a missing one.
   */
  async #reindex(
    tenant: string,
    changes: ReadonlyArray<{ uid: string; before: Tags; after: Tags }>,
    write: () => Promise<unknown>,
  ): Promise<void> {
    const adds: IndexEntry[] = [];
    const deletes: IndexEntry[] = [];
    for (const { uid, before, after } of changes) {
      for (const [key, value] of Object.entries(after))
        if (key !== '' && before[key] !== value) adds.push({ key, value, uid });
      for (const [key, value] of Object.entries(before))
        if (key !== '' && (!Object.hasOwn(after, key) || after[key] !== value))
          deletes.push({ key, value, uid });
    }
    await this.#indexWrite(tenant, this.#q.indexAdd, adds);
    await write();
    await this.#indexWrite(tenant, this.#q.indexDelete, deletes);
  }

  /** Insert or replace nodes (by `node.uid`), keeping the tag index current. */
  async putNodes(tenant: string, nodes: readonly StoredNode[], opts?: AbortOptions): Promise<void> {
    opts = this.#check(tenant, opts);
    checkArray(nodes, 'nodes', (n) => typeof n?.node?.uid === 'string', 'a stored node with node.uid');
    const latest = new Map<string, StoredNode>();
    for (const s of nodes) latest.set(s.node.uid, s);
    await mapLimit([...byBucket(latest.values(), (s) => s.node.uid)], 4, async ([bucket, list]) => {
      throwIfAborted(opts.signal);
      const state = await this.#readState(
        tenant,
        bucket,
        list.map((s) => s.node.uid),
      );
      const planned = list.map((s) => {
        const { indexTags, local } = state(s.node.uid);
        return { s, uid: s.node.uid, before: indexTags, after: mergeTags(s.node.tags, local) };
      });
      const rows = planned.map(({ s, uid, after }) => ({
        query: this.#q.putNode,
        params: [
          tenant,
          bucket,
          uid,
          s.node.provider,
          JSON.stringify(s.node),
          s.stale,
          s.stale && s.staleSince !== undefined ? new Date(s.staleSince) : null,
          s.stale && s.staleReason !== undefined ? s.staleReason : null,
          after,
        ],
      }));
      await this.#reindex(tenant, planned, () => this.#batches(rows, NODE_BATCH_BYTES));
    });
  }

  /** Delete nodes and their local tags. Unknown uids are ignored. */
  async removeNodes(tenant: string, uids: readonly string[], opts?: AbortOptions): Promise<void> {
    opts = this.#check(tenant, opts);
    checkArray(uids, 'uids', (u) => typeof u === 'string', 'a node uid');
    await mapLimit([...byBucket(new Set(uids), (uid) => uid)], 4, async ([bucket, list]) => {
      throwIfAborted(opts.signal);
      const state = await this.#readState(tenant, bucket, list);
      const planned = list.map((uid) => ({ uid, before: state(uid).indexTags, after: {} }));
      const deletes = [
        ...list.map((uid) => ({ query: this.#q.deleteNode, params: [tenant, bucket, uid] })),
        ...list.map((uid) => ({ query: this.#q.deleteLocal, params: [tenant, bucket, uid] })),
      ];
      await this.#reindex(tenant, planned, () => this.#batches(deletes, INDEX_BATCH_BYTES));
    });
  }

  /** After local tags changed: re-merge with the stored node (if any) and fix its index. */
  async #afterLocalChange(tenant: string, bucket: number, uid: string): Promise<Tags> {
    const { node, indexTags, local } = (await this.#readState(tenant, bucket, [uid]))(uid);
    if (node !== undefined) {
      const merged = mergeTags(node.tags, local);
      await this.#reindex(tenant, [{ uid, before: indexTags, after: merged }], () =>
        this.#exec('write', this.#q.setIndexTags, [merged, tenant, bucket, uid]),
      );
    }
    return local;
  }

  /** Merge `tags` into the uid's local tags; returns the local tags after the change. */
  async setLocalTags(
    tenant: string,
    uid: string,
    tags: Readonly<Tags>,
    opts?: AbortOptions,
  ): Promise<Record<string, string>> {
    opts = this.#check(tenant, opts);
    checkUid(uid);
    const valid = validateNodeTags(tags);
    const bucket = inventoryBucket(uid);
    if (Object.keys(valid).length > 0)
      await this.#exec('write', this.#q.addLocal, [valid, tenant, bucket, uid]);
    return this.#afterLocalChange(tenant, bucket, uid);
  }

  /** Remove local tags by key; returns the local tags after the change. */
  async removeLocalTags(
    tenant: string,
    uid: string,
    keys: readonly string[],
    opts?: AbortOptions,
  ): Promise<Record<string, string>> {
    opts = this.#check(tenant, opts);
    checkUid(uid);
    checkArray(keys, 'keys', (k) => typeof k === 'string', 'a tag key');
    const bucket = inventoryBucket(uid);
    if (keys.length > 0)
      await this.#exec('write', this.#q.removeLocal, [[...new Set(keys)], tenant, bucket, uid]);
    return this.#afterLocalChange(tenant, bucket, uid);
  }

  /** Uids of stored nodes whose merged tags have `key` (and, if given, exactly `value`), sorted. */
  async findByTag(tenant: string, key: string, value?: string, opts?: AbortOptions): Promise<string[]> {
    opts = this.#check(tenant, opts);
    if (typeof key !== 'string' || key === '') throw validationError('key', 'a non-empty tag key', key);
    const rows =
      value === undefined
        ? await this.#rows('findByTag', this.#q.findKey, [tenant, key])
        : await this.#rows('findByTag', this.#q.findKeyValue, [tenant, key, value]);
    return [...new Set(rows.map((r) => r.get('uid') as string))].sort();
  }

  /** Shut down the driver client when the store created it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownClient) await this.#client.shutdown();
  }
}
