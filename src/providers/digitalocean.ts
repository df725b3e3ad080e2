/**
 * DigitalOcean (API v2) adapter: droplets as nodes. Bearer token, `page`/`per_page` pagination
 * following `links.pages.next`, string tags (`key:value` / bare `tag`), droplet actions.
 */
import { FleetwatchError } from '../errors.js';
import {
  asArray,
  asObject,
  createExtraArg,
  formatStringTags,
  HttpCloudAdapter,
  keysArg,
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
  tagsArg,
  tokenApiSetup,
} from './kit/index.js';
import type { CreateNodeInput, Node, NodeState, Operation } from './types.js';

/** DigitalOcean droplet status → NodeState. */
export const DIGITALOCEAN_STATES = {
  new: 'pending',
  active: 'running',
  off: 'stopped',
  archive: 'terminated',
} satisfies Record<string, NodeState>;

const EXTRA_KEYS = ['memory', 'vcpus', 'disk', 'locked', 'features', 'vpc_uuid', 'size_slug'] as const;
/** Provider-only fields `createNode` passes through from `input.extra`. */
const CREATE_EXTRA_KEYS = ['ssh_keys', 'backups', 'ipv6', 'monitoring', 'user_data', 'vpc_uuid', 'volumes'];
const TAG_NAME = /^[A-Za-z0-9_:.-]{1,255}$/;
const POWER_VERBS = { reboot: 'reboot', start: 'power_on', stop: 'power_off' } satisfies Record<
  PowerOperation,
  string
>;

/** Options of {@link digitalocean}. */
export interface DigitalOceanOptions extends TokenApiOptions {
  /** API token. @default process.env.DIGITALOCEAN_TOKEN */
  token?: string;
  /** @default 'https://api.digitalocean.com/v2/' */
  baseUrl?: string;
  /** Droplets per page (1–200). @default 200 */
  perPage?: number;
}

/** What `digitalocean()` returns: a {@link Provider} with these optional operations present. */
export type DigitalOceanProvider = ProviderWith<NodeLifecycleOperation>;

/**
 * A DigitalOcean provider.
 *
 * @example
 * ```ts
 * const doProd = digitalocean({ id: 'do-prod' }); // token from DIGITALOCEAN_TOKEN
 * for await (const node of doProd.listNodes()) console.log(node.name, node.state);
 * ```
 */
export function digitalocean(options: DigitalOceanOptions): DigitalOceanProvider {
  const { base, http, pageSize } = tokenApiSetup(options, {
    kind: 'digitalocean',
    tokenEnv: 'DIGITALOCEAN_TOKEN',
    defaultBaseUrl: 'https://api.digitalocean.com/v2/',
    pageSize: { key: 'perPage', min: 1, max: 200, fallback: 200 },
  });
  return new DigitalOceanAdapter(base, http, pageSize);
}

interface DropletEnvelope {
  droplet?: unknown;
}

/** Settings: the page size. */
class DigitalOceanAdapter extends HttpCloudAdapter<number> implements DigitalOceanProvider {
  readonly kind = 'digitalocean' as const;

  protected async fetchPage(cursor: string | undefined, { signal }: PageContext): Promise<RawPage> {
    const body = asObject(
      await this.http.json(
        cursor
          ? { url: cursor, signal }
          : { url: 'droplets', searchParams: { page: 1, per_page: this.settings }, signal },
      ),
      this.id,
      'droplet list',
    );
    const links = body.links as { pages?: { next?: unknown } } | undefined;
    const next = str(links?.pages?.next);
    return {
      items: asArray(body.droplets, this.id, 'droplets'),
      next: next ? this.http.resolveLink(next) : undefined,
    };
  }

  protected fetchNode(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.#getDroplet(id, signal);
  }

  async setTags(
    nodeId: string,
    tags: Record<string, string>,
    opts: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const wanted = formatStringTags(tagsArg(tags));
    for (const t of wanted) if (!TAG_NAME.test(t)) throw invalidTag(t);
    const current = this.#rawTags(await this.#getDroplet(nodeIdArg(nodeId, 'nodeId'), opts.signal));
    // Merge: the given keys get the given values; tags with other keys stay.
    const keys = new Set(Object.keys(tags));
    await this.#applyTags(
      nodeId,
      wanted.filter((t) => !current.includes(t)),
      current.filter((t) => keys.has(tagKey(t)) && !wanted.includes(t)),
      opts.signal,
    );
  }

  async removeTags(nodeId: string, keys: string[], opts: { signal?: AbortSignal } = {}): Promise<void> {
    const drop = new Set(keysArg(keys));
    const current = this.#rawTags(await this.#getDroplet(nodeIdArg(nodeId, 'nodeId'), opts.signal));
    const remove = current.filter((t) => drop.has(tagKey(t)));
    await this.#applyTags(nodeId, [], remove, opts.signal);
  }

  async createNode(input: CreateNodeInput, opts: { signal?: AbortSignal } = {}): Promise<Node> {
    const name = nodeIdArg(input?.name, 'input.name');
    const tags = optionalStringTags(input.tags, 'input.tags');
    for (const t of tags) if (!TAG_NAME.test(t)) throw invalidTag(t);
    const extra = createExtraArg(input.extra, CREATE_EXTRA_KEYS, 'DigitalOcean');
    const body = asObject(
      await this.http.json<DropletEnvelope>({
        method: 'POST',
        url: 'droplets',
        json: {
          ...extra,
          name,
          size: nodeIdArg(input.size, 'input.size'),
          image: nodeIdArg(input.image, 'input.image'),
          region: input.region,
          tags,
        },
        signal: opts.signal,
      }),
      this.id,
      'create response',
    );
    return this.toNode(body.droplet);
  }

  async destroyNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.http.request({
      method: 'DELETE',
      url: `droplets/${encodeURIComponent(nodeIdArg(id))}`,
      signal: opts.signal,
    });
  }

  async #getDroplet(id: string, signal?: AbortSignal): Promise<unknown> {
    const body = asObject(
      await this.http.json<DropletEnvelope>({
        url: `droplets/${encodeURIComponent(nodeIdArg(id))}`,
        signal,
      }),
      this.id,
      'droplet response',
    );
    return body.droplet;
  }

  #rawTags(droplet: unknown): string[] {
    const tags = asObject(droplet, this.id, 'droplet').tags;
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  }

  async #applyTags(nodeId: string, add: string[], remove: string[], signal?: AbortSignal): Promise<void> {
    const resources = [{ resource_id: nodeId, resource_type: 'droplet' }];
    for (const tag of add) {
      // Creating an existing tag is harmless; DigitalOcean answers with the tag.
      await this.http.request({
        method: 'POST',
        url: 'tags',
        json: { name: tag },
        signal,
        idempotent: true,
      });
      await this.http.request({
        method: 'POST',
        url: `tags/${encodeURIComponent(tag)}/resources`,
        json: { resources },
        signal,
        idempotent: true,
      });
    }
    for (const tag of remove) {
      await this.http.request({
        method: 'DELETE',
        url: `tags/${encodeURIComponent(tag)}/resources`,
        json: { resources },
        signal,
      });
    }
  }

  protected async powerAction(
    id: string,
    operation: PowerOperation,
    { signal }: PowerContext,
  ): Promise<Operation<Node>> {
    await this.http.request({
      method: 'POST',
      url: `droplets/${encodeURIComponent(nodeIdArg(id))}/actions`,
      json: { type: POWER_VERBS[operation] },
      signal,
    });
    return this.powerStateOperation(id, operation);
  }

  protected toNode(value: unknown): Node {
    const raw = asObject(value, this.id, 'droplet');
    const status = str(raw.status) ?? '';
    const networks = (raw.networks ?? {}) as { v4?: unknown; v6?: unknown };
    const addresses = [
      ...(Array.isArray(networks.v4) ? networks.v4 : []),
      ...(Array.isArray(networks.v6) ? networks.v6 : []),
    ] as Array<{ ip_address?: unknown; type?: unknown }>;
    const ips = (type: string) =>
      addresses
        .filter((a) => a?.type === type && typeof a.ip_address === 'string')
        .map((a) => a.ip_address as string);
    const image = (raw.image ?? {}) as { slug?: unknown; id?: unknown };
    const region = (raw.region ?? {}) as { slug?: unknown };
    return this.node({
      id: str(raw.id) ?? '',
      name: str(raw.name) ?? '',
      state: lookupState(DIGITALOCEAN_STATES, status),
      rawState: status,
      region: str(region.slug),
      publicIps: ips('public'),
      privateIps: ips('private'),
      size: str(raw.size_slug) ?? str((raw.size as { slug?: unknown } | undefined)?.slug),
      image: str(image.slug) ?? str(image.id),
      createdAt: parseDate(raw.created_at),
      tags: parseStringTags(raw.tags),
      extra: pickExtra(raw, EXTRA_KEYS),
    });
  }
}

/** The key of a `key:value` or bare tag. */
function tagKey(tag: string): string {
  const i = tag.indexOf(':');
  return i < 0 ? tag : tag.slice(0, i);
}

function invalidTag(tag: string): FleetwatchError {
  return new FleetwatchError(
    'E_VALIDATION',
    `tags: "${tag}" is not a valid DigitalOcean tag (letters, digits, _ : . -, up to 255)`,
    { path: 'tags', expected: 'letters, digits, _ : . -' },
  );
}
