/**
 * Vultr (API v2) adapter: instances as nodes. Bearer API key, `per_page` + cursor pagination
 * following `meta.links.next`, string tags (`key:value` / bare `tag`). Vultr has no action API:
 * every Operation polls the instance's state.
 */
import type { AbortOptions } from '../core.js';
import {
  asObject,
  baseUrlOption,
  type ComputeTags,
  checkCommonOptions,
  createInputArg,
  createProviderHttpClient,
  credential,
  type FetchPage,
  formatStringTags,
  imagesOptionsArg,
  intOption,
  type KeyPairWire,
  keyPairByName,
  type ManagedProvider,
  nodeIdArg,
  type PageContext,
  type PowerContext,
  type PowerOperation,
  type RawPage,
  type TokenApiOptions,
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
import {
  parseVultrError,
  toVultrKeyPair,
  toVultrLocation,
  toVultrOs,
  toVultrSize,
  toVultrSnapshot,
  vultrNodeFields,
  vultrPager,
} from './vultr-wire.js';

export { VULTR_STATES } from './vultr-wire.js';

/** Provider-only fields `createNode` passes through from `input.extra`. */
const CREATE_EXTRA_KEYS = [
  'hostname',
  'backups',
  'enable_ipv6',
  'disable_public_ipv4',
  'attach_vpc',
  'enable_vpc',
  'vpc_only',
  'script_id',
  'firewall_group_id',
  'app_id',
  'image_id',
  'iso_id',
  'ipxe_chain_url',
  'ddos_protection',
  'activation_email',
  'user_scheme',
  'reserved_ipv4',
];
/** Create fields that stand in for `image`. */
const IMAGE_EXTRA_KEYS = ['app_id', 'image_id', 'iso_id', 'ipxe_chain_url'];
/** The power verbs: `halt` is Vultr's only stop, a hard power off. */
const POWER_VERBS = { reboot: 'reboot', start: 'start', stop: 'halt' } satisfies Record<
  PowerOperation,
  string
>;

/** Options of {@link vultr}. */
export interface VultrOptions extends TokenApiOptions {
  /** API key. @default process.env.VULTR_API_KEY */
  token?: string;
  /** @default 'https://api.vultr.com/v2/' */
  baseUrl?: string;
  /** Items per page (1–500, Vultr's maximum). @default 500 */
  perPage?: number;
}

/**
 * A Vultr provider.
 *
 * @example
 * ```ts
 * const vu = vultr({ id: 'vultr' }); // API key from VULTR_API_KEY
 * for await (const node of vu.listNodes()) console.log(node.name, node.state);
 * const node = await (await vu.startNode('cb676a46-66fd-4dfb-b839-443f2e6c0b60')).done();
 * ```
 */
export function vultr(options: VultrOptions): ManagedProvider {
  const base = checkCommonOptions(options, 'vultr', ['token', 'baseUrl', 'perPage']);
  const token = credential(options.token, 'options.token', 'VULTR_API_KEY');
  const perPage = intOption(options.perPage, 'options.perPage', 1, 500, 500);
  const http = createProviderHttpClient({
    provider: base.id,
    baseUrl: baseUrlOption(options.baseUrl, 'options.baseUrl', 'https://api.vultr.com/v2/'),
    http: options.http,
    logger: base.logger,
    clock: base.clock,
    authorize: ({ headers }) => {
      headers.authorization = `Bearer ${token}`;
    },
    // Vultr's 429 carries no headers: the kit's exponential backoff with jitter applies.
    parseError: parseVultrError,
    secrets: () => [token],
  });
  return new VultrAdapter(base, http, { perPage });
}

interface Settings {
  perPage: number;
}

class VultrAdapter extends withKeyPairs(WholeTagSetAdapter<Settings>) implements ManagedProvider {
  readonly kind = 'vultr' as const;

  #page(url: string, key: string, params?: Record<string, string | undefined>): FetchPage<unknown> {
    return vultrPager(this.http, { url, key, perPage: this.settings.perPage, params });
  }

  protected fetchPage(cursor: string | undefined, ctx: PageContext): Promise<RawPage> {
    return this.#page('instances', 'instances')(cursor, ctx);
  }

  protected async fetchNode(id: string, signal?: AbortSignal): Promise<unknown> {
    const body = asObject(
      await this.http.json({ url: `instances/${encodeURIComponent(nodeIdArg(id))}`, signal }),
      this.id,
      'instance response',
    );
    return body.instance;
  }

  protected toNode(value: unknown): Node {
    return this.node(vultrNodeFields(this.id, value));
  }

  protected override get statePollIntervalMs(): number {
    return 3_000;
  }

  protected checkTags(tags: Record<string, string>): Record<string, string> {
    formatStringTags(tags);
    return tags;
  }

  /** Tags are written whole (`PATCH /instances/{id}`, answered 202 once applied). */
  protected async updateTags(nodeId: string, compute: ComputeTags, signal?: AbortSignal): Promise<void> {
    const node = this.toNode(await this.fetchNode(nodeId, signal));
    await this.http.request({
      method: 'PATCH',
      url: `instances/${encodeURIComponent(nodeId)}`,
      json: { tags: formatStringTags(compute(node.tags)) },
      signal,
    });
  }

  /**
   * Vultr answers 204 and has no action API: the Operation polls the instance until it reaches the
   * verb's state. `halt` is Vultr's only stop, a hard power off (no ACPI shutdown), so `graceful`
   * changes nothing: `graceful: true` (the default) halts too; shut the OS down from inside first
   * for a clean stop. A reboot leaves the instance `running` throughout, so its `done()` may
   * resolve before the guest has restarted.
   */
  protected async powerAction(
    id: string,
    operation: PowerOperation,
    ctx: PowerContext,
  ): Promise<Operation<Node>> {
    await this.http.request({
      method: 'POST',
      url: `instances/${encodeURIComponent(id)}/${POWER_VERBS[operation]}`,
      signal: ctx.signal,
    });
    return this.powerStateOperation(id, operation);
  }

  /**
   * Create an instance (Vultr answers 202 with it `pending`). `image` is an OS id (digits) or a
   * snapshot id (UUID), as {@link listImages} gives them; `extra.app_id`/`image_id`/`iso_id` take
   * its place. `keyPair` is a key's name, looked up to its id. The `default_password` Vultr sends
   * back is never returned nor logged.
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const req = createInputArg(input, {
      cloud: 'Vultr',
      extraKeys: CREATE_EXTRA_KEYS,
      imageRequired: !IMAGE_EXTRA_KEYS.some((k) => input?.extra?.[k] !== undefined),
    });
    const key =
      req.keyPair === undefined
        ? undefined
        : await keyPairByName(this.id, this.listKeyPairs(opts), req.keyPair, 'input.keyPair');
    const image = req.image;
    const body = asObject(
      await this.http.json({
        method: 'POST',
        url: 'instances',
        json: {
          ...req.extra,
          region: req.location,
          plan: req.size,
          label: req.name,
          ...(image === undefined
            ? {}
            : /^\d+$/.test(image)
              ? { os_id: Number(image) }
              : { snapshot_id: image }),
          sshkey_id: key ? [key.id] : undefined,
          tags: formatStringTags(req.tags, 'input.tags'),
          user_data:
            req.userData === undefined ? undefined : Buffer.from(req.userData, 'utf8').toString('base64'),
        },
        signal: opts.signal,
      }),
      this.id,
      'create response',
    );
    return this.toNode(body.instance);
  }

  /** DELETE answers 204; the Operation polls until the instance is gone. */
  async destroyNode(id: string, opts: AbortOptions = {}): Promise<Operation<void>> {
    const nodeId = nodeIdArg(id);
    await this.http.request({
      method: 'DELETE',
      url: `instances/${encodeURIComponent(nodeId)}`,
      signal: opts.signal,
    });
    return this.goneOperation(nodeId);
  }

  /**
   * Images: `owner: 'self'` (the default) lists snapshots, `'public'` Vultr's operating systems,
   * `'all'` both. `filters` go to the snapshot listing (`description`).
   */
  async *listImages(opts: ListImagesOptions = {}): AsyncGenerator<NodeImage, void, undefined> {
    const req = imagesOptionsArg(opts, ['description']);
    const id = this.id;
    if (req.owner !== 'public')
      yield* this.listCheckedCatalog(
        this.#page('snapshots', 'snapshots', req.filters),
        (raw) => toVultrSnapshot(id, raw),
        req,
      );
    if (req.owner !== 'self')
      yield* this.listCheckedCatalog(this.#page('os', 'os'), (raw) => toVultrOs(id, raw), req);
  }

  listSizes(opts?: ListCatalogOptions): AsyncIterable<NodeSize> {
    return this.listCatalog(this.#page('plans', 'plans'), (raw) => toVultrSize(this.id, raw), opts);
  }

  listLocations(opts?: ListCatalogOptions): AsyncIterable<NodeLocation> {
    return this.listCatalog(this.#page('regions', 'regions'), (raw) => toVultrLocation(this.id, raw), opts);
  }

  protected override keyPairWire(): KeyPairWire {
    return {
      path: 'ssh-keys',
      pages: this.#page('ssh-keys', 'ssh_keys'),
      publicKeyField: 'ssh_key',
      envelope: 'ssh_key',
      toKeyPair: (raw) => toVultrKeyPair(this.id, raw),
    };
  }
}
