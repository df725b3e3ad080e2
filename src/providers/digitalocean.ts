/**
 * DigitalOcean (API v2) adapter: droplets as nodes. Bearer token, `page`/`per_page` pagination
 * following `links.pages.next`, string tags (`key:value` / bare `tag`), droplet actions.
 */
import type { AbortOptions } from '../core.js';
import { FleetwatchError } from '../errors.js';
import {
  doActionId,
  doImage,
  doKeyPair,
  doLocation,
  doPager,
  doSize,
  pollDoAction,
} from './digitalocean-catalog.js';
import {
  asObject,
  type CreateNodeInput,
  completedOperation,
  createInputArg,
  formatStringTags,
  gracefulStopOperation,
  HttpCloudAdapter,
  imagesOptionsArg,
  type KeyPairWire,
  keyPairByName,
  keysArg,
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
  parseDate,
  parseStringTags,
  pickExtra,
  type RawPage,
  str,
  type TokenApiOptions,
  tagsArg,
  tokenApiSetup,
  withKeyPairs,
} from './kit/index.js';
import type { ManagedProvider } from './types.js';

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
const POWER_VERBS = { reboot: 'reboot', start: 'power_on', stop: 'shutdown' } satisfies Record<
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

/**
 * A DigitalOcean provider.
 *
 * @example
 * ```ts
 * const doProd = digitalocean({ id: 'do-prod' }); // token from DIGITALOCEAN_TOKEN
 * for await (const node of doProd.listNodes()) console.log(node.name, node.state);
 * ```
 */
export function digitalocean(options: DigitalOceanOptions): ManagedProvider {
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
class DigitalOceanAdapter extends withKeyPairs(HttpCloudAdapter<number>) implements ManagedProvider {
  readonly kind = 'digitalocean' as const;

  protected fetchPage(cursor: string | undefined, ctx: PageContext): Promise<RawPage> {
    return doPager(this.http, 'droplets', 'droplets', this.settings)(cursor, ctx);
  }

  /** Images: the account's own (`private=true`) by default; `filters.type` (`distribution`, `application`) and `filters.tag_name` passed on. */
  listImages(opts?: ListImagesOptions): AsyncIterable<NodeImage> {
    const req = imagesOptionsArg(opts, ['type', 'tag_name']);
    const params = { ...req.filters, private: req.owner === 'self' ? 'true' : undefined };
    return this.listCheckedCatalog(
      doPager(this.http, 'images', 'images', this.settings, params),
      (raw) => {
        const image = doImage(this.id, raw);
        return req.owner === 'public' && image.public === false ? undefined : image;
      },
      req,
    );
  }

  listSizes(opts?: ListCatalogOptions): AsyncIterable<NodeSize> {
    return this.listCatalog(
      doPager(this.http, 'sizes', 'sizes', this.settings),
      (raw) => doSize(this.id, raw),
      opts,
    );
  }

  listLocations(opts?: ListCatalogOptions): AsyncIterable<NodeLocation> {
    return this.listCatalog(
      doPager(this.http, 'regions', 'regions', this.settings),
      (raw) => doLocation(this.id, raw),
      opts,
    );
  }

  protected override keyPairWire(): KeyPairWire {
    return {
      path: 'account/keys',
      pages: doPager(this.http, 'account/keys', 'ssh_keys', this.settings),
      publicKeyField: 'public_key',
      envelope: 'ssh_key',
      toKeyPair: (raw) => doKeyPair(this.id, raw),
    };
  }

  protected fetchNode(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.#getDroplet(id, signal);
  }

  async setTags(
    nodeId: string,
    tags: Record<string, string>,
    opts: { signal?: AbortSignal } = {},
  ): Promise<Operation<void>> {
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
    return completedOperation(nodeId, 'setTags', undefined);
  }

  async removeTags(
    nodeId: string,
    keys: string[],
    opts: { signal?: AbortSignal } = {},
  ): Promise<Operation<void>> {
    const drop = new Set(keysArg(keys));
    const current = this.#rawTags(await this.#getDroplet(nodeIdArg(nodeId, 'nodeId'), opts.signal));
    const remove = current.filter((t) => drop.has(tagKey(t)));
    await this.#applyTags(nodeId, [], remove, opts.signal);
    return completedOperation(nodeId, 'removeTags', undefined);
  }

  /** Create a droplet; `keyPair` is a key's name (looked up), `userData` is sent as is. */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const req = createInputArg(input, {
      cloud: 'DigitalOcean',
      extraKeys: CREATE_EXTRA_KEYS,
      // The API picks a region when none is given.
      locationRequired: false,
    });
    const tags = formatStringTags(req.tags, 'input.tags');
    for (const t of tags) if (!TAG_NAME.test(t)) throw invalidTag(t);
    const sshKeys = [...((req.extra.ssh_keys as unknown[] | undefined) ?? [])];
    if (req.keyPair !== undefined)
      sshKeys.push(
        Number((await keyPairByName(this.id, this.listKeyPairs(opts), req.keyPair, 'input.keyPair')).id),
      );
    const body = asObject(
      await this.http.json<DropletEnvelope>({
        method: 'POST',
        url: 'droplets',
        json: {
          ...req.extra,
          name: req.name,
          size: req.size,
          image: /^\d+$/.test(req.image ?? '') ? Number(req.image) : req.image,
          region: req.location,
          tags,
          ...(sshKeys.length ? { ssh_keys: sshKeys } : {}),
          ...(req.userData === undefined ? {} : { user_data: req.userData }),
        },
        signal: opts.signal,
      }),
      this.id,
      'create response',
    );
    return this.toNode(body.droplet);
  }

  /** Destroy a droplet (204, no action): the operation waits until the droplet is gone. */
  async destroyNode(id: string, opts: AbortOptions = {}): Promise<Operation<void>> {
    await this.http.request({
      method: 'DELETE',
      url: `droplets/${encodeURIComponent(nodeIdArg(id))}`,
      signal: opts.signal,
    });
    return this.goneOperation(id);
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

  /** `stop` is `shutdown` (graceful, then `power_off` after the grace) or `power_off`. */
  protected async powerAction(
    id: string,
    operation: PowerOperation,
    ctx: PowerContext,
  ): Promise<Operation<Node>> {
    const target = POWER_TARGET_STATES[operation];
    if (operation !== 'stop' || !ctx.graceful) {
      const verb = operation === 'stop' ? 'power_off' : POWER_VERBS[operation];
      return this.thenNode(await this.#action(id, verb, ctx.signal), id, target);
    }
    const graceful = this.thenNode(await this.#action(id, 'shutdown', ctx.signal), id, target);
    return gracefulStopOperation({
      graceful,
      graceMs: ctx.graceMs,
      clock: this.clock,
      hard: async (signal) => this.thenNode(await this.#action(id, 'power_off', signal), id, target),
    });
  }

  /** Post a droplet action; the operation polls `/v2/actions/{id}`. */
  async #action(id: string, type: string, signal?: AbortSignal): Promise<Operation<void>> {
    const body = await this.http.json({
      method: 'POST',
      url: `droplets/${encodeURIComponent(id)}/actions`,
      json: { type },
      signal,
    });
    const actionId = doActionId(this.id, body);
    return this.pollOperation({
      id: actionId,
      action: type,
      poll: (s) => pollDoAction(this.http, actionId, s),
    });
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
