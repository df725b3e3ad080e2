/**
 * The class skeleton the JSON cloud adapters (DigitalOcean, Linode, GCE, Azure) share: identity,
 * the HTTP client, paged `listNodes`, `getNode` with not-found → `undefined`, the three power
 * operations and, for APIs that write a node's whole tag set, `setTags`/`removeTags`. Each adapter
 * keeps only what is specific to its cloud (URLs, verbs, its STATES table and `toNode`).
 */

import type { ListNodesOptions, Node, ProviderKind } from '../types.js';
import { keysArg, tagsArg, withoutKeys } from './args.js';
import type { ProviderHttpClient } from './http-client.js';
import { makeNode, type NodeFields, nodesFromPages } from './node.js';
import type { AdapterBase } from './options.js';
import type { ProviderPage } from './paginate.js';
import { undefinedIfNotFound } from './provider-errors.js';

/** The power operations every JSON cloud adapter offers; each maps them to its own verb. */
export type PowerOperation = 'reboot' | 'start' | 'stop';

/** What {@link HttpCloudAdapter.fetchPage} is given besides the cursor. */
export interface PageContext {
  page: number;
  signal?: AbortSignal;
}

/** How a tag update turns a node's current tags into the ones to write. */
export type ComputeTags = (current: Record<string, string>) => Record<string, string>;

/** One page of raw nodes. */
export type RawPage = ProviderPage<unknown>;

/**
 * Identity, HTTP client, listing, lookup and power operations of a JSON cloud adapter; `S` is the
 * adapter's own checked settings.
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

  /** Fetch one page of the node listing (`cursor` is `undefined` for the first). */
  protected abstract fetchPage(cursor: string | undefined, ctx: PageContext): Promise<RawPage>;

  /** Fetch one node's raw JSON; a 404 rejects with `E_NOT_FOUND`. */
  protected abstract fetchNode(id: string, signal?: AbortSignal): Promise<unknown>;

  /** Translate one raw node. */
  protected abstract toNode(value: unknown): Node;

  /** Run a power operation on a node. */
  protected abstract powerAction(id: string, operation: PowerOperation, signal?: AbortSignal): Promise<void>;

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

  async getNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<Node | undefined> {
    const raw = await undefinedIfNotFound(this.fetchNode(id, opts.signal));
    return raw === undefined ? undefined : this.toNode(raw);
  }

  rebootNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.powerAction(id, 'reboot', opts.signal);
  }

  startNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.powerAction(id, 'start', opts.signal);
  }

  stopNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.powerAction(id, 'stop', opts.signal);
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, kind: this.kind };
  }
}

/**
 * An adapter whose API writes a node's whole tag set (Linode, GCE labels, Azure): `setTags` merges
 * the given tags into the current ones, `removeTags` drops keys; both go through {@link updateTags}.
 */
export abstract class WholeTagSetAdapter<S> extends HttpCloudAdapter<S> {
  /** Read the node's current tags, `compute` the new set and write it. */
  protected abstract updateTags(nodeId: string, compute: ComputeTags, signal?: AbortSignal): Promise<void>;

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
  ): Promise<void> {
    const wanted = this.checkTags(tagsArg(tags));
    await this.updateTags(nodeId, (current) => this.checkMergedTags({ ...current, ...wanted }), opts.signal);
  }

  async removeTags(nodeId: string, keys: string[], opts: { signal?: AbortSignal } = {}): Promise<void> {
    const drop = new Set(keysArg(keys));
    await this.updateTags(nodeId, (current) => withoutKeys(current, drop), opts.signal);
  }
}
