/**
 * Vultr (API v2) adapter: instances as nodes. Bearer API key, `per_page` + cursor pagination
 * following `meta.links.next`, string tags (`key:value` / bare `tag`). Vultr has no action API:
 * every Operation polls the instance's state.
 */
import type { AbortOptions, Clock } from '../core.js';
import { validationError } from '../errors.js';
import {
  type CatalogueFetch,
  keyPairByName,
  listPaged,
  type ManagedProvider,
  stopRequest,
} from './cloud-ops.js';
import {
  asObject,
  baseUrlOption,
  checkCommonOptions,
  completedOperation,
  createExtraArg,
  createProviderHttpClient,
  credential,
  formatStringTags,
  HttpCloudAdapter,
  intOption,
  keysArg,
  nodeIdArg,
  optionalStringTags,
  type PageContext,
  type PowerOperation,
  type RawPage,
  type TokenApiOptions,
  tagsArg,
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
import {
  parseVultrError,
  toVultrKeyPair,
  toVultrLocation,
  toVultrOs,
  toVultrSize,
  toVultrSnapshot,
  vultrNodeFields,
  vultrPage,
} from './vultr-wire.js';

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
/** The power verbs (`halt` is Vultr's only stop: a hard power off) and the state each waits for. */
const POWER = {
  reboot: { verb: 'reboot', until: 'running' },
  start: { verb: 'start', until: 'running' },
  stop: { verb: 'halt', until: 'stopped' },
} as const satisfies Record<PowerOperation, { verb: string; until: NodeState }>;

/** Options of {@link vultr}. */
export interface VultrOptions extends TokenApiOptions {
  /** API key. @default process.env.VULTR_API_KEY */
  token?: string;
  /** @default 'https://api.vultr.com/v2/' */
  baseUrl?: string;
  /** Items per page (1–500, Vultr's maximum). @default 500 */
  perPage?: number;
}

/** What `vultr()` returns: every management operation, each mutation an {@link Operation}. */
export type VultrProvider = ManagedProvider;

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
export function vultr(options: VultrOptions): VultrProvider {
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
  return new VultrAdapter(base, http, { perPage, clock: base.clock });
}

interface Settings {
  perPage: number;
  clock: Clock;
}

class VultrAdapter extends HttpCloudAdapter<Settings> implements VultrProvider {
  readonly kind = 'vultr' as const;

  #page(url: string, key: string, params?: Record<string, string | undefined>): CatalogueFetch {
    return (cursor, { signal }) =>
      vultrPage(this.http, this.id, { url, key, perPage: this.settings.perPage, params }, cursor, signal);
  }

  protected fetchPage(cursor: string | undefined, { signal }: PageContext): Promise<RawPage> {
    return this.#page('instances', 'instances')(cursor, { page: 0, signal });
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

  async setTags(
    nodeId: string,
    tags: Record<string, string>,
    opts: AbortOptions = {},
  ): Promise<Operation<void>> {
    const wanted = tagsArg(tags);
    formatStringTags(wanted);
    return this.#updateTags(nodeId, (current) => ({ ...current, ...wanted }), 'setTags', opts.signal);
  }

  async removeTags(nodeId: string, keys: string[], opts: AbortOptions = {}): Promise<Operation<void>> {
    const drop = new Set(keysArg(keys));
    return this.#updateTags(nodeId, (current) => withoutKeys(current, drop), 'removeTags', opts.signal);
  }

  /** Tags are written whole (`PATCH /instances/{id}`, answered 202 once applied). */
  async #updateTags(
    nodeId: string,
    compute: (current: Record<string, string>) => Record<string, string>,
    action: string,
    signal?: AbortSignal,
  ): Promise<Operation<void>> {
    const id = nodeIdArg(nodeId, 'nodeId');
    const node = this.toNode(await this.fetchNode(id, signal));
    const tags = formatStringTags(compute(node.tags));
    await this.http.request({
      method: 'PATCH',
      url: `instances/${encodeURIComponent(id)}`,
      json: { tags },
      signal,
    });
    return completedOperation(id, action, undefined);
  }

  protected async powerAction(id: string, operation: PowerOperation, signal?: AbortSignal): Promise<void> {
    await this.http.request({
      method: 'POST',
      url: `instances/${encodeURIComponent(nodeIdArg(id))}/${POWER[operation].verb}`,
      signal,
    });
  }

  /** Send the verb; the Operation polls the instance until it reaches the verb's state. */
  async #power(id: string, operation: PowerOperation, signal?: AbortSignal): Promise<Operation<Node>> {
    await this.powerAction(id, operation, signal);
    return this.#untilState(id, operation, [POWER[operation].until]);
  }

  #untilState(id: string, action: string, states: readonly NodeState[]): Operation<Node> {
    return { id, action, done: (opts) => this.waitForState(id, states, opts) };
  }

  /**
   * Vultr's reboot leaves the instance `running` throughout: `done()` resolves at the first poll
   * that sees it running and `ok`, which may be before the guest has restarted.
   */
  // @ts-expect-error TS2416: the kit's base power actions return void until its Operation-returning ones land
  override rebootNode(id: string, opts: AbortOptions = {}): Promise<Operation<Node>> {
    return this.#power(id, 'reboot', opts.signal);
  }

  // @ts-expect-error TS2416: see rebootNode
  override startNode(id: string, opts: AbortOptions = {}): Promise<Operation<Node>> {
    return this.#power(id, 'start', opts.signal);
  }

  /**
   * Vultr offers only `halt`, a hard power off (no ACPI shutdown), so `graceful` changes nothing:
   * `graceful: true` (the default) halts too. Shut the OS down from inside first for a clean stop.
   */
  // @ts-expect-error TS2416: see rebootNode
  override stopNode(id: string, opts?: StopNodeOptions): Promise<Operation<Node>> {
    const { signal } = stopRequest(opts);
    return this.#power(id, 'stop', signal);
  }

  waitForState(nodeId: string, states: readonly NodeState[], opts: WaitOptions = {}): Promise<Node> {
    return waitForNodeState(this, nodeIdArg(nodeId, 'nodeId'), states, {
      ...opts,
      sleep: this.http.options.sleep,
      clock: this.settings.clock,
      defaultIntervalMs: 3_000,
    });
  }

  /**
   * Create an instance (Vultr answers 202 with it `pending`). `image` is an OS id (digits) or a
   * snapshot id (UUID), as {@link listImages} gives them; `extra.app_id`/`image_id`/`iso_id` take
   * its place. `keyPair` is a key's name, looked up to its id. The `default_password` Vultr sends
   * back is never returned nor logged.
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const extra = createExtraArg(input?.extra, CREATE_EXTRA_KEYS, 'Vultr');
    const image = input.image === undefined ? undefined : nodeIdArg(input.image, 'input.image');
    if (image === undefined && !['app_id', 'image_id', 'iso_id', 'ipxe_chain_url'].some((k) => k in extra))
      throw validationError('input.image', 'an image id (or extra.app_id, image_id, iso_id)', image);
    const region = nodeIdArg(input.location ?? input.region ?? input.zone, 'input.location');
    if (input.userData !== undefined && typeof input.userData !== 'string')
      throw validationError('input.userData', 'a string', input.userData);
    const key =
      input.keyPair === undefined
        ? undefined
        : await keyPairByName(
            this.id,
            this.listKeyPairs(opts),
            nodeIdArg(input.keyPair, 'input.keyPair'),
            'input.keyPair',
          );
    const body = asObject(
      await this.http.json({
        method: 'POST',
        url: 'instances',
        json: {
          ...extra,
          region,
          plan: nodeIdArg(input.size, 'input.size'),
          label: nodeIdArg(input.name, 'input.name'),
          ...(image === undefined
            ? {}
            : /^\d+$/.test(image)
              ? { os_id: Number(image) }
              : { snapshot_id: image }),
          sshkey_id: key ? [key.id] : undefined,
          tags: optionalStringTags(input.tags, 'input.tags'),
          user_data:
            input.userData === undefined ? undefined : Buffer.from(input.userData, 'utf8').toString('base64'),
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
    const gone = this.#untilState(nodeId, 'destroy', ['terminated']);
    return { id: nodeId, action: 'destroy', done: async (wait) => void (await gone.done(wait)) };
  }

  /**
   * Images: `owner: 'self'` (the default) lists snapshots, `'public'` Vultr's operating systems,
   * `'all'` both. `filters` go to the snapshot listing (`description`).
   */
  async *listImages(opts: ListImagesOptions = {}): AsyncGenerator<NodeImage, void, undefined> {
    const owner = opts.owner ?? 'self';
    if (owner !== 'self' && owner !== 'public' && owner !== 'all')
      throw validationError('opts.owner', "'self', 'public' or 'all'", owner);
    const filters = opts.filters === undefined ? {} : tagsArg(opts.filters, 'opts.filters');
    const id = this.id;
    if (owner !== 'public')
      yield* listPaged(
        id,
        this.#page('snapshots', 'snapshots', filters),
        (raw) => toVultrSnapshot(id, raw),
        opts,
      );
    if (owner !== 'self') yield* listPaged(id, this.#page('os', 'os'), (raw) => toVultrOs(id, raw), opts);
  }

  listSizes(opts: ListCatalogOptions = {}): AsyncIterable<NodeSize> {
    return listPaged(this.id, this.#page('plans', 'plans'), (raw) => toVultrSize(this.id, raw), opts);
  }

  listLocations(opts: ListCatalogOptions = {}): AsyncIterable<NodeLocation> {
    return listPaged(this.id, this.#page('regions', 'regions'), (raw) => toVultrLocation(this.id, raw), opts);
  }

  listKeyPairs(opts: ListCatalogOptions = {}): AsyncIterable<KeyPair> {
    return listPaged(
      this.id,
      this.#page('ssh-keys', 'ssh_keys'),
      (raw) => toVultrKeyPair(this.id, raw),
      opts,
    );
  }

  async importKeyPair(input: { name: string; publicKey: string }, opts: AbortOptions = {}): Promise<KeyPair> {
    const body = asObject(
      await this.http.json({
        method: 'POST',
        url: 'ssh-keys',
        json: {
          name: nodeIdArg(input?.name, 'input.name'),
          ssh_key: nodeIdArg(input.publicKey, 'input.publicKey'),
        },
        signal: opts.signal,
      }),
      this.id,
      'ssh key response',
    );
    return toVultrKeyPair(this.id, body.ssh_key);
  }

  async deleteKeyPair(name: string, opts: AbortOptions = {}): Promise<void> {
    const key = await keyPairByName(this.id, this.listKeyPairs(opts), nodeIdArg(name, 'name'), 'name');
    await this.http.request({
      method: 'DELETE',
      url: `ssh-keys/${encodeURIComponent(key.id ?? '')}`,
      signal: opts.signal,
    });
  }
}
