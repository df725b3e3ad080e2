/**
 * Linode (API v4) adapter: Linode instances as nodes. Bearer token, `page`/`page_size` pagination
 * until `pages`, string tags (`key:value` / bare `tag`), boot/reboot/shutdown.
 */
import { FleetwatchError } from '../errors.js';
import {
  asArray,
  asObject,
  type ComputeTags,
  createExtraArg,
  formatStringTags,
  isPrivateIp,
  lookupState,
  type NodeLifecycleOperation,
  nodeIdArg,
  optionalStringTags,
  type PageContext,
  type PowerContext,
  type PowerOperation,
  type ProviderWith,
  parseDate,
  parseStringTags,
  pickExtra,
  type RawPage,
  str,
  type TokenApiOptions,
  tokenApiSetup,
  WholeTagSetAdapter,
} from './kit/index.js';
import type { CreateNodeInput, Node, NodeState, Operation } from './types.js';

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

/** What `linode()` returns: a {@link Provider} with these optional operations present. */
export type LinodeProvider = ProviderWith<NodeLifecycleOperation>;

/**
 * A Linode provider.
 *
 * @example
 * ```ts
 * const lin = linode({ id: 'linode' }); // token from LINODE_TOKEN
 * for await (const node of lin.listNodes()) console.log(node.name);
 * ```
 */
export function linode(options: LinodeOptions): LinodeProvider {
  const { base, http, pageSize } = tokenApiSetup(options, {
    kind: 'linode',
    tokenEnv: 'LINODE_TOKEN',
    defaultBaseUrl: 'https://api.linode.com/v4/',
    pageSize: { key: 'pageSize', min: 25, max: 500, fallback: 500 },
  });
  return new LinodeAdapter(base, http, pageSize);
}

/** Settings: the page size. */
class LinodeAdapter extends WholeTagSetAdapter<number> implements LinodeProvider {
  readonly kind = 'linode' as const;

  protected async fetchPage(cursor: string | undefined, { signal }: PageContext): Promise<RawPage> {
    const page = cursor === undefined ? 1 : Number(cursor);
    const body = asObject(
      await this.http.json({
        url: 'linode/instances',
        searchParams: { page, page_size: this.settings },
        signal,
      }),
      this.id,
      'instance list',
    );
    if (body.page !== undefined && body.page !== page)
      throw new FleetwatchError(
        'E_PROVIDER',
        `${this.id}: asked for page ${page}, got page ${String(body.page)}`,
        {
          provider: this.id,
          providerCode: 'PAGE_MISMATCH',
        },
      );
    const pages = typeof body.pages === 'number' ? body.pages : 1;
    return {
      items: asArray(body.data, this.id, 'data'),
      next: page < pages ? String(page + 1) : undefined,
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

  async createNode(input: CreateNodeInput, opts: { signal?: AbortSignal } = {}): Promise<Node> {
    const extra = createExtraArg(input?.extra, CREATE_EXTRA_KEYS, 'Linode');
    const raw = await this.http.json({
      method: 'POST',
      url: 'linode/instances',
      json: {
        ...extra,
        label: nodeIdArg(input.name, 'input.name'),
        type: nodeIdArg(input.size, 'input.size'),
        image: nodeIdArg(input.image, 'input.image'),
        region: input.region,
        tags: optionalStringTags(input.tags, 'input.tags'),
      },
      signal: opts.signal,
    });
    return this.toNode(raw);
  }

  async destroyNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.http.request({
      method: 'DELETE',
      url: `linode/instances/${encodeURIComponent(nodeIdArg(id))}`,
      signal: opts.signal,
    });
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

  protected async powerAction(
    id: string,
    operation: PowerOperation,
    { signal }: PowerContext,
  ): Promise<Operation<Node>> {
    await this.http.request({
      method: 'POST',
      url: `linode/instances/${encodeURIComponent(nodeIdArg(id))}/${POWER_VERBS[operation]}`,
      json: {},
      signal,
    });
    return this.powerStateOperation(id, operation);
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
      createdAt: parseDate(
        typeof raw.created === 'string' && !/[zZ]|[+-]\d\d:?\d\d$/.test(raw.created)
          ? `${raw.created}Z`
          : raw.created,
      ),
      tags: parseStringTags(raw.tags),
      extra: pickExtra(raw, EXTRA_KEYS),
    });
  }
}
