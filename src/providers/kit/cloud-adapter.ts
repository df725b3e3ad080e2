/**
 * The class skeleton the JSON cloud adapters (DigitalOcean, Linode, GCE, Azure, Hetzner, Vultr)
 * share: identity, the HTTP client, paged `listNodes` and catalogue listings, `getNode` with
 * not-found → `undefined`, the three power operations returning an {@link Operation}, `waitForState`
 * and, for APIs that write a node's whole tag set, `setTags`/`removeTags`. Each adapter keeps only
 * what is specific to its cloud (URLs, verbs, its STATES table and `toNode`).
 */

import type { Clock } from '../../core.js';
import { FleetwatchError } from '../../errors.js';
import type {
  ListCatalogOptions,
  ListNodesOptions,
  Node,
  NodeState,
  Operation,
  ProviderKind,
  StopNodeOptions,
  WaitOptions,
} from '../types.js';
import { keysArg, nodeIdArg, tagsArg, withoutKeys } from './args.js';
import type { ProviderHttpClient } from './http-client.js';
import type { KeyPairWire } from './key-pairs.js';
import { type CatalogRequest, catalogOptionsArg } from './management-args.js';
import { makeNode, type NodeFields, nodesFromPages } from './node.js';
import {
  completedOperation,
  followedBy,
  mapOperation,
  type PollSpec,
  pollingOperation,
  type StopRequest,
  stopOptionsArg,
  waitForNodeState,
} from './operation.js';
import type { AdapterBase } from './options.js';
import { type FetchPage, itemsFromPages, type ProviderPage } from './paginate.js';
import { undefinedIfNotFound } from './provider-errors.js';

/** The power operations every JSON cloud adapter offers; each maps them to its own verb. */
export type PowerOperation = 'reboot' | 'start' | 'stop';

/** The states each power operation ends in. */
export const POWER_TARGET_STATES = {
  reboot: ['running'],
  start: ['running'],
  stop: ['stopped'],
} as const satisfies Record<PowerOperation, readonly NodeState[]>;

/** What {@link HttpCloudAdapter.powerAction} is given: the signal and, for `stop`, how to stop. */
export interface PowerContext {
  signal?: AbortSignal;
  /** For `stop`: shut down cleanly (true) or cut the power. Always true for reboot and start. */
  graceful: boolean;
  /** For a graceful `stop`: how long before falling back to the hard one, where the cloud has both. */
  graceMs: number;
}

/** What {@link HttpCloudAdapter.fetchPage} is given besides the cursor. */
export interface PageContext {
  page: number;
  signal?: AbortSignal;
}

/** How a tag update turns a node's current tags into the ones to write. */
export type ComputeTags = (current: Record<string, string>) => Record<string, string>;

/** One page of raw nodes. */
export type RawPage = ProviderPage<unknown>;

/** An operation to poll, as {@link HttpCloudAdapter.pollOperation} takes it (provider, sleep, clock filled in). */
export type AdapterPollSpec<T> = Omit<PollSpec<T>, 'provider' | 'sleep' | 'clock'>;

/**
 * Identity, HTTP client, listing, lookup, power operations and waits of a JSON cloud adapter; `S`
 * is the adapter's own checked settings.
 *
 * @example
 * ```ts
 * class MyCloud extends HttpCloudAdapter<{ perPage: number }> {
 *   readonly kind = 'mycloud';
 *   protected async fetchPage(cursor: string | undefined, { signal }: PageContext): Promise<RawPage> {
 *     const body = await this.http.json<{ servers: unknown[]; next?: string }>({ url: cursor ?? 'servers', signal });
 *     return { items: body.servers, next: body.next };
 *   }
 *   protected fetchNode(id: string, signal?: AbortSignal) { return this.http.json({ url: `servers/${id}`, signal }); }
 *   protected toNode(raw: unknown): Node { return this.node({ id: String((raw as { id: number }).id), ... }); }
 *   protected async powerAction(id: string, op: PowerOperation, ctx: PowerContext) {
 *     await this.http.request({ method: 'POST', url: `servers/${id}/${op}`, signal: ctx.signal });
 *     return this.powerStateOperation(id, op);
 *   }
 * }
 * ```
 */
export abstract class HttpCloudAdapter<S> {
  readonly id: string;
  abstract readonly kind: ProviderKind;
  readonly #base: AdapterBase;
  readonly #http: ProviderHttpClient;
  readonly #settings: S;

  constructor(base: AdapterBase, http: ProviderHttpClient, settings: S) {
    this.id = base.id;
    this.#base = base;
    this.#http = http;
    this.#settings = settings;
  }

  /** The adapter's HTTP client (a prototype getter, so it never shows on the instance). */
  protected get http(): ProviderHttpClient {
    return this.#http;
  }

  /** The adapter's own settings. */
  protected get settings(): S {
    return this.#settings;
  }

  /** The adapter's clock (the `clock` option). */
  protected get clock(): Clock {
    return this.#base.clock;
  }

  /** The injectable, abortable wait the HTTP client uses (the `http.sleep` option); polls use it too. */
  protected get sleep(): (ms: number, signal?: AbortSignal) => Promise<void> {
    return this.#http.options.sleep;
  }

  /** First interval of {@link waitForState}'s polls; adapters set their cloud's guidance. @default 5_000 */
  protected get statePollIntervalMs(): number {
    return 5_000;
  }

  /** Fetch one page of the node listing (`cursor` is `undefined` for the first). */
  protected abstract fetchPage(cursor: string | undefined, ctx: PageContext): Promise<RawPage>;

  /** Fetch one node's raw JSON; a 404 rejects with `E_NOT_FOUND`. */
  protected abstract fetchNode(id: string, signal?: AbortSignal): Promise<unknown>;

  /** Translate one raw node. */
  protected abstract toNode(value: unknown): Node;

  /**
   * Run a power operation on a node (the id is checked) and return what to wait for: the cloud's
   * own operation followed by the node's state where it has one, else {@link powerStateOperation}.
   */
  protected abstract powerAction(
    id: string,
    operation: PowerOperation,
    ctx: PowerContext,
  ): Promise<Operation<Node>>;

  /** The cloud's SSH-key collection, for adapters built with {@link withKeyPairs}. */
  protected keyPairWire?(): KeyPairWire;

  /** A {@link Node} of this provider (`uid`, `provider`, `kind` filled in). */
  protected node(fields: NodeFields): Node {
    return makeNode(this.#base, fields);
  }

  listNodes(opts: ListNodesOptions = {}): AsyncIterable<Node> {
    return nodesFromPages(
      (cursor, ctx) => this.fetchPage(cursor, ctx),
      (raw) => this.toNode(raw),
      { ...opts, provider: this.id },
    );
  }

  /**
   * A catalogue listing (images, sizes, locations, key pairs) over every page, with the same loop
   * guards as `listNodes`; `toItem` returns `undefined` to skip a raw item. For a listing that takes no
   * filters: `opts` is checked here (a filter name is `E_VALIDATION`).
   */
  protected listCatalog<R, T>(
    fetchPage: FetchPage<R>,
    toItem: (raw: R) => T | undefined,
    opts: ListCatalogOptions | undefined,
  ): AsyncGenerator<T, void, undefined> {
    return this.listCheckedCatalog(fetchPage, toItem, catalogOptionsArg(opts));
  }

  /**
   * {@link HttpCloudAdapter.listCatalog} for a request a filtered listing has already checked
   * (`imagesOptionsArg`, or `catalogOptionsArg` with the listing's filter names).
   */
  protected listCheckedCatalog<R, T>(
    fetchPage: FetchPage<R>,
    toItem: (raw: R) => T | undefined,
    req: CatalogRequest,
  ): AsyncGenerator<T, void, undefined> {
    return itemsFromPages(fetchPage, toItem, { provider: this.id, signal: req.signal, onPage: req.onPage });
  }

  async getNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<Node | undefined> {
    const raw = await undefinedIfNotFound(this.fetchNode(nodeIdArg(id), opts.signal));
    return raw === undefined ? undefined : this.toNode(raw);
  }

  /**
   * Poll the node (with the `http.sleep` wait) until its state is one of `states`.
   *
   * @example
   * ```ts
   * declare const provider: HttpCloudAdapter<unknown>;
   * const node = await provider.waitForState('42', ['running'], { timeoutMs: 300_000 });
   * ```
   */
  waitForState(nodeId: string, states: readonly NodeState[], opts: WaitOptions = {}): Promise<Node> {
    const id = nodeIdArg(nodeId, 'nodeId');
    return waitForNodeState({ id: this.id, getNode: (n, o) => this.getNode(n, o) }, id, states, {
      ...opts,
      sleep: this.sleep,
      clock: this.clock,
      defaultIntervalMs: this.statePollIntervalMs,
    });
  }

  rebootNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<Operation<Node>> {
    return this.powerAction(nodeIdArg(id), 'reboot', powerContext(opts.signal));
  }

  startNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<Operation<Node>> {
    return this.powerAction(nodeIdArg(id), 'start', powerContext(opts.signal));
  }

  /** Stop a node: gracefully by default (`{ graceful: false }` cuts the power where the cloud can). */
  stopNode(id: string, opts?: StopNodeOptions): Promise<Operation<Node>> {
    const req: StopRequest = stopOptionsArg(opts);
    return this.powerAction(nodeIdArg(id), 'stop', {
      graceful: req.graceful,
      graceMs: req.graceMs,
      ...(req.signal ? { signal: req.signal } : {}),
    });
  }

  /** An operation that waits for the node to reach `states`. */
  protected stateOperation(id: string, action: string, states: readonly NodeState[]): Operation<Node> {
    return { id, action, done: (opts) => this.waitForState(id, states, opts) };
  }

  /** The operation of a power action the cloud does not track: the node's target state. */
  protected powerStateOperation(id: string, operation: PowerOperation): Operation<Node> {
    return this.stateOperation(id, operation, POWER_TARGET_STATES[operation]);
  }

  /** An operation that finishes when the node is gone (or `terminated`). */
  protected goneOperation(id: string, action = 'destroy'): Operation<void> {
    return mapOperation(this.stateOperation(id, action, ['terminated']), () => undefined);
  }

  /** Poll the cloud's own operation with the adapter's sleep and clock. */
  protected pollOperation<T>(spec: AdapterPollSpec<T>): Operation<T> {
    return pollingOperation({ ...spec, provider: this.id, sleep: this.sleep, clock: this.clock });
  }

  /**
   * The cloud's operation, then the node: its state in `states` when given (within what is left of
   * the same timeout), else the node as it is.
   */
  protected thenNode(op: Operation<unknown>, nodeId: string, states?: readonly NodeState[]): Operation<Node> {
    return followedBy(
      op,
      op.action,
      async (_, wait) => {
        if (states) return this.waitForState(nodeId, states, wait);
        const node = await this.getNode(nodeId, wait.signal ? { signal: wait.signal } : {});
        if (node === undefined)
          throw new FleetwatchError('E_NOT_FOUND', `node ${nodeId} of ${this.id} is gone`, {
            provider: this.id,
            path: 'nodeId',
          });
        return node;
      },
      this.clock,
    );
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, kind: this.kind };
  }
}

function powerContext(signal: AbortSignal | undefined): PowerContext {
  return { graceful: true, graceMs: 0, ...(signal ? { signal } : {}) };
}

/**
 * An adapter whose API writes a node's whole tag set (Linode, GCE labels, Azure): `setTags` merges
 * the given tags into the current ones, `removeTags` drops keys; both go through {@link updateTags}.
 *
 * @example
 * ```ts
 * declare const provider: WholeTagSetAdapter<unknown>;
 * const op = await provider.setTags('42', { role: 'web' });
 * await op.done();
 * ```
 */
export abstract class WholeTagSetAdapter<S> extends HttpCloudAdapter<S> {
  /**
   * Read the node's current tags, `compute` the new set and write it; return the cloud's operation
   * when the write is asynchronous (nothing when the answer means done).
   */
  protected abstract updateTags(
    nodeId: string,
    compute: ComputeTags,
    signal?: AbortSignal,
  ): Promise<Operation<void> | void>;

  /** Check the tags given to `setTags` against the cloud's rules (before anything is fetched). */
  protected abstract checkTags(tags: Record<string, string>): Record<string, string>;

  /** Check the merged set `setTags` writes. @default no further check */
  protected checkMergedTags(tags: Record<string, string>): Record<string, string> {
    return tags;
  }

  async setTags(
    nodeId: string,
    tags: Record<string, string>,
    opts: { signal?: AbortSignal } = {},
  ): Promise<Operation<void>> {
    const wanted = this.checkTags(tagsArg(tags));
    const id = nodeIdArg(nodeId, 'nodeId');
    const op = await this.updateTags(
      id,
      (current) => this.checkMergedTags({ ...current, ...wanted }),
      opts.signal,
    );
    return op ?? completedOperation(id, 'setTags', undefined);
  }

  async removeTags(
    nodeId: string,
    keys: string[],
    opts: { signal?: AbortSignal } = {},
  ): Promise<Operation<void>> {
    const drop = new Set(keysArg(keys));
    const id = nodeIdArg(nodeId, 'nodeId');
    const op = await this.updateTags(id, (current) => withoutKeys(current, drop), opts.signal);
    return op ?? completedOperation(id, 'removeTags', undefined);
  }
}
