/**
 * The node routes: one secret-free view of a node, the filtered/sorted/paged listing, and the summary
 * across providers.
 */

import type { AlarmState } from '../checks/alarm.js';
import { FleetwatchError, validationError } from '../errors.js';
import type { Inventory } from '../inventory/inventory.js';
import { toStored } from '../inventory/inventory-node.js';
import type { InventoryNode, SyncReport } from '../inventory/types.js';
import type { NodeState } from '../providers/types.js';
import type { NodeSortField, NodesResponse, NodeView, ProviderSummary, SummaryResponse } from './types.js';

/** The API's view of a node: `extra` is never included (provider fields may carry secrets). */
export function nodeView(n: InventoryNode): NodeView {
  // the provider node's own fields (optional ones only when set), as the inventory stores them
  const { extra: _extra, tags: _providerTags, createdAt, ...node } = toStored(n).node;
  const v: NodeView = { ...node, tags: n.mergedTags, localTags: n.localTags, stale: n.stale };
  if (createdAt !== undefined) v.createdAt = createdAt.getTime();
  if (n.staleSince !== undefined) v.staleSince = n.staleSince;
  if (n.staleReason !== undefined) v.staleReason = n.staleReason;
  return v;
}

const SORTS: readonly NodeSortField[] = ['name', 'provider', 'state', 'region', 'createdAt', 'uid'];

function sortKey(n: InventoryNode, f: NodeSortField): string | number {
  if (f === 'createdAt') return n.createdAt?.getTime() ?? 0;
  return n[f] ?? '';
}

/** Read an integer query parameter within bounds. */
export function intParam(p: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const raw = p.get(name);
  if (raw === null || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw validationError(name, `an integer from ${min} to ${max}`, raw);
  return n;
}

/** `GET /api/v1/nodes?q=&sort=&order=&offset=&limit=`. */
export function listNodes(inv: Inventory, p: URLSearchParams, maxPageSize: number): NodesResponse {
  const q = p.get('q') ?? '';
  const sortRaw = p.get('sort') ?? 'name';
  if (!(SORTS as readonly string[]).includes(sortRaw))
    throw validationError('sort', `one of ${SORTS.join(', ')}`, sortRaw);
  const sort = sortRaw as NodeSortField;
  const orderRaw = p.get('order') ?? 'asc';
  if (orderRaw !== 'asc' && orderRaw !== 'desc') throw validationError('order', 'asc or desc', orderRaw);
  const offset = intParam(p, 'offset', 0, 0, 1_000_000_000);
  const limit = intParam(p, 'limit', Math.min(100, maxPageSize), 1, maxPageSize);
  let matched: InventoryNode[];
  try {
    matched = q.trim() === '' ? inv.nodes() : inv.query(q);
  } catch (err) {
    if (err instanceof FleetwatchError && err.code === 'E_VALIDATION') {
      throw new FleetwatchError('E_VALIDATION', err.message, {
        path: 'q',
        ...(err.position !== undefined ? { position: err.position } : {}),
      });
    }
    throw err;
  }
  const dir = orderRaw === 'asc' ? 1 : -1;
  // decorate once: the key of each node is read once, not per comparison
  const keyed = matched.map((n) => ({ k: sortKey(n, sort), uid: n.uid, n }));
  keyed.sort((a, b) => (a.k < b.k ? -dir : a.k > b.k ? dir : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  const page = keyed.slice(offset, offset + limit).map((x) => nodeView(x.n));
  return { q, total: matched.length, offset, limit, sort, order: orderRaw, nodes: page };
}

function bump<K extends string>(m: Partial<Record<K, number>>, k: K): void {
  m[k] = (m[k] ?? 0) + 1;
}

/** `GET /api/v1/summary`: counts by provider, region and state; stale providers and their errors. */
export function summarize(
  inv: Inventory,
  lastSync: SyncReport | undefined,
  checks: Partial<Record<AlarmState, number>>,
  readOnly: boolean,
  now: number,
): SummaryResponse {
  const byProvider = new Map<string, ProviderSummary>();
  for (const s of inv.providerStatus()) {
    const p: ProviderSummary = { id: s.provider, nodes: 0, byState: {}, byRegion: {}, staleNodes: 0 };
    if (s.lastSuccessAt !== undefined) p.lastSuccessAt = s.lastSuccessAt;
    if (s.lastError !== undefined) p.lastError = { code: s.lastError.code, message: s.lastError.message };
    byProvider.set(s.provider, p);
  }
  const byState: Partial<Record<NodeState, number>> = {};
  let total = 0;
  for (const n of inv.nodes()) {
    total++;
    bump(byState, n.state);
    const p = byProvider.get(n.provider);
    if (p === undefined) continue;
    p.nodes++;
    p.kind ??= n.kind;
    bump(p.byState, n.state);
    bump(p.byRegion, n.region ?? '-');
    if (n.stale) p.staleNodes++;
  }
  const out: SummaryResponse = {
    now,
    nodes: total,
    byState,
    providers: [...byProvider.values()],
    checks,
    readOnly,
  };
  if (lastSync !== undefined)
    out.lastSync = { startedAt: lastSync.startedAt, finishedAt: lastSync.finishedAt, ok: lastSync.ok };
  return out;
}
