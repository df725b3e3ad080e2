/**
 * The inventory's Cassandra tables, as versioned migrations of component `inventory` (applied by
 * `ensureSchema` from ./schema.ts under the keyspace's `schema_version` table).
 *
 * - `inventory_nodes`: one row per node, partitioned by `(tenant, bucket)` where `bucket` is a hash
 *   of the uid modulo {@link INVENTORY_BUCKETS}, so loading a tenant reads a fixed set of bounded
 *   partitions and a single node is found by its uid alone. `index_tags` remembers which merged tags
 *   the tag index holds for the node, so they can be removed without a scan.
 * - `inventory_local_tags`: local tags per uid, same partitioning (a map, updated with `+` / `-`).
 * - `inventory_tag_index`: `(tenant, tag_key)` partitions clustered by value then uid, answering
 *   "which nodes have key" and "which have key=value" with one partition read.
 */
import type { Migration } from './schema.js';

/** Number of hash buckets per tenant. Fixed: changing it would orphan stored rows. */
export const INVENTORY_BUCKETS = 16;

/** The inventory's schema migrations. */
export const INVENTORY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'inventory nodes, local tags and tag index',
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.inventory_nodes (tenant text, bucket int, uid text, provider text, node text,` +
        ' stale boolean, stale_since timestamp, stale_reason text, index_tags map<text, text>,' +
        ' PRIMARY KEY ((tenant, bucket), uid))',
      `CREATE TABLE IF NOT EXISTS ${ks}.inventory_local_tags (tenant text, bucket int, uid text, tags map<text, text>,` +
        ' PRIMARY KEY ((tenant, bucket), uid))',
      `CREATE TABLE IF NOT EXISTS ${ks}.inventory_tag_index (tenant text, tag_key text, tag_value text, uid text,` +
        ' PRIMARY KEY ((tenant, tag_key), tag_value, uid))',
    ],
  },
];

/** The bucket of a uid: FNV-1a of its UTF-16 code units, modulo {@link INVENTORY_BUCKETS}. */
export function inventoryBucket(uid: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < uid.length; i++) {
    h ^= uid.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % INVENTORY_BUCKETS;
}

/** Group items by the bucket of their uid ({@link inventoryBucket}), in first-seen order. */
export function byBucket<T>(items: Iterable<T>, uidOf: (item: T) => string): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const item of items) {
    const b = inventoryBucket(uidOf(item));
    const list = out.get(b);
    if (list === undefined) out.set(b, [item]);
    else list.push(item);
  }
  return out;
}

/** Every CQL statement of the store (all prepared), for an already validated keyspace. */
export function inventoryQueries(ks: string) {
  return {
    loadNodes: `SELECT uid, node, stale, stale_since, stale_reason FROM ${ks}.inventory_nodes WHERE tenant = ? AND bucket = ?`,
    loadLocal: `SELECT uid, tags FROM ${ks}.inventory_local_tags WHERE tenant = ? AND bucket = ?`,
    getNodes: `SELECT uid, node, index_tags FROM ${ks}.inventory_nodes WHERE tenant = ? AND bucket = ? AND uid IN ?`,
    getLocals: `SELECT uid, tags FROM ${ks}.inventory_local_tags WHERE tenant = ? AND bucket = ? AND uid IN ?`,
    putNode:
      `INSERT INTO ${ks}.inventory_nodes (tenant, bucket, uid, provider, node, stale, stale_since, stale_reason,` +
      ' index_tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    setIndexTags: `UPDATE ${ks}.inventory_nodes SET index_tags = ? WHERE tenant = ? AND bucket = ? AND uid = ?`,
    deleteNode: `DELETE FROM ${ks}.inventory_nodes WHERE tenant = ? AND bucket = ? AND uid = ?`,
    addLocal: `UPDATE ${ks}.inventory_local_tags SET tags = tags + ? WHERE tenant = ? AND bucket = ? AND uid = ?`,
    removeLocal: `UPDATE ${ks}.inventory_local_tags SET tags = tags - ? WHERE tenant = ? AND bucket = ? AND uid = ?`,
    deleteLocal: `DELETE FROM ${ks}.inventory_local_tags WHERE tenant = ? AND bucket = ? AND uid = ?`,
    indexAdd: `INSERT INTO ${ks}.inventory_tag_index (tenant, tag_key, tag_value, uid) VALUES (?, ?, ?, ?)`,
    indexDelete: `DELETE FROM ${ks}.inventory_tag_index WHERE tenant = ? AND tag_key = ? AND tag_value = ? AND uid = ?`,
    findKey: `SELECT uid FROM ${ks}.inventory_tag_index WHERE tenant = ? AND tag_key = ?`,
    findKeyValue: `SELECT uid FROM ${ks}.inventory_tag_index WHERE tenant = ? AND tag_key = ? AND tag_value = ?`,
  };
}
