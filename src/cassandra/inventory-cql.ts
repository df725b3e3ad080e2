/**
 * How {@link CassandraInventoryStore} runs its statements (texts in ./inventory-schema.ts): all
 * prepared, idempotent and at LOCAL_QUORUM; reads paged to the end; uid lists read in `IN` chunks;
 * writes sent as unlogged batches of one partition each. Driver failures become `FleetwatchError`s
 * (./driver-errors.ts).
 */
import { mapLimit } from './concurrency.js';
import { type Client, cassandra } from './driver.js';
import { toStoreError } from './driver-errors.js';
import { inventoryQueries } from './inventory-schema.js';
import { type Statement, selectAll, sendPartition } from './statements.js';

/** Most uids in one `IN` list. */
const IN_CHUNK = 100;

const LOCAL_QUORUM = cassandra.types.consistencies.localQuorum;
const queryOptions = { prepare: true, isIdempotent: true, consistency: LOCAL_QUORUM };

/**
 * Group statements into batches of one partition each (same statement, same two first bound values:
 * every statement of the store binds its partition key `tenant, bucket` or `tenant, tag_key` first)
 * and of at most about `maxBytes` of data. A partition keeps its statements' order.
 */
function partitionBatches(rows: readonly Statement[], maxBytes: number): Statement[][] {
  const batches: Statement[][] = [];
  const open = new Map<string, { batch: Statement[]; bytes: number }>();
  for (const row of rows) {
    const size = row.params.reduce<number>((n, p) => n + (typeof p === 'string' ? p.length : 16), 0);
    const key = `${row.query}\u0000${String(row.params[0])}\u0000${String(row.params[1])}`;
    let current = open.get(key);
    if (current === undefined || current.bytes + size > maxBytes) {
      current = { batch: [], bytes: 0 };
      open.set(key, current);
      batches.push(current.batch);
    }
    current.batch.push(row);
    current.bytes += size;
  }
  return batches;
}

/**
 * The statements of one keyspace and their execution for the inventory store.
 *
 * @example
 * ```ts
 * const cql = new InventoryCql(client, 'fleetwatch', 32);
 * const rows = await cql.rows('findByTag', cql.q.findKey, ['acme', 'role']);
 * ```
 */
export class InventoryCql {
  /** The statement texts. */
  readonly q: ReturnType<typeof inventoryQueries>;
  readonly #client: Client;
  readonly #concurrency: number;

  /** `concurrency`: batches in flight at once in {@link InventoryCql.batches}. */
  constructor(client: Client, keyspace: string, concurrency: number) {
    this.#client = client;
    this.#concurrency = concurrency;
    this.q = inventoryQueries(keyspace);
  }

  /** Run one statement; a failure is a `FleetwatchError` naming `what`. */
  async exec(what: string, query: string, params: unknown[]): Promise<cassandra.types.ResultSet> {
    try {
      return await this.#client.execute(query, params, queryOptions);
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  /** Every row of a SELECT, all pages read. */
  rows(what: string, query: string, params: unknown[]): Promise<cassandra.types.Row[]> {
    return selectAll(this.#client, query, params, { consistency: LOCAL_QUORUM, fetchSize: 1000, what });
  }

  /** Rows of one bucket for many uids (`uid IN ?`, in chunks), by uid. */
  async readMany(
    query: string,
    tenant: string,
    bucket: number,
    uids: readonly string[],
  ): Promise<Map<string, cassandra.types.Row>> {
    const out = new Map<string, cassandra.types.Row>();
    for (let i = 0; i < uids.length; i += IN_CHUNK) {
      const rows = await this.rows('read', query, [tenant, bucket, uids.slice(i, i + IN_CHUNK)]);
      for (const row of rows) out.set(row.get('uid') as string, row);
    }
    return out;
  }

  /**
   * Write statements as unlogged batches of one partition and at most about `maxBytes` each (a batch
   * of one is sent alone), `concurrency` at a time.
   */
  async batches(rows: readonly Statement[], maxBytes: number): Promise<void> {
    await mapLimit(partitionBatches(rows, maxBytes), this.#concurrency, async (batch) => {
      try {
        await sendPartition(this.#client, batch, LOCAL_QUORUM);
      } catch (err) {
        throw toStoreError(err, 'write');
      }
    });
  }
}
