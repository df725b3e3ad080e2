/**
 * Hetzner Cloud (API v1) adapter: servers as nodes. Bearer token, `page`/`per_page` pagination
 * following `meta.pagination.next_page`, labels as tags, and every mutation backed by a Hetzner
 * action (`/v1/actions/{id}`) you can wait for.
 */
import type { AbortOptions } from '../core.js';
import { validationError } from '../errors.js';
import {
  actionPoll,
  checkHetznerLabels,
  hetznerNodeFields,
  hetznerPager,
  readLabels,
  toHetznerImage,
  toHetznerKeyPair,
  toHetznerLocation,
  toHetznerSize,
} from './hetzner-wire.js';
import {
  asObject,
  type ComputeTags,
  createInputArg,
  type FetchPage,
  gracefulStopOperation,
  imagesOptionsArg,
  type KeyPairWire,
  type ManagedProvider,
  nodeIdArg,
  type PageContext,
  type PowerContext,
  type PowerOperation,
  type RawPage,
  type TokenApiOptions,
  tokenApiSetup,
  WholeTagSetAdapter,
  withKeyPairs,
} from './kit/index.js';
import type {
  CreateNodeInput,
  ListCatalogOptions,
  ListImagesOptions,
  Node,
  NodeImage,
  NodeLocation,
  NodeSize,
  Operation,
} from './types.js';

export { HETZNER_STATES } from './hetzner-wire.js';

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
const IMAGE_FILTERS = [
  'type',
  'architecture',
  'name',
  'label_selector',
  'status',
  'bound_to',
  'include_deprecated',
  'sort',
];

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
export function hetzner(options: HetznerOptions): ManagedProvider {
  const { labelSelector, ...rest } = options ?? ({} as HetznerOptions);
  if (labelSelector !== undefined && (typeof labelSelector !== 'string' || labelSelector === ''))
    throw validationError('options.labelSelector', 'a non-empty string', labelSelector);
  const { base, http, pageSize } = tokenApiSetup(rest, {
    kind: 'hetzner',
    tokenEnv: 'HCLOUD_TOKEN',
    defaultBaseUrl: 'https://api.hetzner.cloud/v1/',
    pageSize: { key: 'perPage', min: 1, max: 50, fallback: 50 },
  });
  return new HetznerAdapter(base, http, { perPage: pageSize, labelSelector });
}

interface Settings {
  perPage: number;
  labelSelector: string | undefined;
}

class HetznerAdapter extends withKeyPairs(WholeTagSetAdapter<Settings>) implements ManagedProvider {
  readonly kind = 'hetzner' as const;

  #page(url: string, key: string, params?: Record<string, string | undefined>): FetchPage<unknown> {
    return hetznerPager(this.http, { url, key, perPage: this.settings.perPage, params });
  }

  protected fetchPage(cursor: string | undefined, ctx: PageContext): Promise<RawPage> {
    return this.#page('servers', 'servers', { label_selector: this.settings.labelSelector })(cursor, ctx);
  }

  protected async fetchNode(id: string, signal?: AbortSignal): Promise<unknown> {
    const body = asObject(
      await this.http.json({ url: `servers/${encodeURIComponent(nodeIdArg(id))}`, signal }),
      this.id,
      'server response',
    );
    return body.server;
  }

  protected override get statePollIntervalMs(): number {
    return 2_000;
  }

  protected checkTags(tags: Record<string, string>): Record<string, string> {
    return checkHetznerLabels(tags);
  }

  protected override checkMergedTags(tags: Record<string, string>): Record<string, string> {
    return checkHetznerLabels(tags);
  }

  /** Labels are written whole (`PUT /servers/{id}`), at once: the kit returns a completed Operation. */
  protected async updateTags(nodeId: string, compute: ComputeTags, signal?: AbortSignal): Promise<void> {
    const server = asObject(await this.fetchNode(nodeId, signal), this.id, 'server');
    const labels = compute(readLabels(server.labels));
    await this.http.request({
      method: 'PUT',
      url: `servers/${encodeURIComponent(nodeId)}`,
      json: { labels },
      signal,
    });
  }

  /** POST `/servers/{id}/actions/{verb}`; an Operation on the action it starts. */
  async #serverAction(id: string, verb: string, signal?: AbortSignal): Promise<Operation<void>> {
    const body = asObject(
      await this.http.json({
        method: 'POST',
        url: `servers/${encodeURIComponent(id)}/actions/${verb}`,
        json: {},
        signal,
      }),
      this.id,
      `${verb} response`,
    );
    return this.pollOperation(actionPoll(this.http, this.id, body.action, verb));
  }

  /**
   * reboot → `reboot`, start → `poweron`; stop with `graceful` (the default) sends `shutdown`
   * (ACPI): its action's success only means the signal was sent, so `done()` then waits for `off`
   * and, once the grace (`timeoutMs`, 60 s) is over, sends `poweroff`. `graceful: false` sends
   * `poweroff` at once. (`reset`, the hard reboot, is not offered.)
   */
  protected async powerAction(
    id: string,
    operation: PowerOperation,
    ctx: PowerContext,
  ): Promise<Operation<Node>> {
    const hard = async (signal?: AbortSignal) =>
      this.thenNode(await this.#serverAction(id, POWER_VERBS[operation], signal), id);
    if (operation !== 'stop' || !ctx.graceful) return hard(ctx.signal);
    const shutdown = this.thenNode(await this.#serverAction(id, 'shutdown', ctx.signal), id, ['stopped']);
    return gracefulStopOperation({ graceful: shutdown, hard, graceMs: ctx.graceMs, clock: this.clock });
  }

  /**
   * Create a server. Hetzner answers with the server (`initializing`), its actions and, when no SSH
   * key was given, a `root_password`: fleetwatch never returns nor logs that password (it would
   * reach inventories and logs); give `keyPair` or `userData` to get in, or reset the password
   * through Hetzner's own API.
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const req = createInputArg(input, {
      cloud: 'Hetzner',
      extraKeys: CREATE_EXTRA_KEYS,
      locationRequired: false,
    });
    const body = asObject(
      await this.http.json({
        method: 'POST',
        url: 'servers',
        json: {
          ...req.extra,
          name: req.name,
          server_type: req.size,
          image: req.image,
          location: req.location,
          ssh_keys: req.keyPair === undefined ? undefined : [req.keyPair],
          labels: input.tags === undefined ? undefined : checkHetznerLabels(req.tags, 'input.tags'),
          user_data: req.userData,
        },
        signal: opts.signal,
      }),
      this.id,
      'create response',
    );
    return this.toNode(body.server);
  }

  /** DELETE answers with the delete action: the Operation polls it. */
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
    return this.pollOperation(actionPoll(this.http, this.id, body.action, 'destroy'));
  }

  /**
   * Images: `owner: 'self'` (the default) lists snapshots and backups, `'public'` Hetzner's system
   * and app images, `'all'` every type. `filters` are Hetzner's query parameters (a `type` filter
   * replaces the owner's types).
   */
  async *listImages(opts: ListImagesOptions = {}): AsyncGenerator<NodeImage, void, undefined> {
    const req = imagesOptionsArg(opts, IMAGE_FILTERS);
    const { type, ...params } = req.filters;
    const types = type !== undefined ? [type] : IMAGE_TYPES[req.owner];
    const query = types.map((t) => `type=${encodeURIComponent(t)}`).join('&');
    yield* this.listCheckedCatalog(
      this.#page(query ? `images?${query}` : 'images', 'images', params),
      (raw) => toHetznerImage(this.id, raw),
      req,
    );
  }

  listSizes(opts?: ListCatalogOptions): AsyncIterable<NodeSize> {
    return this.listCatalog(
      this.#page('server_types', 'server_types'),
      (raw) => toHetznerSize(this.id, raw),
      opts,
    );
  }

  listLocations(opts?: ListCatalogOptions): AsyncIterable<NodeLocation> {
    return this.listCatalog(
      this.#page('locations', 'locations'),
      (raw) => toHetznerLocation(this.id, raw),
      opts,
    );
  }

  /** A duplicate name is Hetzner's `uniqueness_error` (409), as `E_PROVIDER`; deletes look the name up with Hetzner's `name` filter. */
  protected override keyPairWire(): KeyPairWire {
    return {
      path: 'ssh_keys',
      pages: this.#page('ssh_keys', 'ssh_keys'),
      pagesNamed: (name) => this.#page('ssh_keys', 'ssh_keys', { name }),
      publicKeyField: 'public_key',
      envelope: 'ssh_key',
      toKeyPair: (raw) => toHetznerKeyPair(this.id, raw),
    };
  }

  protected toNode(value: unknown): Node {
    return this.node(hetznerNodeFields(this.id, value));
  }
}
