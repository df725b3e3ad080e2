/**
 * The Inventory. The class doc comment has the details and an example.
 */
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import {
  type AbortOptions,
  type Clock,
  checkAbortOptions,
  type Logger,
  positiveNumber,
  rejectUnknownKeys,
  silentLogger,
  systemClock,
} from '../core.js';
import { FleetwatchError, isFleetwatchError, throwIfAborted, validationError } from '../errors.js';
import { requireTenant, validateNodeTags } from '../naming.js';
import type { Node, Provider } from '../providers/types.js';
import { diffNodes, diffTags } from './diff.js';
import { toInventoryNode, toStored } from './inventory-node.js';
import {
  type InventoryOptions,
  type InventoryStartOptions,
  OPTION_KEYS,
  type ProviderStatus,
  type WatchOptions,
} from './inventory-options.js';
import { type InventoryStore, MemoryInventoryStore, mergeTags } from './inventory-store.js';
import { consumeUntilAborted, isIndexableNode, providerError } from './list.js';
import { compileQuery, type QueryAst } from './query.js';
import type {
  InventoryChange,
  InventoryEvents,
  InventoryNode,
  ProviderSyncReport,
  SyncReport,
} from './types.js';
import { type InventoryWaitOptions, waitForNodes } from './wait.js';
import { BoundedFeed, type WatchOverflow } from './watch.js';

export type {
  InventoryOptions,
  InventoryStartOptions,
  ProviderStatus,
  WatchOptions,
} from './inventory-options.js';

interface Watcher {
  matches: (node: InventoryNode) => boolean;
  feed: BoundedFeed<InventoryChange>;
}

/** A change to apply: a public change, or a stale node seen again unchanged (no event). */
type Applied = InventoryChange | { type: 'unstale'; node: InventoryNode };

const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

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
  readonly #providers: readonly Provider[];
  readonly #store: InventoryStore;
  readonly #ownStore: boolean;
  readonly #concurrency: number;
  readonly #timeouts: ReadonlyMap<string, number>;
  readonly #staleAfterMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #writeThrough: boolean;
  readonly #tenant: string;

  readonly #nodes = new Map<string, InventoryNode>();
  readonly #byProvider = new Map<string, Set<string>>();
  readonly #localTags = new Map<string, Readonly<Record<string, string>>>();
  readonly #status = new Map<string, { lastSuccessAt?: number; lastError?: FleetwatchError }>();
  readonly #watchers = new Set<Watcher>();
  #loading: Promise<void> | undefined;
  #syncing: Promise<SyncReport> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #closed = false;

  constructor(options: InventoryOptions) {
    super();
    if (typeof options !== 'object' || options === null)
      throw validationError('options', 'an object', options);
    rejectUnknownKeys(options, OPTION_KEYS);
    if (!Array.isArray(options.providers))
      throw validationError('options.providers', 'an array of providers', options.providers);
    const ids = new Set<string>();
    options.providers.forEach((p: Provider, i: number) => {
      if (typeof p !== 'object' || p === null || typeof p.id !== 'string' || p.id === '')
        throw validationError(`options.providers[${i}].id`, 'a non-empty string', p?.id);
      if (typeof p.listNodes !== 'function')
        throw validationError(`options.providers[${i}].listNodes`, 'a function', p.listNodes);
      if (ids.has(p.id)) throw validationError(`options.providers[${i}].id`, 'a unique provider id', p.id);
      ids.add(p.id);
    });
    this.#providers = [...options.providers];
    const store = options.store;
    if (
      store !== undefined &&
      (typeof store !== 'object' || store === null || typeof store.load !== 'function')
    )
      throw validationError('options.store', 'an InventoryStore', store);
    this.#store = store ?? new MemoryInventoryStore();
    this.#ownStore = options.store === undefined;
    this.#concurrency = positiveNumber(options.concurrency ?? 4, 'options.concurrency', {
      integer: true,
      min: 1,
    });
    const timeoutMs = positiveNumber(options.providerTimeoutMs ?? 120_000, 'options.providerTimeoutMs', {
      min: 1,
    });
    const overrides = options.providerTimeouts ?? {};
    if (typeof overrides !== 'object' || overrides === null)
      throw validationError('options.providerTimeouts', 'an object of provider id → ms', overrides);
    for (const id of Object.keys(overrides)) {
      if (!ids.has(id))
        throw validationError(`options.providerTimeouts.${id}`, 'a configured provider id', id);
      positiveNumber(overrides[id], `options.providerTimeouts.${id}`, { min: 1 });
    }
    this.#timeouts = new Map(this.#providers.map((p) => [p.id, overrides[p.id] ?? timeoutMs]));
    this.#staleAfterMs =
      options.staleAfterMs === undefined
        ? 0
        : positiveNumber(options.staleAfterMs, 'options.staleAfterMs', { min: 0 });
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    if (options.writeThrough !== undefined && typeof options.writeThrough !== 'boolean')
      throw validationError('options.writeThrough', 'a boolean', options.writeThrough);
    this.#writeThrough = options.writeThrough ?? false;
    this.#tenant = requireTenant(options.tenant ?? 'default', 'options.tenant');
    for (const p of this.#providers) this.#byProvider.set(p.id, new Set());
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
  nodes(): InventoryNode[] {
    return [...this.#nodes.values()];
  }

  /** Nodes matching a query (text or AST; compiled queries are cached), first seen first. */
  query(query: string | QueryAst): InventoryNode[] {
    const { matches } = compileQuery(checkQuery(query));
    const out: InventoryNode[] = [];
    for (const n of this.#nodes.values()) if (matches(n)) out.push(n);
    return out;
  }

  /** How each provider fared in its latest listing. */
  providerStatus(): ProviderStatus[] {
    return this.#providers.map((p) => {
      const s = this.#status.get(p.id);
      const out: ProviderStatus = { provider: p.id, nodes: this.#byProvider.get(p.id)?.size ?? 0 };
      if (s?.lastSuccessAt !== undefined) out.lastSuccessAt = s.lastSuccessAt;
      if (s?.lastError !== undefined) out.lastError = s.lastError;
      return out;
    });
  }

  #checkOpen(): void {
    if (this.#closed) throw new FleetwatchError('E_CLOSED', 'inventory is closed');
  }

  /**
   * Restore nodes and local tags from the store (once; `sync()` calls it first). Restoring emits no
   * events: the store's state is the baseline the next sync is compared with.
   */
  load(opts?: AbortOptions): Promise<void> {
    try {
      this.#checkOpen();
      opts = checkAbortOptions(opts);
      throwIfAborted(opts.signal);
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
    const snap = await this.#store.load(this.#tenant, signal === undefined ? {} : { signal });
    for (const [uid, tags] of snap.localTags) this.#localTags.set(uid, Object.freeze({ ...tags }));
    for (const s of snap.nodes) {
      const uids = this.#byProvider.get(s.node.provider);
      if (uids === undefined) {
        this.#logger.warn(
          { uid: s.node.uid, provider: s.node.provider },
          'stored node of an unconfigured provider ignored',
        );
        continue;
      }
      uids.add(s.node.uid);
      this.#nodes.set(s.node.uid, toInventoryNode(s.node, this.#localTags.get(s.node.uid) ?? NO_TAGS, s));
    }
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
      this.#checkOpen();
      opts = checkAbortOptions(opts);
      throwIfAborted(opts.signal);
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
    const startedAt = this.#clock.now();
    const queue = new PQueue({ concurrency: this.#concurrency });
    const reports: ProviderSyncReport[] = new Array(this.#providers.length);
    const counter = { done: 0 };
    await Promise.all(
      this.#providers.map((p, i) =>
        queue.add(async () => {
          reports[i] = await this.#syncProvider(p, signal, counter);
        }),
      ),
    );
    throwIfAborted(signal);
    const report: SyncReport = {
      startedAt,
      finishedAt: this.#clock.now(),
      providers: reports,
      ok: reports.every((r) => r.error === undefined),
    };
    this.emit('synced', report);
    return report;
  }

  async #syncProvider(
    p: Provider,
    signal: AbortSignal | undefined,
    counter: { done: number },
  ): Promise<ProviderSyncReport> {
    const t0 = this.#clock.now();
    const report: ProviderSyncReport = {
      provider: p.id,
      nodes: 0,
      pages: 0,
      durationMs: 0,
      added: 0,
      changed: 0,
      removed: 0,
    };
    const total = this.#providers.length;
    const deadline = new AbortController();
    const timeoutMs = this.#timeouts.get(p.id)!;
    const timer = setTimeout(() => {
      deadline.abort(
        new FleetwatchError('E_TIMEOUT', `provider ${p.id}: listing took longer than ${timeoutMs} ms`, {
          provider: p.id,
        }),
      );
    }, timeoutMs);
    timer.unref();
    const listSignal = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
    const listed = new Map<string, Node>();
    let listedOk = false;
    try {
      throwIfAborted(signal);
      const onPage = (info: { page: number }) => {
        report.pages = Math.max(report.pages + 1, info.page);
        this.emit('progress', {
          provider: p.id,
          pages: report.pages,
          nodes: listed.size,
          providersDone: counter.done,
          providersTotal: total,
        });
      };
      await consumeUntilAborted(p.listNodes({ signal: listSignal, onPage }), listSignal, (node) => {
        if (!isIndexableNode(node)) {
          throw new FleetwatchError(
            'E_MALFORMED_RESPONSE',
            `provider ${p.id}: listed a value that is not a node`,
            {
              provider: p.id,
            },
          );
        }
        listed.set(node.uid, node);
      });
      clearTimeout(timer);
      listedOk = true;
      report.nodes = listed.size;
      await this.#applyListing(p, listed, report);
      const status = this.#status.get(p.id) ?? {};
      status.lastSuccessAt = this.#clock.now();
      status.lastError = undefined;
      this.#status.set(p.id, status);
    } catch (err) {
      if (listedOk) {
        // The listing was fine but the store refused it: report, change nothing, retry next sync.
        const error = providerError(p, err);
        report.error = error;
        this.#logger.warn(
          { provider: p.id, code: error.code, err: error.message },
          'could not store a listing',
        );
        this.emit('error', error);
      } else if (signal?.aborted) {
        report.nodes = 0;
        report.error = new FleetwatchError('E_ABORTED', 'sync aborted', {
          cause: signal.reason,
          provider: p.id,
        });
      } else {
        report.nodes = 0;
        const error = providerError(p, deadline.signal.aborted ? deadline.signal.reason : err);
        report.error = error;
        await this.#markFailed(p, error);
      }
    } finally {
      clearTimeout(timer);
      counter.done++;
      report.durationMs = this.#clock.now() - t0;
    }
    this.emit('progress', {
      provider: p.id,
      pages: report.pages,
      nodes: report.nodes,
      providersDone: counter.done,
      providersTotal: total,
    });
    return report;
  }

  /** Diff one successful listing against what is held, persist it, then apply it and emit. */
  async #applyListing(p: Provider, listed: Map<string, Node>, report: ProviderSyncReport): Promise<void> {
    const held = this.#byProvider.get(p.id)!;
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
    for (const uid of held) {
      if (listed.has(uid)) continue;
      removedUids.push(uid);
      events.push({ type: 'removed', node: this.#nodes.get(uid)! });
    }
    try {
      if (puts.length > 0) await this.#store.putNodes(this.#tenant, puts.map(toStored));
      if (removedUids.length > 0) await this.#store.removeNodes(this.#tenant, removedUids);
    } catch (err) {
      throw isFleetwatchError(err)
        ? err
        : new FleetwatchError('E_STORE_UNAVAILABLE', 'inventory store write failed', { cause: err });
    }
    for (const ev of events) {
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
    for (const ev of events) this.#publish(ev);
  }

  /** Mark a failed provider's nodes stale (after the grace period), keeping them. */
  async #markFailed(p: Provider, error: FleetwatchError): Promise<void> {
    const status = this.#status.get(p.id) ?? {};
    status.lastError = error;
    this.#status.set(p.id, status);
    this.#logger.warn({ provider: p.id, code: error.code, err: error.message }, 'provider listing failed');
    this.emit('error', error);
    const now = this.#clock.now();
    if (status.lastSuccessAt !== undefined && now - status.lastSuccessAt < this.#staleAfterMs) return;
    const reason = `${error.code}: ${error.message}`;
    const updated: InventoryNode[] = [];
    for (const uid of this.#byProvider.get(p.id)!) {
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
    if (updated.length === 0) return;
    try {
      await this.#store.putNodes(this.#tenant, updated.map(toStored));
    } catch (err) {
      this.#logger.warn({ provider: p.id, err: String(err) }, 'could not persist stale flags');
    }
  }

  #publish(ev: Applied): void {
    if (ev.type === 'unstale') return;
    try {
      if (ev.type === 'added') this.emit('added', ev);
      else if (ev.type === 'removed') this.emit('removed', ev);
      else this.emit('changed', ev);
    } catch (err) {
      // A throwing listener must not break a sync half-way: log it and go on.
      this.#logger.error(
        { uid: ev.node.uid, event: ev.type, err: String(err) },
        'inventory event listener threw',
      );
    }
    for (const w of this.#watchers) {
      if (w.matches(ev.node) || (ev.type === 'changed' && w.matches(ev.previous))) w.feed.push(ev);
    }
  }

  #requireNode(uid: string): InventoryNode {
    if (typeof uid !== 'string' || uid === '') throw validationError('uid', 'a node uid', uid);
    const node = this.#nodes.get(uid);
    if (node === undefined)
      throw new FleetwatchError('E_NOT_FOUND', `no node with uid ${uid}`, { path: 'uid' });
    return node;
  }

  #provider(node: InventoryNode): Provider | undefined {
    return this.#providers.find((p) => p.id === node.provider);
  }

  /**
   * Merge `tags` into a node's local tags (kept across syncs and restarts; they override provider
   * tags of the same key in `tag:` queries). With `writeThrough`, the node's full local tag set is
   * first pushed to the provider's `setTags`, when it has one. Emits `changed` with
   * `localTags.<key>` fields. Returns the updated node.
   */
  async setTags(uid: string, tags: Record<string, string>, opts?: AbortOptions): Promise<InventoryNode> {
    this.#checkOpen();
    opts = checkAbortOptions(opts);
    await this.load(opts);
    const node = this.#requireNode(uid);
    const valid = validateNodeTags(tags, 'tags');
    if (this.#writeThrough) {
      const provider = this.#provider(node);
      if (provider?.setTags !== undefined)
        await provider.setTags(node.id, { ...node.localTags, ...valid }, opts);
    }
    const local = await this.#store.setLocalTags(this.#tenant, uid, valid, opts);
    return this.#applyLocalTags(uid, local);
  }

  /** Remove local tags by key (and, with `writeThrough`, from the provider where it can). Emits `changed`. */
  async removeTags(uid: string, keys: string[], opts?: AbortOptions): Promise<InventoryNode> {
    this.#checkOpen();
    opts = checkAbortOptions(opts);
    await this.load(opts);
    const node = this.#requireNode(uid);
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string'))
      throw validationError('keys', 'an array of tag keys', keys);
    if (this.#writeThrough) {
      const provider = this.#provider(node);
      if (provider?.removeTags !== undefined) await provider.removeTags(node.id, keys, opts);
    }
    const local = await this.#store.removeLocalTags(this.#tenant, uid, keys, opts);
    return this.#applyLocalTags(uid, local);
  }

  #applyLocalTags(uid: string, local: Record<string, string>): InventoryNode {
    const frozen = Object.freeze({ ...local });
    this.#localTags.set(uid, frozen);
    const prev = this.#nodes.get(uid);
    if (prev === undefined) throw new FleetwatchError('E_NOT_FOUND', `node ${uid} was removed meanwhile`);
    const changes = diffTags('localTags', prev.localTags, frozen, undefined);
    if (changes === undefined) return prev;
    const next: InventoryNode = { ...prev, localTags: frozen, mergedTags: mergeTags(prev.tags, frozen) };
    this.#nodes.set(uid, next);
    this.#publish({ type: 'changed', node: next, previous: prev, changes });
    return next;
  }

  /**
   * Changes (`added` / `removed` / `changed`) of nodes that match `query` (a change matches when
   * the node matches before or after it), as an async iterator for realtime views. At most
   * `bufferSize` changes wait for a slow consumer; beyond that the oldest are dropped and an
   * `{ type: 'overflow', dropped }` item says so. `return()` (or `break`) unsubscribes.
   */
  watch(
    query: string | QueryAst,
    opts: WatchOptions = {},
  ): AsyncIterableIterator<InventoryChange | WatchOverflow> {
    this.#checkOpen();
    const { matches } = compileQuery(checkQuery(query));
    opts = checkAbortOptions(opts);
    const size = positiveNumber(opts.bufferSize ?? 1000, 'opts.bufferSize', { integer: true, min: 1 });
    const watcher: Watcher = {
      matches,
      feed: new BoundedFeed<InventoryChange>(size, () => this.#watchers.delete(watcher), opts.signal),
    };
    if (!opts.signal?.aborted) this.#watchers.add(watcher);
    return watcher.feed;
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
    if (this.#running)
      throw new FleetwatchError('E_VALIDATION', 'inventory is already started', { path: 'start' });
    const intervalMs = positiveNumber(options?.intervalMs, 'options.intervalMs', { min: 1 });
    const jitter = options.jitter ?? 0.1;
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1))
      throw validationError('options.jitter', 'a number in [0, 1)', jitter);
    const random = options.random ?? Math.random;
    this.#running = true;
    const tick = (): void => {
      this.#timer = undefined;
      if (!this.#running) return;
      this.sync()
        .catch((err: unknown) => {
          this.emit(
            'error',
            isFleetwatchError(err)
              ? err
              : new FleetwatchError('E_INTERNAL', 'periodic sync failed', { cause: err }),
          );
        })
        .finally(() => {
          if (!this.#running) return;
          const delay = intervalMs * (1 + jitter * (2 * random() - 1));
          this.#timer = setTimeout(tick, Math.max(0, delay));
          this.#timer.unref();
        });
    };
    tick();
  }

  /** Stop periodic syncing; resolves once an in-flight sync has finished. Idempotent. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
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
    for (const w of [...this.#watchers]) w.feed.return();
    this.#watchers.clear();
    if (this.#ownStore) await this.#store.close();
  }

  /**
   * Resolve with the nodes matching `query` once they satisfy `opts` (every match in `states`, or
   * at least `count` of them; `count: 0` waits for none). Driven by sync and change events, and by
   * a sync every `intervalMs` while the inventory is not started. See {@link waitForNodes}.
   *
   * @example
   * ```ts
   * const web = await inv.waitFor('tag:role=web', { states: ['running'], count: 3, timeoutMs: 300_000 });
   * ```
   */
  waitFor(query: string | QueryAst, opts?: InventoryWaitOptions): Promise<InventoryNode[]> {
    return waitForNodes(this, () => this.#running, query, opts);
  }
}

/** A query argument: a string or a parsed {@link QueryAst}; `E_VALIDATION` at `query` otherwise. */
function checkQuery(query: unknown): string | QueryAst {
  if (typeof query === 'string') return query;
  if (typeof query === 'object' && query !== null && typeof (query as { type?: unknown }).type === 'string')
    return query as QueryAst;
  throw validationError('query', 'a query string or a parsed query', query);
}
