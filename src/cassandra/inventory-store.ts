/**
 * The Cassandra {@link InventoryStore}: nodes, local tags and a merged-tag index in three tables
 * (see ./inventory-schema.ts). Prepared statements only, every query restricted by its full
 * partition key (no ALLOW FILTERING), no multi-partition batches, keyspace validated before it
 * reaches CQL.
 *
 * @example
 * ```ts
 * import { CassandraInventoryStore } from '@fleetwatch/sdk/cassandra';
 * const store = await CassandraInventoryStore.connect({
 *   contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1', keyspace: 'fleetwatch' });
 * const inv = new Inventory({ providers, store });
 * ```
 */
import cassandra, { type Client } from 'cassandra-driver';
import { type AbortOptions, type Logger, rejectUnknownKeys, silentLogger } from '../core.js';
import { FleetwatchError, throwIfAborted, validationError } from '../errors.js';
import {
  type InventorySnapshot,
  type InventoryStore,
  mergeTags,
  type StoredNode,
  validateTags,
  validateTenant,
} from '../inventory/store.js';
import type { Node } from '../providers/types.js';
import { mapLimit } from './concurrency.js';
import { toStoreError } from './driver-errors.js';
import {
  INVENTORY_BUCKETS,
  INVENTORY_MIGRATIONS,
  inventoryBucket,
  inventoryQueries,
} from './inventory-schema.js';
import { ensureKeyspace, ensureSchema, type ReplicationOptions, validateIdentifier } from './schema.js';

/** Options of {@link CassandraInventoryStore.connect}. */
export interface CassandraInventoryStoreOptions {
  /** `host` or `host:port` of some nodes. Required unless `client` is given. */
  contactPoints?: string[];
  /** The local data center (`datacenter1` on a default single node). Required unless `client`. */
  localDataCenter?: string;
  /** Keyspace, created when missing: 1–48 chars of `[a-z0-9_]`, starting with a letter. */
  keyspace: string;
  /** Replication when the keyspace is created. @default { class: 'SimpleStrategy', replicationFactor: 1 } */
  replication?: ReplicationOptions;
  /** Username and password (plain-text auth). Never logged. */
  credentials?: { username: string; password: string };
  /** Your own driver client; the store then never shuts it down. */
  client?: Client;
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

type Tags = Record<string, string>;

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

/** The Cassandra implementation of {@link InventoryStore}. Create it with {@link CassandraInventoryStore.connect}. */
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
    const keyspace = validateIdentifier(options.keyspace, 'options.keyspace');
    const concurrency = options.concurrency ?? 32;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)
      throw validationError('options.concurrency', 'an integer 1-1024', concurrency);
    let client = options.client;
    const own = client === undefined;
    if (client === undefined) {
      if (!Array.isArray(options.contactPoints) || options.contactPoints.length === 0)
        throw validationError(
          'options.contactPoints',
          'a non-empty array of host[:port]',
          options.contactPoints,
        );
      if (typeof options.localDataCenter !== 'string' || options.localDataCenter === '')
        throw validationError('options.localDataCenter', 'a data center name', options.localDataCenter);
      client = new cassandra.Client({
        contactPoints: options.contactPoints,
        localDataCenter: options.localDataCenter,
        ...(options.credentials === undefined
          ? {}
          : {
              authProvider: new cassandra.auth.PlainTextAuthProvider(
                options.credentials.username,
                options.credentials.password,
              ),
            }),
        queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
      });
    }
    try {
      throwIfAborted(options.signal);
      await client.connect();
      await ensureKeyspace(
        client,
        keyspace,
        options.replication ?? { class: 'SimpleStrategy', replicationFactor: 1 },
      );
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

  #check(tenant: string, signal: AbortSignal | undefined): void {
    validateTenant(tenant);
    if (this.#closed) throw new FleetwatchError('E_STORE_UNAVAILABLE', 'inventory store is closed');
    throwIfAborted(signal);
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

  async load(tenant: string, opts: AbortOptions = {}): Promise<InventorySnapshot> {
    this.#check(tenant, opts.signal);
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

  async #nodeRow(tenant: string, bucket: number, uid: string): Promise<NodeRow> {
    const row = (await this.#exec('read', this.#q.getNode, [tenant, bucket, uid])).first();
    if (row === null) return { node: undefined, indexTags: {} };
    return { node: decodeNode(row.get('node') as string), indexTags: tagsOf(row.get('index_tags')) };
  }

  async #localTags(tenant: string, bucket: number, uid: string): Promise<Tags> {
    const row = (await this.#exec('read', this.#q.getLocal, [tenant, bucket, uid])).first();
    return row === null ? {} : tagsOf(row.get('tags'));
  }

  /**
   * Move the tag index of one uid from `before` to `after` (merged views): add the new entries,
   * run `write` (the row that records `after`), then delete the old entries. A crash can leave an
   * extra index entry, never a missing one.
   */
  async #reindex(
    tenant: string,
    uid: string,
    before: Tags,
    after: Tags,
    write: () => Promise<unknown>,
  ): Promise<void> {
    const adds: Promise<unknown>[] = [];
    for (const [k, v] of Object.entries(after)) {
      if (k !== '' && before[k] !== v) adds.push(this.#exec('index', this.#q.indexAdd, [tenant, k, v, uid]));
    }
    await Promise.all(adds);
    await write();
    const deletes: Promise<unknown>[] = [];
    for (const [k, v] of Object.entries(before)) {
      if (k !== '' && (!Object.hasOwn(after, k) || after[k] !== v))
        deletes.push(this.#exec('index', this.#q.indexDelete, [tenant, k, v, uid]));
    }
    await Promise.all(deletes);
  }

  async putNodes(tenant: string, nodes: readonly StoredNode[], opts: AbortOptions = {}): Promise<void> {
    this.#check(tenant, opts.signal);
    await mapLimit(nodes, this.#concurrency, async (s) => {
      throwIfAborted(opts.signal);
      const uid = s.node.uid;
      const bucket = inventoryBucket(uid);
      const [prev, local] = await Promise.all([
        this.#nodeRow(tenant, bucket, uid),
        this.#localTags(tenant, bucket, uid),
      ]);
      const merged = mergeTags(s.node.tags, local);
      await this.#reindex(tenant, uid, prev.indexTags, merged, () =>
        this.#exec('write', this.#q.putNode, [
          tenant,
          bucket,
          uid,
          s.node.provider,
          JSON.stringify(s.node),
          s.stale,
          s.stale && s.staleSince !== undefined ? new Date(s.staleSince) : null,
          s.stale && s.staleReason !== undefined ? s.staleReason : null,
          merged,
        ]),
      );
    });
  }

  async removeNodes(tenant: string, uids: readonly string[], opts: AbortOptions = {}): Promise<void> {
    this.#check(tenant, opts.signal);
    await mapLimit(uids, this.#concurrency, async (uid) => {
      throwIfAborted(opts.signal);
      const bucket = inventoryBucket(uid);
      const prev = await this.#nodeRow(tenant, bucket, uid);
      await this.#reindex(tenant, uid, prev.indexTags, {}, () =>
        Promise.all([
          this.#exec('write', this.#q.deleteNode, [tenant, bucket, uid]),
          this.#exec('write', this.#q.deleteLocal, [tenant, bucket, uid]),
        ]),
      );
    });
  }

  /** After local tags changed: re-merge with the stored node (if any) and fix its index. */
  async #afterLocalChange(tenant: string, bucket: number, uid: string): Promise<Tags> {
    const [row, local] = await Promise.all([
      this.#nodeRow(tenant, bucket, uid),
      this.#localTags(tenant, bucket, uid),
    ]);
    if (row.node !== undefined) {
      const merged = mergeTags(row.node.tags, local);
      await this.#reindex(tenant, uid, row.indexTags, merged, () =>
        this.#exec('write', this.#q.setIndexTags, [merged, tenant, bucket, uid]),
      );
    }
    return local;
  }

  async setLocalTags(
    tenant: string,
    uid: string,
    tags: Readonly<Tags>,
    opts: AbortOptions = {},
  ): Promise<Tags> {
    this.#check(tenant, opts.signal);
    const valid = validateTags(tags);
    const bucket = inventoryBucket(uid);
    if (Object.keys(valid).length > 0)
      await this.#exec('write', this.#q.addLocal, [valid, tenant, bucket, uid]);
    return this.#afterLocalChange(tenant, bucket, uid);
  }

  async removeLocalTags(
    tenant: string,
    uid: string,
    keys: readonly string[],
    opts: AbortOptions = {},
  ): Promise<Tags> {
    this.#check(tenant, opts.signal);
    const bucket = inventoryBucket(uid);
    if (keys.length > 0)
      await this.#exec('write', this.#q.removeLocal, [[...new Set(keys)], tenant, bucket, uid]);
    return this.#afterLocalChange(tenant, bucket, uid);
  }

  async findByTag(tenant: string, key: string, value?: string, opts: AbortOptions = {}): Promise<string[]> {
    this.#check(tenant, opts.signal);
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
