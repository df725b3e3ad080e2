/**
 * Hetzner Cloud (API v1) adapter: servers as nodes. Bearer token, `page`/`per_page` pagination
 * following `meta.pagination.next_page`, labels as tags, and every mutation backed by a Hetzner
 * action (`/v1/actions/{id}`) you can wait for.
 */
import type { AbortOptions, Clock } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import {
  type CatalogueFetch,
  followedBy,
  gracefulStop,
  keyPairByName,
  listPaged,
  type ManagedProvider,
  stopRequest,
} from './cloud-ops.js';
import {
  type ActionContext,
  actionOperation,
  checkHetznerLabels,
  hetznerNodeFields,
  hetznerPage,
  readLabels,
  toHetznerImage,
  toHetznerKeyPair,
  toHetznerLocation,
  toHetznerSize,
} from './hetzner-wire.js';
import {
  asObject,
  completedOperation,
  createExtraArg,
  HttpCloudAdapter,
  keysArg,
  nodeIdArg,
  type PageContext,
  type PowerOperation,
  type RawPage,
  type TokenApiOptions,
  tagsArg,
  tokenApiSetup,
  waitForNodeState,
  withoutKeys,
} from './kit/index.js';
import type {
  CreateNodeInput,
  KeyPair,
  ListCatalogOptions,
  ListImagesOptions,
  Node,
  NodeImage,
  NodeLocation,
  NodeSize,
  NodeState,
  Operation,
  StopNodeOptions,
  WaitOptions,
} from './types.js';

/** Provider-only fields `createNode` passes through from `input.extra`. */
const CREATE_EXTRA_KEYS = [
  'start_after_create',
  'automount',
  'volumes',
  'networks',
  'firewalls',
  'placement_group',
  'public_net',
  'datacenter',
];
/** The hard verbs; a graceful stop sends `shutdown` first. */
const POWER_VERBS = { reboot: 'reboot', start: 'poweron', stop: 'poweroff' } satisfies Record<
  PowerOperation,
  string
>;
const IMAGE_TYPES = { self: ['snapshot', 'backup'], public: ['system', 'app'], all: [] } as const;

/** Options of {@link hetzner}. */
export interface HetznerOptions extends TokenApiOptions {
  /** API token of a Hetzner Cloud project. @default process.env.HCLOUD_TOKEN (the hcloud CLI's) */
  token?: string;
  /** @default 'https://api.hetzner.cloud/v1/' */
  baseUrl?: string;
  /** Items per page (1–50, Hetzner's maximum). @default 50 */
  perPage?: number;
  /** List only servers matching this Hetzner label selector (`env=prod,!legacy`). */
  labelSelector?: string;
}

/** What `hetzner()` returns: every management operation, each mutation an {@link Operation}. */
export type HetznerProvider = ManagedProvider;

/**
 * A Hetzner Cloud provider.
 *
 * @example
 * ```ts
 * const hz = hetzner({ id: 'hetzner' }); // token from HCLOUD_TOKEN
 * for await (const node of hz.listNodes()) console.log(node.name, node.state);
 * const op = await hz.stopNode('42', { graceful: true, timeoutMs: 60_000 });
 * await op.done({ timeoutMs: 300_000 }); // ACPI shutdown, powered off if still on after 60 s
 * ```
 */
export function hetzner(options: HetznerOptions): HetznerProvider {
  const { labelSelector, ...rest } = options ?? ({} as HetznerOptions);
  if (labelSelector !== undefined && (typeof labelSelector !== 'string' || labelSelector === ''))
    throw validationError('options.labelSelector', 'a non-empty string', labelSelector);
  const { base, http, pageSize } = tokenApiSetup(rest, {
    kind: 'hetzner',
    tokenEnv: 'HCLOUD_TOKEN',
    defaultBaseUrl: 'https://api.hetzner.cloud/v1/',
    pageSize: { key: 'perPage', min: 1, max: 50, fallback: 50 },
  });
  return new HetznerAdapter(base, http, { perPage: pageSize, labelSelector, clock: base.clock });
}

interface Settings {
  perPage: number;
  labelSelector: string | undefined;
  clock: Clock;
}

class HetznerAdapter extends HttpCloudAdapter<Settings> implements HetznerProvider {
  readonly kind = 'hetzner' as const;

  get #ctx(): ActionContext {
    return { http: this.http, provider: this.id, sleep: this.http.options.sleep, clock: this.settings.clock };
  }

  #page(url: string, key: string, params?: Record<string, string | undefined>): CatalogueFetch {
    return (cursor, { signal }) =>
      hetznerPage(this.http, this.id, { url, key, perPage: this.settings.perPage, params }, cursor, signal);
  }

  protected fetchPage(cursor: string | undefined, { signal }: PageContext): Promise<RawPage> {
    return this.#page('servers', 'servers', { label_selector: this.settings.labelSelector })(cursor, {
      page: 0,
      signal,
    });
  }

  protected async fetchNode(id: string, signal?: AbortSignal): Promise<unknown> {
    const body = asObject(
      await this.http.json({ url: `servers/${encodeURIComponent(nodeIdArg(id))}`, signal }),
      this.id,
      'server response',
    );
    return body.server;
  }

  async setTags(
    nodeId: string,
    tags: Record<string, string>,
    opts: AbortOptions = {},
  ): Promise<Operation<void>> {
    const wanted = checkHetznerLabels(tagsArg(tags));
    return this.#updateLabels(nodeId, (current) => ({ ...current, ...wanted }), 'setTags', opts.signal);
  }

  async removeTags(nodeId: string, keys: string[], opts: AbortOptions = {}): Promise<Operation<void>> {
    const drop = new Set(keysArg(keys));
    return this.#updateLabels(nodeId, (current) => withoutKeys(current, drop), 'removeTags', opts.signal);
  }

  /** Labels are written whole (`PUT /servers/{id}`), at once: the operation is complete. */
  async #updateLabels(
    nodeId: string,
    compute: (current: Record<string, string>) => Record<string, string>,
    action: string,
    signal?: AbortSignal,
  ): Promise<Operation<void>> {
    const id = nodeIdArg(nodeId, 'nodeId');
    const server = asObject(await this.fetchNode(id, signal), this.id, 'server');
    const labels = checkHetznerLabels(compute(readLabels(server.labels)));
    await this.http.request({
      method: 'PUT',
      url: `servers/${encodeURIComponent(id)}`,
      json: { labels },
      signal,
    });
    return completedOperation(id, action, undefined);
  }

  protected async powerAction(id: string, operation: PowerOperation, signal?: AbortSignal): Promise<void> {
    await this.#serverAction(id, POWER_VERBS[operation], signal);
  }

  /** POST `/servers/{id}/actions/{verb}`; an Operation on the action it starts. */
  async #serverAction(id: string, verb: string, signal?: AbortSignal): Promise<Operation<void>> {
    const body = asObject(
      await this.http.json({
        method: 'POST',
        url: `servers/${encodeURIComponent(nodeIdArg(id))}/actions/${verb}`,
        json: {},
        signal,
      }),
      this.id,
      `${verb} response`,
    );
    return actionOperation(this.#ctx, body.action, verb);
  }

  /** The action, then the node as it is afterwards. */
  #thenNode(id: string, action: Operation<void>, label: string): Operation<Node> {
    return followedBy(action, label, (_, wait) => this.#nodeNow(id, wait), this.settings.clock);
  }

  async #nodeNow(id: string, wait: WaitOptions): Promise<Node> {
    const node = await this.getNode(id, wait.signal ? { signal: wait.signal } : {});
    if (node) return node;
    throw new FleetwatchError('E_NOT_FOUND', `${this.id}: server ${id} not found`, { provider: this.id });
  }

  // @ts-expect-error TS2416: the kit's base power actions return void until its Operation-returning ones land
  override async rebootNode(id: string, opts: AbortOptions = {}): Promise<Operation<Node>> {
    return this.#thenNode(id, await this.#serverAction(id, 'reboot', opts.signal), 'reboot');
  }

  // @ts-expect-error TS2416: see rebootNode
  override async startNode(id: string, opts: AbortOptions = {}): Promise<Operation<Node>> {
    return this.#thenNode(id, await this.#serverAction(id, 'poweron', opts.signal), 'start');
  }

  /**
   * `graceful` (the default) sends `shutdown` (ACPI): its action's success only means the signal
   * was sent, so `done()` then waits for `off` and, once the grace (`timeoutMs`, 60 s) is over,
   * sends `poweroff`. `graceful: false` sends `poweroff` at once.
   */
  // @ts-expect-error TS2416: see rebootNode
  override async stopNode(id: string, opts?: StopNodeOptions): Promise<Operation<Node>> {
    const { graceful, graceMs, signal } = stopRequest(opts);
    const powerOff = async (s?: AbortSignal) =>
      this.#thenNode(id, await this.#serverAction(id, 'poweroff', s), 'stop');
    if (!graceful) return powerOff(signal);
    const shutdown = followedBy(
      await this.#serverAction(id, 'shutdown', signal),
      'stop',
      (_, wait) => this.waitForState(id, ['stopped'], wait),
      this.settings.clock,
    );
    return gracefulStop(shutdown, powerOff, graceMs, this.settings.clock);
  }

  waitForState(nodeId: string, states: readonly NodeState[], opts: WaitOptions = {}): Promise<Node> {
    return waitForNodeState(this, nodeIdArg(nodeId, 'nodeId'), states, {
      ...opts,
      sleep: this.http.options.sleep,
      clock: this.settings.clock,
      defaultIntervalMs: 2_000,
    });
  }

  /**
   * Create a server. Hetzner answers with the server (`initializing`), its actions and, when no SSH
   * key was given, a `root_password`: fleetwatch never returns nor logs that password (it would
   * reach inventories and logs); give `keyPair` or `userData` to get in, or reset the password
   * through Hetzner's own API.
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const extra = createExtraArg(input?.extra, CREATE_EXTRA_KEYS, 'Hetzner');
    const labels =
      input.tags === undefined
        ? undefined
        : checkHetznerLabels(tagsArg(input.tags, 'input.tags'), 'input.tags');
    const location = input.location ?? input.region ?? input.zone;
    if (input.userData !== undefined && typeof input.userData !== 'string')
      throw validationError('input.userData', 'a string', input.userData);
    const body = asObject(
      await this.http.json({
        method: 'POST',
        url: 'servers',
        json: {
          ...extra,
          name: nodeIdArg(input.name, 'input.name'),
          server_type: nodeIdArg(input.size, 'input.size'),
          image: nodeIdArg(input.image, 'input.image'),
          location: location === undefined ? undefined : nodeIdArg(location, 'input.location'),
          ssh_keys: input.keyPair === undefined ? undefined : [nodeIdArg(input.keyPair, 'input.keyPair')],
          labels,
          user_data: input.userData,
        },
        signal: opts.signal,
      }),
      this.id,
      'create response',
    );
    return this.toNode(body.server);
  }

  async destroyNode(id: string, opts: AbortOptions = {}): Promise<Operation<void>> {
    const body = asObject(
      await this.http.json({
        method: 'DELETE',
        url: `servers/${encodeURIComponent(nodeIdArg(id))}`,
        signal: opts.signal,
      }),
      this.id,
      'delete response',
    );
    return actionOperation(this.#ctx, body.action, 'destroy');
  }

  /**
   * Images: `owner: 'self'` (the default) lists snapshots and backups, `'public'` Hetzner's system
   * and app images, `'all'` every type. `filters` are Hetzner's query parameters (`architecture`,
   * `name`, `label_selector`, `status`, `include_deprecated`…; a `type` filter replaces the owner's).
   */
  async *listImages(opts: ListImagesOptions = {}): AsyncGenerator<NodeImage, void, undefined> {
    const owner = opts.owner ?? 'self';
    if (!Object.hasOwn(IMAGE_TYPES, owner))
      throw validationError('opts.owner', "'self', 'public' or 'all'", owner);
    const filters = opts.filters === undefined ? {} : tagsArg(opts.filters, 'opts.filters');
    const types = filters.type !== undefined ? [filters.type] : IMAGE_TYPES[owner];
    const { type: _type, ...params } = filters;
    const query = types.map((t) => `type=${encodeURIComponent(t)}`).join('&');
    yield* listPaged(
      this.id,
      this.#page(query ? `images?${query}` : 'images', 'images', params),
      (raw) => toHetznerImage(this.id, raw),
      opts,
    );
  }

  listSizes(opts: ListCatalogOptions = {}): AsyncIterable<NodeSize> {
    return listPaged(
      this.id,
      this.#page('server_types', 'server_types'),
      (raw) => toHetznerSize(this.id, raw),
      opts,
    );
  }

  listLocations(opts: ListCatalogOptions = {}): AsyncIterable<NodeLocation> {
    return listPaged(
      this.id,
      this.#page('locations', 'locations'),
      (raw) => toHetznerLocation(this.id, raw),
      opts,
    );
  }

  listKeyPairs(opts: ListCatalogOptions = {}): AsyncIterable<KeyPair> {
    return listPaged(
      this.id,
      this.#page('ssh_keys', 'ssh_keys'),
      (raw) => toHetznerKeyPair(this.id, raw),
      opts,
    );
  }

  async importKeyPair(input: { name: string; publicKey: string }, opts: AbortOptions = {}): Promise<KeyPair> {
    const body = asObject(
      await this.http.json({
        method: 'POST',
        url: 'ssh_keys',
        json: {
          name: nodeIdArg(input?.name, 'input.name'),
          public_key: nodeIdArg(input.publicKey, 'input.publicKey'),
        },
        signal: opts.signal,
      }),
      this.id,
      'ssh key response',
    );
    return toHetznerKeyPair(this.id, body.ssh_key);
  }

  async deleteKeyPair(name: string, opts: AbortOptions = {}): Promise<void> {
    const wanted = nodeIdArg(name, 'name');
    const keys = listPaged(
      this.id,
      this.#page('ssh_keys', 'ssh_keys', { name: wanted }),
      (raw) => toHetznerKeyPair(this.id, raw),
      opts,
    );
    const key = await keyPairByName(this.id, keys, wanted, 'name');
    await this.http.request({
      method: 'DELETE',
      url: `ssh_keys/${encodeURIComponent(key.id ?? '')}`,
      signal: opts.signal,
    });
  }

  protected toNode(value: unknown): Node {
    return this.node(hetznerNodeFields(this.id, value));
  }
}
