/**
 * How both Cassandra stores send their statements: every one prepared and idempotent, a partition's
 * writes as one mutation, a SELECT read to its last page.
 */
import { throwIfAborted } from '../errors.js';
import type { Client, types } from './driver.js';
import { toStoreError } from './driver-errors.js';

/** One statement and its bound values. */
export interface Statement {
  query: string;
  params: unknown[];
}

/**
 * Send statements of one partition at `consistency`: one alone, several as an unlogged batch (one
 * mutation). Raw driver errors propagate (the metrics write buffer tells transient ones apart).
 *
 * @example
 * ```ts
 * await sendPartition(client, [{ query, params }], cassandra.types.consistencies.localQuorum);
 * ```
 */
export async function sendPartition(
  client: Client,
  stmts: readonly Statement[],
  consistency: number,
): Promise<void> {
  const options = { prepare: true, isIdempotent: true, consistency };
  if (stmts.length === 1) {
    const s = stmts[0] as Statement;
    await client.execute(s.query, s.params, options);
    return;
  }
  await client.batch(
    stmts.map((s) => ({ query: s.query, params: s.params })),
    { ...options, logged: false },
  );
}

/** How {@link selectAll} reads. */
export interface SelectOptions {
  consistency: number;
  /** Rows per page. */
  fetchSize: number;
  /** Checked before each page. */
  signal?: AbortSignal | undefined;
  /** Names the operation in a failure (`E_STORE_UNAVAILABLE` … `during read`). */
  what: string;
  /** Called with each page's row count. */
  onPage?: (rows: number) => void;
}

/**
 * Every row of a (paged) SELECT, all pages read; a driver failure becomes a `FleetwatchError` naming
 * `o.what`, an abort `E_ABORTED`.
 *
 * @example
 * ```ts
 * const rows = await selectAll(client, query, [tenant], { consistency, fetchSize: 1000, what: 'load' });
 * ```
 */
export async function selectAll(
  client: Client,
  query: string,
  params: unknown[],
  o: SelectOptions,
): Promise<types.Row[]> {
  const out: types.Row[] = [];
  let pageState: string | undefined;
  do {
    throwIfAborted(o.signal);
    let rs: types.ResultSet;
    try {
      rs = await client.execute(query, params, {
        prepare: true,
        isIdempotent: true,
        consistency: o.consistency,
        fetchSize: o.fetchSize,
        ...(pageState !== undefined ? { pageState } : {}),
      });
    } catch (err) {
      throw toStoreError(err, o.what);
    }
    for (const row of rs.rows) out.push(row);
    o.onPage?.(rs.rows.length);
    pageState = rs.pageState ?? undefined;
  } while (pageState !== undefined && pageState !== null);
  return out;
}
