/**
 * Conversions between a provider {@link Node} as stored and the inventory's {@link InventoryNode}.
 */
import type { Node } from '../providers/types.js';
import { mergeTags, type StoredNode } from './inventory-store.js';
import type { InventoryNode } from './types.js';

/**
 * The inventory's view of a provider node. Every field is always present (optional ones may be
 * `undefined`), so all inventory nodes share one object shape: property reads in queries and diffs
 * stay monomorphic, and no spread or rest copy is needed (both measured slow at 100k nodes).
 */
export function toInventoryNode(
  node: Node,
  localTags: Readonly<Record<string, string>>,
  stale: Pick<StoredNode, 'stale' | 'staleSince' | 'staleReason'>,
): InventoryNode {
  return {
    uid: node.uid,
    id: node.id,
    name: node.name,
    provider: node.provider,
    kind: node.kind,
    state: node.state,
    rawState: node.rawState,
    region: node.region,
    zone: node.zone,
    publicIps: node.publicIps,
    privateIps: node.privateIps,
    size: node.size,
    image: node.image,
    createdAt: node.createdAt,
    tags: node.tags,
    extra: node.extra,
    localTags,
    mergedTags: mergeTags(node.tags, localTags),
    stale: stale.stale,
    staleSince: stale.stale ? stale.staleSince : undefined,
    staleReason: stale.stale ? stale.staleReason : undefined,
  };
}

/** The provider node inside an inventory node, without `undefined` optional fields. */
export function toStored(n: InventoryNode): StoredNode {
  const node: Node = {
    uid: n.uid,
    id: n.id,
    name: n.name,
    provider: n.provider,
    kind: n.kind,
    state: n.state,
    rawState: n.rawState,
    publicIps: n.publicIps,
    privateIps: n.privateIps,
    tags: n.tags,
    extra: n.extra,
  };
  if (n.region !== undefined) node.region = n.region;
  if (n.zone !== undefined) node.zone = n.zone;
  if (n.size !== undefined) node.size = n.size;
  if (n.image !== undefined) node.image = n.image;
  if (n.createdAt !== undefined) node.createdAt = n.createdAt;
  const out: StoredNode = { node, stale: n.stale };
  if (n.stale) {
    if (n.staleSince !== undefined) out.staleSince = n.staleSince;
    if (n.staleReason !== undefined) out.staleReason = n.staleReason;
  }
  return out;
}
