/**
 * The row codec of {@link CassandraInventoryStore}: stored nodes to and from their
 * `inventory_nodes` rows, tag maps as the driver returns them, and the tag-index entries a change
 * of merged tags adds and deletes (tables in ./inventory-schema.ts).
 */
import type { StoredNode } from '../inventory/inventory-store.js';
import type { Node } from '../providers/types.js';
import type { cassandra } from './driver.js';

/** A tag map: keys to string values. */
export type Tags = Record<string, string>;

/** One row of the tag index: node `uid` has the merged tag `key` = `value`. */
export interface IndexEntry {
  key: string;
  value: string;
  uid: string;
}

/** A change of one node's merged tags, from what the tag index holds to what it should hold. */
export interface TagChange {
  uid: string;
  before: Tags;
  after: Tags;
}

/** A copy of a driver `map<text, text>` value (`null` when the column is unset). */
export function tagsOf(value: unknown): Tags {
  if (value === null || value === undefined) return {};
  return { ...(value as Tags) };
}

/** The node of a `node` column (JSON, `createdAt` back to a `Date`). */
export function decodeNode(json: string): Node {
  const node = JSON.parse(json) as Node & { createdAt?: string | Date };
  if (typeof node.createdAt === 'string') node.createdAt = new Date(node.createdAt);
  return node;
}

/**
 * The stored node of an `inventory_nodes` row, or undefined for a row without a node (one an index
 * update racing a removal can leave behind).
 */
export function storedNodeOf(row: cassandra.types.Row): StoredNode | undefined {
  const json = row.get('node');
  if (typeof json !== 'string') return undefined;
  const s: StoredNode = { node: decodeNode(json), stale: row.get('stale') === true };
  if (s.stale) {
    const since = row.get('stale_since') as Date | null;
    const reason = row.get('stale_reason') as string | null;
    if (since !== null) s.staleSince = since.getTime();
    if (reason !== null) s.staleReason = reason;
  }
  return s;
}

/** The bound values of the `putNode` statement for `s`, whose merged tags are `indexTags`. */
export function nodeRowParams(tenant: string, bucket: number, s: StoredNode, indexTags: Tags): unknown[] {
  return [
    tenant,
    bucket,
    s.node.uid,
    s.node.provider,
    JSON.stringify(s.node),
    s.stale,
    s.stale && s.staleSince !== undefined ? new Date(s.staleSince) : null,
    s.stale && s.staleReason !== undefined ? s.staleReason : null,
    indexTags,
  ];
}

/**
 * The tag-index entries to add (tags of `after` the index does not hold yet) and to delete (tags of
 * `before` that are gone or changed) for some changes. Empty keys are never indexed.
 */
export function indexChanges(changes: readonly TagChange[]): { adds: IndexEntry[]; deletes: IndexEntry[] } {
  const adds: IndexEntry[] = [];
  const deletes: IndexEntry[] = [];
  for (const { uid, before, after } of changes) {
    for (const [key, value] of Object.entries(after))
      if (key !== '' && before[key] !== value) adds.push({ key, value, uid });
    for (const [key, value] of Object.entries(before))
      if (key !== '' && (!Object.hasOwn(after, key) || after[key] !== value))
        deletes.push({ key, value, uid });
  }
  return { adds, deletes };
}
