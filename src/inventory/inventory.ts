/**
 * The Inventory class: orchestration of syncs, local-tag edits, events and lifecycle. Its parts
 * live beside it: options (`inventory-options.ts`), held nodes (`node-table.ts`), one sync of every
 * provider (`sync.ts`), listing (`list.ts`), watchers, the periodic timer and provider status.
 */
import { EventEmitter } from 'eventemitter3';
import { type AbortOptions, checkAbortOptions, positiveNumber } from '../core.js';
import { FleetwatchError, isFleetwatchError, throwIfAborted, validationError } from '../errors.js';
import { validateNodeTags } from '../naming.js';
import type { NodeState } from '../providers/types.js';
import { checkQuery, checkUid } from './args.js';
import { ChangeWatchers } from './change-watchers.js';
import {
  type InventoryOptions,
  type InventoryStartOptions,
  type NormalizedInventoryOptions,
  normalizeInventoryOptions,
  normalizeStartOptions,
  type ProviderStatus,
} from './inventory-options.js';
import { type Applied, NodeTable } from './node-table.js';
import { PeriodicRunner } from './periodic.js';
import { ProviderStatuses } from './provider-status.js';
import { compileQuery } from './query.js';
import { syncProviders } from './sync.js';
import type { InventoryChange, InventoryEvents, InventoryNode, SyncReport } from './types.js';
import { waitForNodes } from './wait.js';
import type { WatchOverflow } from './watch.js';

export type {
  InventoryOptions,
  InventoryStartOptions,
  ProviderStatus,
} from './inventory-options.js';

/**
 * Nodes from many providers, kept current, queryable, with change events. See docs/inventory.md.
 *
 * The Inventory: every provider's nodes in one place, kept current by `sync()`, queried with the
 * tag query language, with typed change events and a metadata container of local tags.
 *
 * @example
 * ```ts
 * const inv = new Inventory({ providers: [aws, droplets] });
 * inv.on('changed', ({ node, changes }) => console.log(node.uid, changes));
 * const report = await inv.sync();
 * inv.query('tag:role=web and state:running');
 * await inv.setTags('aws-prod:i-123', { owner: 'ops' });
 * ```
 */
export class Inventory extends EventEmitter<InventoryEvents> {
  readonly #opts: NormalizedInventoryOptions;
  readonly #table: NodeTable;
  readonly #status = new ProviderStatuses();
  readonly #watchers = new ChangeWatchers();
  readonly #periodic = new PeriodicRunner();
  #loading: Promise<void> | undefined;
  #syncing: Promise<SyncReport> | undefined;
  #closed = false;

  /** Check `options` (`E_VALIDATION` naming the field at fault) and set up an empty inventory. */
  constructor(options: InventoryOptions) {
    super();
    this.#opts = normalizeInventoryOptions(options);
    this.#table = new NodeTable(this.#opts.providers.map((p) => p.id));
  }

  /** Number of nodes held. */
  get size(): number {
    return this.#table.size;
  }

  /** One node by uid. */
  get(uid: string): InventoryNode | undefined {
    return this.#table.get(uid);
  }

  /** Every node held, first seen first. */
  nodes(): InventoryNode[] {
    return [...this.#table.values()];
  }

  /**
   * Nodes matching a query in the tag query language (docs/query-language.md; compiled queries are
   * cached), first seen first. A malformed query throws `E_VALIDATION` with the `position`.
   *
   * @example
   * ```ts
   * const web = inv.query('tag:role=web and state:running');
   * ```
   */
  query(query: string): InventoryNode[] {
    const { matches } = compileQuery(checkQuery(query));
    const out: InventoryNode[] = [];
    for (const n of this.#table.values()) if (matches(n)) out.push(n);
    return out;
  }

  /** How each provider fared in its latest listing. */
  providerStatus(): ProviderStatus[] {
    return this.#status.list(this.#opts.providers, (id) => this.#table.countOf(id));
  }

  #checkOpen(): void {
    if (this.#closed) throw new FleetwatchError('E_CLOSED', 'inventory is closed');
  }

  /** The checks every call starts with: open, valid options, not aborted. */
  #begin(opts: AbortOptions | undefined): AbortOptions {
    this.#checkOpen();
    opts = checkAbortOptions(opts);
    throwIfAborted(opts.signal);
    return opts;
  }

  /**
   * Restore nodes and local tags from the store (once; `sync()` calls it first). Restoring emits no
   * events: the store's state is the baseline the next sync is compared with.
   */
  load(opts?: AbortOptions): Promise<void> {
    try {
      opts = this.#begin(opts);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#loading === undefined) {
      this.#loading = this.#load(opts.signal).catch((err: unknown) => {
        this.#loading = undefined;
        throw err;
      });
    }
    return this.#loading;
  }

  async #load(signal: AbortSignal | undefined): Promise<void> {
    const { store, tenant, logger } = this.#opts;
    this.#table.restore(await store.load(tenant, signal === undefined ? {} : { signal }), logger);
  }

  /**
   * List every provider (at most `concurrency` at once, each within its deadline) and apply
   * the differences, emitting `added` / `changed` / `removed`, then `synced`. A provider that fails
   * keeps its nodes, marked stale, and is reported (and emitted as `error`); nodes are removed only
   * when a successful listing no longer contains them. A call while a sync runs joins that sync
   * (the joining call's `signal` is not applied to it).
   *
   * @throws FleetwatchError `E_ABORTED` when `signal` fires (providers finished by then are applied).
   */
  sync(opts?: AbortOptions): Promise<SyncReport> {
    try {
      opts = this.#begin(opts);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#syncing === undefined) {
      this.#syncing = this.#sync(opts.signal).finally(() => {
        this.#syncing = undefined;
      });
    }
    return this.#syncing;
  }

  async #sync(signal: AbortSignal | undefined): Promise<SyncReport> {
    await this.load(signal === undefined ? {} : { signal });
    const report = await syncProviders(
      {
        opts: this.#opts,
        table: this.#table,
        status: this.#status,
        events: this,
        publish: (ev) => this.#publish(ev),
      },
      signal,
    );
    this.emit('synced', report);
    return report;
  }

  #publish(ev: Applied): void {
    if (ev.type === 'unstale') return;
    try {
      if (ev.type === 'added') this.emit('added', ev);
      else if (ev.type === 'removed') this.emit('removed', ev);
      else this.emit('changed', ev);
    } catch (err) {
      // A throwing listener must not break a sync half-way: log it and go on.
      this.#opts.logger.error(
        { uid: ev.node.uid, event: ev.type, err: String(err) },
        'inventory event listener threw',
      );
    }
    this.#watchers.publish(ev);
  }

  /** What a local-tag edit starts with: open, loaded, the node, and its provider under `writeThrough`. */
  async #editTarget(uid: string, opts: AbortOptions | undefined) {
    this.#checkOpen();
    opts = checkAbortOptions(opts);
    await this.load(opts);
    checkUid(uid);
    const node = this.#table.get(uid);
    if (node === undefined)
      throw new FleetwatchError('E_NOT_FOUND', `no node with uid ${uid}`, { path: 'uid' });
    const provider = this.#opts.writeThrough
      ? this.#opts.providers.find((p) => p.id === node.provider)
      : undefined;
    return { node, opts, provider };
  }

  /**
   * Merge `tags` into a node's local tags (kept across syncs and restarts; they override provider
   * tags of the same key in `tag:` queries). With `writeThrough`, the node's full local tag set is
   * first pushed to the provider's `setTags`, when it has one. Emits `changed` with
   * `localTags.<key>` fields. Returns the updated node.
   */
  async setTags(uid: string, tags: Record<string, string>, opts?: AbortOptions): Promise<InventoryNode> {
    const { node, opts: o, provider } = await this.#editTarget(uid, opts);
    const valid = validateNodeTags(tags, 'tags');
    if (provider?.setTags !== undefined) await provider.setTags(node.id, { ...node.localTags, ...valid }, o);
    const local = await this.#opts.store.setLocalTags(this.#opts.tenant, uid, valid, o);
    return this.#applyLocalTags(uid, local);
  }

  /** Remove local tags by key (and, with `writeThrough`, from the provider where it can). Emits `changed`. */
  async removeTags(uid: string, keys: string[], opts?: AbortOptions): Promise<InventoryNode> {
    const { node, opts: o, provider } = await this.#editTarget(uid, opts);
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string'))
      throw validationError('keys', 'an array of tag keys', keys);
    if (provider?.removeTags !== undefined) await provider.removeTags(node.id, keys, o);
    const local = await this.#opts.store.removeLocalTags(this.#opts.tenant, uid, keys, o);
    return this.#applyLocalTags(uid, local);
  }

  #applyLocalTags(uid: string, local: Record<string, string>): InventoryNode {
    const { node, change } = this.#table.setLocalTags(uid, local);
    if (change !== undefined) this.#publish(change);
    return node;
  }

  /**
   * Changes (`added` / `removed` / `changed`) of nodes that match `query` (a change matches when
   * the node matches before or after it), as an async iterator for realtime views. At most
   * `bufferSize` changes wait for a slow consumer; beyond that the oldest are dropped and an
   * `{ type: 'overflow', dropped }` item says so. `return()` (or `break`) unsubscribes.
   */
  watch(
    query: string,
    opts: AbortOptions & {
      /** Changes kept for a slow consumer before the oldest are dropped. @default 1000 */
      bufferSize?: number;
    } = {},
  ): AsyncIterableIterator<InventoryChange | WatchOverflow> {
    this.#checkOpen();
    const { matches } = compileQuery(checkQuery(query));
    opts = checkAbortOptions(opts);
    const size = positiveNumber(opts.bufferSize ?? 1000, 'opts.bufferSize', { integer: true, min: 1 });
    return this.#watchers.add(matches, size, opts.signal);
  }

  /** Number of active watchers (for diagnostics and tests). */
  get watcherCount(): number {
    return this.#watchers.size;
  }

  /**
   * Sync now and then every `intervalMs` (± jitter) after each sync ends, until `stop()`. Failures
   * are emitted as `error`, never thrown from the timer. Calling it while running is an error.
   */
  start(options: InventoryStartOptions): void {
    this.#checkOpen();
    if (this.#periodic.running)
      throw new FleetwatchError('E_VALIDATION', 'inventory is already started', { path: 'start' });
    this.#periodic.start(
      () => this.sync(),
      normalizeStartOptions(options),
      (err: unknown) => {
        this.emit(
          'error',
          isFleetwatchError(err)
            ? err
            : new FleetwatchError('E_INTERNAL', 'periodic sync failed', { cause: err }),
        );
      },
    );
  }

  /** Stop periodic syncing; resolves once an in-flight sync has finished. Idempotent. */
  async stop(): Promise<void> {
    this.#periodic.stop();
    await this.#syncing?.catch(() => {});
  }

  /**
   * Stop, end every watch, and refuse further calls (`E_CLOSED`). Closes the store only when the
   * inventory created it (no `store` option). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.stop();
    this.#closed = true;
    this.#watchers.endAll();
    if (this.#opts.ownStore) await this.#opts.store.close();
  }

  /**
   * Resolve with the nodes matching `query` once they satisfy `opts` (every match in `states`, or
   * at least `count` of them; `count: 0` waits for none). Driven by sync and change events, and by
   * a sync every `intervalMs` while the inventory is not started. See `waitForNodes`.
   *
   * @example
   * ```ts
   * const web = await inv.waitFor('tag:role=web', { states: ['running'], count: 3, timeoutMs: 300_000 });
   * ```
   */
  waitFor(
    query: string,
    opts?: AbortOptions & {
      /** The states the matching nodes must be in. @default any state */
      states?: readonly NodeState[];
      /**
       * How many matching nodes must be in `states`: at least this many. Without it, every matching
       * node must be in `states` (and at least one must match). `0` waits until no matching node is in
       * `states` (with no `states`: until nothing matches, e.g. the nodes are gone).
       */
      count?: number;
      /** Give up with `E_TIMEOUT` after this long. @default 600_000 */
      timeoutMs?: number;
      /**
       * While the inventory is not started (`inv.start()`), sync it this often to see changes; a started
       * inventory is only listened to. @default 5_000
       */
      intervalMs?: number;
    },
  ): Promise<InventoryNode[]> {
    return waitForNodes(this, () => this.#periodic.running, query, opts);
  }
}
