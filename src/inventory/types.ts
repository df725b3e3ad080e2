/**
 * The inventory's own view of a node and the typed event map of {@link Inventory}.
 */
import type { FleetwatchError } from '../errors.js';
import type { Node } from '../providers/types.js';

/**
 * A node as the inventory keeps it: the provider's {@link Node} (whose `tags` stay the provider's
 * tags, a read-only mirror) plus the metadata container and staleness. Treat it as immutable: every
 * change produces a new object.
 */
export interface InventoryNode extends Node {
  /** Tags set locally with `inv.setTags()`; kept across syncs and restarts. */
  readonly localTags: Readonly<Record<string, string>>;
  /**
   * The merged view queries use for `tag:`: provider tags with local tags overriding on the same
   * key.
   */
  readonly mergedTags: Readonly<Record<string, string>>;
  /** True while the node's provider failed to list it: this is its last known state. */
  readonly stale: boolean;
  /** When the node became stale (epoch ms), while `stale`. */
  readonly staleSince?: number;
  /** The error code and message of the failed listing, while `stale`. */
  readonly staleReason?: string;
}

/** One changed field of a node: a top-level field, or `tags.<key>` / `localTags.<key>`. */
export interface NodeFieldChange {
  /** `state`, `name`, `publicIps`, …, or `tags.<key>` / `localTags.<key>` for one tag. */
  field: string;
  /** The value before (`undefined` when a tag was added). */
  before: unknown;
  /** The value after (`undefined` when a tag was removed). */
  after: unknown;
}

/**
 * A node change: the payload of the `added`, `removed` and `changed` events, and what `inv.watch()`
 * yields. Narrow on `type`; `Extract<InventoryChange, { type: 'changed' }>` names one kind.
 *
 * @example
 * ```ts
 * declare const change: InventoryChange;
 * if (change.type === 'changed') console.log(change.node.uid, change.changes.map((c) => c.field));
 * ```
 */
export type InventoryChange =
  | {
      /** A node appeared. */
      type: 'added';
      /** The new node. */
      node: InventoryNode;
    }
  | {
      /** A node is gone. */
      type: 'removed';
      /** The node as it was last known. */
      node: InventoryNode;
    }
  | {
      /** A node's fields changed. */
      type: 'changed';
      /** The node after the change. */
      node: InventoryNode;
      /** The node before the change. */
      previous: InventoryNode;
      /** Every changed field, with its value before and after. */
      changes: NodeFieldChange[];
    };

/** Payload of `changed` (internal name; the public one is `Extract<InventoryChange, { type: 'changed' }>`). */
export type NodeChangedEvent = Extract<InventoryChange, { type: 'changed' }>;

/** The outcome of listing one provider during a sync. */
export interface ProviderSyncReport {
  /** Provider id. */
  provider: string;
  /** Nodes listed (0 when the listing failed). */
  nodes: number;
  /** Pages fetched, as the provider reported them through `onPage` (0 if it does not report). */
  pages: number;
  /** Wall time of the listing, in ms (from the injected clock). */
  durationMs: number;
  /** Nodes added by this listing. */
  added: number;
  /** Nodes changed by this listing. */
  changed: number;
  /** Nodes removed by this listing. */
  removed: number;
  /** The error when the listing failed: the provider's nodes were kept and marked stale. */
  error?: FleetwatchError;
}

/** The result of `inv.sync()`. */
export interface SyncReport {
  /** Epoch ms at start and end (injected clock). */
  startedAt: number;
  /** Epoch ms when the sync finished (injected clock). */
  finishedAt: number;
  /** One report per provider, in the order providers were given. */
  providers: ProviderSyncReport[];
  /** True when every provider listed successfully. */
  ok: boolean;
}

/** Payload of `progress`: one page of one provider was fetched. */
export interface SyncProgressEvent {
  provider: string;
  /** Pages so far for this provider. */
  pages: number;
  /** Nodes so far for this provider. */
  nodes: number;
  /** Providers finished so far in this sync, and in total. */
  providersDone: number;
  providersTotal: number;
}

/**
 * The typed event map of {@link Inventory} (eventemitter3). `error` carries background and
 * per-provider failures (with `error.provider` set for those); it is never thrown from a timer.
 */
export interface InventoryEvents {
  /** A node appeared in a provider's listing. */
  added: (event: Extract<InventoryChange, { type: 'added' }>) => void;
  /** A node is gone from a successful listing of its provider. */
  removed: (event: Extract<InventoryChange, { type: 'removed' }>) => void;
  /** A node's fields, provider tags or local tags changed. */
  changed: (event: Extract<InventoryChange, { type: 'changed' }>) => void;
  /** A provider's listing or a background sync failed (never thrown from a timer). */
  error: (error: FleetwatchError) => void;
  /** A sync finished; its report. */
  synced: (report: SyncReport) => void;
  /** A page of a provider's listing was fetched, or a provider finished. */
  progress: (event: SyncProgressEvent) => void;
}
