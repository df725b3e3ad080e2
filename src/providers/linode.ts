/**
 * Linode (API v4) adapter: Linode instances as nodes. Bearer token, `page`/`page_size` pagination
 * until `pages`, string tags (`key:value` / bare `tag`), boot/reboot/shutdown.
 */
import { randomBytes } from 'node:crypto';
import type { AbortOptions } from '../core.js';
import { FleetwatchError } from '../errors.js';
import {
  asObject,
  type ComputeTags,
  type CreateNodeInput,
  createInputArg,
  formatStringTags,
  imagesOptionsArg,
  isPrivateIp,
  type KeyPairWire,
  keyPairByName,
  type ListCatalogOptions,
  type ListImagesOptions,
  lookupState,
  type Node,
  type NodeImage,
  type NodeLocation,
  type NodeSize,
  type NodeState,
  nodeIdArg,
  type Operation,
  type PageContext,
  POWER_TARGET_STATES,
  type PowerContext,
  type PowerOperation,
  parseStringTags,
  pickExtra,
  type RawPage,
  str,
  type TokenApiOptions,
  tokenApiSetup,
  WholeTagSetAdapter,
  withKeyPairs,
} from './kit/index.js';
import {
  linodeDate,
  linodeImage,
  linodeKeyPair,
  linodeLocation,
  linodePager,
  linodeSize,
  pollLinodeEvent,
} from './linode-catalog.js';
import type { ManagedProvider } from './types.js';

/** Linode instance status → NodeState. */
export const LINODE_STATES = {
  running: 'running',
  offline: 'stopped',
  stopped: 'stopped',
  booting: 'starting',
  provisioning: 'pending',
  rebooting: 'rebooting',
  shutting_down: 'stopping',
  deleting: 'stopping',
  migrating: 'pending',
  rebuilding: 'pending',
  cloning: 'pending',
  restoring: 'pending',
  resizing: 'pending',
  billing_suspension: 'suspended',
} satisfies Record<string, NodeState>;

const EXTRA_KEYS = [
  'group',
  'hypervisor',
  'specs',
  'watchdog_enabled',
  'updated',
  'host_uuid',
  'lke_cluster_id',
];
/** Provider-only fields `createNode` passes through from `input.extra` (root_pass is sent, never logged). */
const CREATE_EXTRA_KEYS = [
  'root_pass',
  'authorized_keys',
  'authorized_users',
  'private_ip',
  'backups_enabled',
  'booted',
  'stackscript_id',
  'stackscript_data',
];
const POWER_VERBS = { reboot: 'reboot', start: 'boot', stop: 'shutdown' } satisfies Record<
  PowerOperation,
  string
>;

/** Options of {@link linode}. */
export interface LinodeOptions extends TokenApiOptions {
  /** Personal access token. @default process.env.LINODE_TOKEN */
  token?: string;
  /** @default 'https://api.linode.com/v4/' */
  baseUrl?: string;
  /** Instances per page (25–500). @default 500 */
  pageSize?: number;
}

/**
 * A Linode provider.
 *
 * @example
 * ```ts
 * const lin = linode({ id: 'linode' }); // token from LINODE_TOKEN
 * for await (const node of lin.listNodes()) console.log(node.name);
 * ```
 */
export function linode(options: LinodeOptions): ManagedProvider {
  const { base, http, pageSize } = tokenApiSetup(options, {
    kind: 'linode',
    tokenEnv: 'LINODE_TOKEN',
    defaultBaseUrl: 'https://api.linode.com/v4/',
    pageSize: { key: 'pageSize', min: 25, max: 500, fallback: 500 },
  });
  return new LinodeAdapter(base, http, pageSize);
}

/** Settings: the page size. */
class LinodeAdapter extends withKeyPairs(WholeTagSetAdapter<number>) implements ManagedProvider {
  readonly kind = 'linode' as const;

  protected fetchPage(cursor: string | undefined, ctx: PageContext): Promise<RawPage> {
    return linodePager(this.http, 'linode/instances', this.settings)(cursor, ctx);
  }

  /** Images: the account's own (`is_public: false`) by default; `filters.vendor` narrows public ones. */
  listImages(opts?: ListImagesOptions): AsyncIterable<NodeImage> {
    const req = imagesOptionsArg(opts, ['vendor']);
    const filter: Record<string, unknown> = { ...req.filters };
    if (req.owner !== 'all') filter.is_public = req.owner === 'public';
    return this.listCheckedCatalog(
      linodePager(this.http, 'images', this.settings, Object.keys(filter).length ? filter : undefined),
      (raw) => linodeImage(this.id, raw),
      req,
    );
  }

  listSizes(opts?: ListCatalogOptions): AsyncIterable<NodeSize> {
    return this.listCatalog(
      linodePager(this.http, 'linode/types', this.settings),
      (raw) => linodeSize(this.id, raw),
      opts,
    );
  }

  listLocations(opts?: ListCatalogOptions): AsyncIterable<NodeLocation> {
    return this.listCatalog(
      linodePager(this.http, 'regions', this.settings),
      (raw) => linodeLocation(this.id, raw),
      opts,
    );
  }

  /** Keys are deleted by id: the label is looked up first. */
  protected override keyPairWire(): KeyPairWire {
    return {
      path: 'profile/sshkeys',
      pages: linodePager(this.http, 'profile/sshkeys', this.settings),
      nameField: 'label',
      publicKeyField: 'ssh_key',
      toKeyPair: (raw) => linodeKeyPair(this.id, raw),
    };
  }

  protected fetchNode(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.http.json({ url: `linode/instances/${encodeURIComponent(nodeIdArg(id))}`, signal });
  }

  protected checkTags(tags: Record<string, string>): Record<string, string> {
    formatStringTags(tags);
    return tags;
  }

  protected async updateTags(nodeId: string, compute: ComputeTags, signal?: AbortSignal): Promise<void> {
    const current = await this.#currentTags(nodeId, signal);
    await this.#putTags(nodeId, formatStringTags(compute(current)), signal);
  }

  /**
   * Create a Linode. Without `image` it has no disks and stays offline (the API allows it). With one,
   * Linode requires `root_pass`: `extra.root_pass`, else a random one that is never returned (log in
   * with `keyPair`). `userData` goes base64-encoded into `metadata.user_data`.
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const req = createInputArg(input, {
      cloud: 'Linode',
      extraKeys: CREATE_EXTRA_KEYS,
      imageRequired: false,
    });
    const tags = formatStringTags(req.tags, 'input.tags');
    const keys = [...((req.extra.authorized_keys as string[] | undefined) ?? [])];
    if (req.keyPair !== undefined)
      keys.push(
        (await keyPairByName(this.id, this.listKeyPairs(opts), req.keyPair, 'input.keyPair')).publicKey ?? '',
      );
    const raw = await this.http.json({
      method: 'POST',
      url: 'linode/instances',
      json: {
        ...req.extra,
        label: req.name,
        type: req.size,
        region: req.location,
        tags,
        ...(req.image === undefined
          ? {}
          : { image: req.image, root_pass: req.extra.root_pass ?? randomBytes(24).toString('base64url') }),
        ...(keys.length && req.image !== undefined ? { authorized_keys: keys } : {}),
        ...(req.userData === undefined
          ? {}
          : { metadata: { user_data: Buffer.from(req.userData, 'utf8').toString('base64') } }),
      },
      signal: opts.signal,
    });
    return this.toNode(raw);
  }

  /** Delete a Linode; the operation waits until it is gone. */
  async destroyNode(id: string, opts: AbortOptions = {}): Promise<Operation<void>> {
    await this.http.request({
      method: 'DELETE',
      url: `linode/instances/${encodeURIComponent(nodeIdArg(id))}`,
      signal: opts.signal,
    });
    return this.goneOperation(id);
  }

  async #currentTags(nodeId: string, signal?: AbortSignal): Promise<Record<string, string>> {
    const node = await this.getNode(nodeIdArg(nodeId, 'nodeId'), { signal });
    if (!node)
      throw new FleetwatchError('E_NOT_FOUND', `${this.id}: node ${nodeId} not found`, { provider: this.id });
    return node.tags;
  }

  async #putTags(nodeId: string, tags: string[], signal?: AbortSignal): Promise<void> {
    await this.http.request({
      method: 'PUT',
      url: `linode/instances/${encodeURIComponent(nodeId)}`,
      json: { tags },
      signal,
    });
  }

  /**
   * Boot, reboot or shut down; the operation follows the Linode's newest event of that action
   * (`linode_boot`…) until `finished`, then its state. Linode has one shutdown: `graceful: false`
   * sends the same call.
   */
  protected async powerAction(
    id: string,
    operation: PowerOperation,
    { signal }: PowerContext,
  ): Promise<Operation<Node>> {
    const verb = POWER_VERBS[operation];
    await this.http.request({
      method: 'POST',
      url: `linode/instances/${encodeURIComponent(id)}/${verb}`,
      json: {},
      signal,
    });
    const action = `linode_${verb}`;
    const event = this.pollOperation<void>({
      id,
      action: operation,
      intervalMs: 2_000,
      poll: (s) => pollLinodeEvent(this.http, id, action, s),
    });
    return this.thenNode(event, id, POWER_TARGET_STATES[operation]);
  }

  protected toNode(value: unknown): Node {
    const raw = asObject(value, this.id, 'instance');
    const status = str(raw.status) ?? '';
    const v4 = Array.isArray(raw.ipv4) ? raw.ipv4.filter((ip): ip is string => typeof ip === 'string') : [];
    const v6 = typeof raw.ipv6 === 'string' && raw.ipv6 !== '' ? [raw.ipv6.replace(/\/\d+$/, '')] : [];
    return this.node({
      id: str(raw.id) ?? '',
      name: str(raw.label) ?? '',
      state: lookupState(LINODE_STATES, status),
      rawState: status,
      region: str(raw.region),
      publicIps: [...v4.filter((ip) => !isPrivateIp(ip)), ...v6],
      privateIps: v4.filter(isPrivateIp),
      size: str(raw.type),
      image: str(raw.image),
      // Linode timestamps are UTC without a zone suffix.
      createdAt: linodeDate(raw.created),
      tags: parseStringTags(raw.tags),
      extra: pickExtra(raw, EXTRA_KEYS),
    });
  }
}
