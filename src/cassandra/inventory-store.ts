/**
 * The Cassandra {@link InventoryStore}: nodes, local tags and a merged-tag index in three tables
 * (see ./inventory-schema.ts). Prepared statements only, every query restricted by its full
 * partition key (no ALLOW FILTERING), no multi-partition batches, keyspace validated before it
 * reaches CQL. Statements run through ./inventory-cql.ts; rows are built and read by
 * ./inventory-rows.ts.
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
  CONNECTION_OPTION_KEYS,
  createClient,
  DEFAULT_REPLICATION,
  validateConnectionOptions,
} from './connection.js';
import { type Client, cassandra } from './driver.js';
import { toStoreError } from './driver-errors.js';
import { InventoryCql } from './inventory-cql.js';
import {
  decodeNode,
  type IndexEntry,
  indexChanges,
  nodeRowParams,
  storedNodeOf,
  type TagChange,
  type Tags,
  tagsOf,
} from './inventory-rows.js';
import { byBucket, INVENTORY_BUCKETS, INVENTORY_MIGRATIONS, inventoryBucket } from './inventory-schema.js';
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

const KEYS = [...CONNECTION_OPTION_KEYS, 'concurrency', 'logger', 'signal'] as const;

/**
 * Size caps of one unlogged same-partition batch, under Cassandra's default 5 KiB warning
 * threshold (`batch_size_warn_threshold`).
 */
const INDEX_BATCH_BYTES = 2048;
const NODE_BATCH_BYTES = 4096;

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
  readonly #cql: InventoryCql;
  readonly #q: InventoryCql['q'];
  #closed = false;

  private constructor(client: Client, ownClient: boolean, keyspace: string, concurrency: number) {
    this.#client = client;
    this.#ownClient = ownClient;
    this.#cql = new InventoryCql(client, keyspace, concurrency);
    this.#q = this.#cql.q;
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

  /** Everything stored for the tenant: its nodes and local tags. */
  async load(tenant: string, opts?: AbortOptions): Promise<InventorySnapshot> {
    opts = this.#check(tenant, opts);
    const buckets = Array.from({ length: INVENTORY_BUCKETS }, (_, b) => b);
    const nodes: StoredNode[] = [];
    const localTags = new Map<string, Tags>();
    await mapLimit(buckets, 4, async (b) => {
      throwIfAborted(opts.signal);
      for (const row of await this.#cql.rows('load', this.#q.loadNodes, [tenant, b])) {
        const s = storedNodeOf(row);
        if (s !== undefined) nodes.push(s);
      }
      for (const row of await this.#cql.rows('load', this.#q.loadLocal, [tenant, b])) {
        const tags = tagsOf(row.get('tags'));
        if (Object.keys(tags).length > 0) localTags.set(row.get('uid') as string, tags);
      }
    });
    return { nodes, localTags };
  }

  /** The stored node rows (node and indexed tags) and local tags of uids of one bucket. */
  async #readState(tenant: string, bucket: number, uids: readonly string[]) {
    const [nodeRows, localRows] = await Promise.all([
      this.#cql.readMany(this.#q.getNodes, tenant, bucket, uids),
      this.#cql.readMany(this.#q.getLocals, tenant, bucket, uids),
    ]);
    return (uid: string): { node: Node | undefined; indexTags: Tags; local: Tags } => {
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
   * Move the tag index of many uids from `before` to `after` (merged views): add the new entries,
   * run `write` (the rows that record `after`), then delete the old entries. A crash can leave an
   * extra index entry, never a missing one.
   */
  async #reindex(
    tenant: string,
    changes: readonly TagChange[],
    write: () => Promise<unknown>,
  ): Promise<void> {
    const { adds, deletes } = indexChanges(changes);
    const indexRows = (query: string, entries: readonly IndexEntry[]) =>
      entries.map((e) => ({ query, params: [tenant, e.key, e.value, e.uid] }));
    await this.#cql.batches(indexRows(this.#q.indexAdd, adds), INDEX_BATCH_BYTES);
    await write();
    await this.#cql.batches(indexRows(this.#q.indexDelete, deletes), INDEX_BATCH_BYTES);
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
      const rows = planned.map(({ s, after }) => ({
        query: this.#q.putNode,
        params: nodeRowParams(tenant, bucket, s, after),
      }));
      await this.#reindex(tenant, planned, () => this.#cql.batches(rows, NODE_BATCH_BYTES));
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
      await this.#reindex(tenant, planned, () => this.#cql.batches(deletes, INDEX_BATCH_BYTES));
    });
  }

  /** After local tags changed: re-merge with the stored node (if any) and fix its index. */
  async #afterLocalChange(tenant: string, bucket: number, uid: string): Promise<Tags> {
    const { node, indexTags, local } = (await this.#readState(tenant, bucket, [uid]))(uid);
    if (node !== undefined) {
      const merged = mergeTags(node.tags, local);
      await this.#reindex(tenant, [{ uid, before: indexTags, after: merged }], () =>
        this.#cql.exec('write', this.#q.setIndexTags, [merged, tenant, bucket, uid]),
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
      await this.#cql.exec('write', this.#q.addLocal, [valid, tenant, bucket, uid]);
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
      await this.#cql.exec('write', this.#q.removeLocal, [[...new Set(keys)], tenant, bucket, uid]);
    return this.#afterLocalChange(tenant, bucket, uid);
  }

  /** Uids of stored nodes whose merged tags have `key` (and, if given, exactly `value`), sorted. */
  async findByTag(tenant: string, key: string, value?: string, opts?: AbortOptions): Promise<string[]> {
    opts = this.#check(tenant, opts);
    if (typeof key !== 'string' || key === '') throw validationError('key', 'a non-empty tag key', key);
    const rows =
      value === undefined
        ? await this.#cql.rows('findByTag', this.#q.findKey, [tenant, key])
        : await this.#cql.rows('findByTag', this.#q.findKeyValue, [tenant, key, value]);
    return [...new Set(rows.map((r) => r.get('uid') as string))].sort();
  }

  /** Shut down the driver client when the store created it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownClient) await this.#client.shutdown();
  }
}
