/**
 * The nodes an {@link Inventory} holds, in memory, and the state transitions a sync or a local-tag
 * edit makes to them. No I/O and no events: the Inventory persists a planned change first, then
 * commits it here and publishes it.
 */

import type { Logger } from '../core.js';
import { FleetwatchError } from '../errors.js';
import type { Node } from '../providers/types.js';
import { diffNodes, diffTags } from './diff.js';
import { toInventoryNode } from './inventory-node.js';
import { type InventorySnapshot, mergeTags } from './inventory-store.js';
import type { InventoryChange, InventoryNode, NodeChangedEvent, ProviderSyncReport } from './types.js';

/** A change to apply: a public change, or a stale node seen again unchanged (no event). */
export type Applied = InventoryChange | { type: 'unstale'; node: InventoryNode };

/** What one successful listing changes: the events to publish, the nodes to store and the uids to delete. */
export interface ListingPlan {
  readonly events: Applied[];
  readonly puts: InventoryNode[];
  readonly removedUids: string[];
}

const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

/** The held nodes by uid and by provider, with the local tags, first seen first. */
export class NodeTable {
  readonly #nodes = new Map<string, InventoryNode>();
  readonly #byProvider = new Map<string, Set<string>>();
  readonly #localTags = new Map<string, Readonly<Record<string, string>>>();

  /** A table for the given provider ids (nodes of any other provider are refused on restore). */
  constructor(providerIds: Iterable<string>) {
    for (const id of providerIds) this.#byProvider.set(id, new Set());
  }

  /** Number of nodes held. */
  get size(): number {
    return this.#nodes.size;
  }

  /** One node by uid. */
  get(uid: string): InventoryNode | undefined {
    return this.#nodes.get(uid);
  }

  /** Every node held, first seen first. */
  values(): IterableIterator<InventoryNode> {
    return this.#nodes.values();
  }

  /** How many nodes a provider has. */
  countOf(providerId: string): number {
    return this.#byProvider.get(providerId)?.size ?? 0;
  }

  /** Take in a stored snapshot (nodes of unconfigured providers are logged and left out). */
  restore(snap: InventorySnapshot, logger: Logger): void {
    for (const [uid, tags] of snap.localTags) this.#localTags.set(uid, Object.freeze({ ...tags }));
    for (const s of snap.nodes) {
      const uids = this.#byProvider.get(s.node.provider);
      if (uids === undefined) {
        logger.warn(
          { uid: s.node.uid, provider: s.node.provider },
          'stored node of an unconfigured provider ignored',
        );
        continue;
      }
      uids.add(s.node.uid);
      this.#nodes.set(s.node.uid, toInventoryNode(s.node, this.#localTags.get(s.node.uid) ?? NO_TAGS, s));
    }
  }

  /** Diff one successful listing of a provider against what is held; changes nothing. */
  plan(providerId: string, listed: ReadonlyMap<string, Node>): ListingPlan {
    const events: Applied[] = [];
    const puts: InventoryNode[] = [];
    for (const [uid, node] of listed) {
      const prev = this.#nodes.get(uid);
      if (prev === undefined) {
        const added = toInventoryNode(node, this.#localTags.get(uid) ?? NO_TAGS, { stale: false });
        events.push({ type: 'added', node: added });
        puts.push(added);
        continue;
      }
      const changes = diffNodes(prev, node);
      if (changes.length === 0 && !prev.stale) continue;
      const next = toInventoryNode(node, prev.localTags, { stale: false });
      puts.push(next);
      if (changes.length > 0) events.push({ type: 'changed', node: next, previous: prev, changes });
      else events.push({ type: 'unstale', node: next });
    }
    const removedUids: string[] = [];
    for (const uid of this.#byProvider.get(providerId)!) {
      if (listed.has(uid)) continue;
      removedUids.push(uid);
      events.push({ type: 'removed', node: this.#nodes.get(uid)! });
    }
    return { events, puts, removedUids };
  }

  /** Commit a planned listing (after it was stored), counting it in `report`. */
  commit(providerId: string, plan: ListingPlan, report: ProviderSyncReport): void {
    const held = this.#byProvider.get(providerId)!;
    for (const ev of plan.events) {
      if (ev.type === 'removed') {
        this.#nodes.delete(ev.node.uid);
        this.#localTags.delete(ev.node.uid);
        held.delete(ev.node.uid);
        report.removed++;
      } else {
        this.#nodes.set(ev.node.uid, ev.node);
        held.add(ev.node.uid);
        if (ev.type === 'added') report.added++;
        else if (ev.type === 'changed') report.changed++;
      }
    }
  }

  /**
   * Mark a provider's nodes stale for `reason` (keeping `staleSince` of nodes already stale);
   * returns the nodes that changed.
   */
  markStale(providerId: string, reason: string, now: number): InventoryNode[] {
    const updated: InventoryNode[] = [];
    for (const uid of this.#byProvider.get(providerId)!) {
      const prev = this.#nodes.get(uid)!;
      if (prev.stale && prev.staleReason === reason) continue;
      updated.push(
        toInventoryNode(prev, prev.localTags, {
          stale: true,
          staleSince: prev.staleSince ?? now,
          staleReason: reason,
        }),
      );
    }
    for (const n of updated) this.#nodes.set(n.uid, n);
    return updated;
  }

  /**
   * Replace a node's local tags with `local` (as the store now holds them). Returns the node and,
   * when its tags changed, the `changed` event to publish.
   */
  setLocalTags(
    uid: string,
    local: Record<string, string>,
  ): { node: InventoryNode; change?: NodeChangedEvent } {
    const frozen = Object.freeze({ ...local });
    this.#localTags.set(uid, frozen);
    const prev = this.#nodes.get(uid);
    if (prev === undefined) throw new FleetwatchError('E_NOT_FOUND', `node ${uid} was removed meanwhile`);
    const changes = diffTags('localTags', prev.localTags, frozen, undefined);
    if (changes === undefined) return { node: prev };
    const next: InventoryNode = { ...prev, localTags: frozen, mergedTags: mergeTags(prev.tags, frozen) };
    this.#nodes.set(uid, next);
    return { node: next, change: { type: 'changed', node: next, previous: prev, changes } };
  }
}
