/**
 * OpenStack Nova (compute) with Keystone v3 password auth (or v2.0, for Rackspace and older clouds):
 * any OpenStack cloud reachable through an `authUrl`. The token is cached and refreshed before it expires (and once on a 401); the compute
 * endpoint comes from the token's service catalog by type, region and interface.
 */
import type { AbortOptions } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import {
  CatalogProvider,
  completedOperation,
  createExtraArg,
  keysArg,
  listAcrossRegions,
  mapOperation,
  type NodeStateSource,
  nodeStateOperation,
  nodesFromPages,
  normalizeProviderHttpOptions,
  remembered,
  signalOf,
  undefinedIfNotFound,
  userDataBase64,
  waitForNodeState,
} from './kit/index.js';
import { OpenStackClient } from './openstack-client.js';
import { OPENSTACK_CATALOG } from './openstack-manage.js';
import { checkTags, isRecord, novaNextCursor, openstackServerToNode, str } from './openstack-nodes.js';
import {
  CREATE_EXTRA_KEYS,
  normalizeOpenStackOptions,
  type OpenStackCreateNodeExtra,
  type OpenStackOptions,
} from './openstack-options.js';
import type {
  CreateNodeInput,
  ListNodesOptions,
  ManagedProvider,
  Node,
  NodeState,
  Operation,
  Provider,
  StopNodeOptions,
  WaitOptions,
} from './types.js';

/** OpenStack gives no polling guidance: start at 2 s, growing to 15 s. */
export const OPENSTACK_POLL_INTERVAL_MS = 2_000;
/** Nova's `user_data` limit is 65,535 bytes of base64: 49,152 bytes of text. */
export const OPENSTACK_USER_DATA_MAX_BYTES = 49_152;

/** What each server action sends and waits for. */
const ACTIONS = {
  reboot: { body: { reboot: { type: 'SOFT' } }, target: ['running'] },
  start: { body: { 'os-start': null }, target: ['running'] },
  stop: { body: { 'os-stop': null }, target: ['stopped'] },
} as const satisfies Record<string, { body: Record<string, unknown>; target: readonly NodeState[] }>;

/**
 * An OpenStack (Nova + Glance + Keystone) provider: listing, metadata tags, server actions that
 * return an {@link Operation} polling `status` and `OS-EXT-STS:task_state`, create and destroy, and
 * the catalogue (Glance images, flavors, availability zones, key pairs). Build it with {@link openstack}.
 *
 * @example
 * ```ts
 * const os = new OpenStackProvider({ id: 'os-lab', authUrl: 'https://keystone.example:5000/v3',
 *   username: 'ops', password: 'secret', projectName: 'fleet', region: 'RegionOne' });
 * const op = await os.stopNode('7f3c…');
 * await op.done({ timeoutMs: 120_000 });
 * ```
 */
export class OpenStackProvider extends CatalogProvider<OpenStackClient> implements Provider {
  readonly id: string;
  readonly kind = 'openstack' as const;

  constructor(options: OpenStackOptions) {
    const config = normalizeOpenStackOptions(options);
    super(new OpenStackClient(config, normalizeProviderHttpOptions(options.http)), OPENSTACK_CATALOG);
    this.id = config.id;
  }

  listNodes(opts: ListNodesOptions = {}): AsyncIterable<Node> {
    const c = this.client;
    return listAcrossRegions(
      (o) => c.regions(o),
      (region: string | undefined, o: ListNodesOptions) => this.#listRegion(region, o),
      c.config.regionConcurrency,
    )(opts);
  }

  async *#listRegion(region: string | undefined, opts: ListNodesOptions): AsyncGenerator<Node> {
    const c = this.client;
    const provider = this.id;
    const { client, region: actual } = await c.service('compute', region, opts);
    yield* nodesFromPages<Node>(
      async (cursor, ctx) => {
        // A cursor is a marker (server ids have no '/'), or a next link that carried no marker.
        const isLink = cursor?.includes('/') === true;
        const body = await client.json<unknown>({
          // Standard URL resolution first (a '/path' link is origin-relative), then the same-origin check.
          url: isLink ? client.resolveLink(new URL(cursor, client.baseUrl).toString()) : 'servers/detail',
          ...(isLink
            ? {}
            : {
                searchParams: {
                  ...c.config.filters,
                  limit: c.config.pageSize,
                  ...(cursor === undefined ? {} : { marker: cursor }),
                },
              }),
          ...signalOf(ctx),
        });
        if (!isRecord(body) || !Array.isArray(body.servers))
          throw new FleetwatchError(
            'E_MALFORMED_RESPONSE',
            `${provider}: servers/detail has no servers array`,
            {
              provider,
            },
          );
        return {
          items: body.servers.map((s) =>
            openstackServerToNode(s, { provider, ...(actual ? { region: actual } : {}) }),
          ),
          next: novaNextCursor(body),
        };
      },
      (node) => remembered(c, node, region),
      { ...opts, provider },
    );
  }

  async getNode(id: string, opts: AbortOptions = {}): Promise<Node | undefined> {
    return this.client.getNode(checkId(id), opts);
  }

  /** Merge metadata keys (`POST …/metadata`); other keys stay. Done at once. */
  async setTags(
    nodeId: string,
    tags: Record<string, string>,
    opts: AbortOptions = {},
  ): Promise<Operation<void>> {
    const metadata = checkTags(tags, 'tags');
    if (Object.keys(metadata).length > 0) {
      const { client } = await this.client.computeOf(checkId(nodeId), opts);
      await client.request({
        method: 'POST',
        url: `servers/${encodeURIComponent(nodeId)}/metadata`,
        json: { metadata },
        idempotent: true,
        ...signalOf(opts),
      });
    }
    return completedOperation(nodeId, 'setTags', undefined);
  }

  async removeTags(nodeId: string, keys: string[], opts: AbortOptions = {}): Promise<Operation<void>> {
    keysArg(keys).forEach((k, i) => {
      if (k === '') throw validationError(`keys[${i}]`, 'a non-empty string', k);
    });
    if (keys.length > 0) {
      const { client } = await this.client.computeOf(checkId(nodeId), opts);
      const base = `servers/${encodeURIComponent(nodeId)}/metadata`;
      // Read first: a missing server is E_NOT_FOUND, a key that is not there is nothing to do.
      const body = await client.json<unknown>({ url: base, ...signalOf(opts) });
      const present = isRecord(body) && isRecord(body.metadata) ? body.metadata : {};
      for (const key of keys) {
        if (!Object.hasOwn(present, key)) continue;
        await undefinedIfNotFound(
          client.request({ method: 'DELETE', url: `${base}/${encodeURIComponent(key)}`, ...signalOf(opts) }),
        );
      }
    }
    return completedOperation(nodeId, 'removeTags', undefined);
  }

  /** Polls `GET servers/{id}` in the server's region; 404 means gone (`terminated`). */
  #source(region: string | undefined): NodeStateSource {
    return { id: this.id, getNode: (id, o) => this.client.getInRegion(region, id, o ?? {}) };
  }

  #operation(action: string, id: string, region: string | undefined, target: readonly NodeState[]) {
    return nodeStateOperation(this.#source(region), id, target, {
      action,
      sleep: this.client.http.sleep,
      clock: this.client.config.clock,
      defaultIntervalMs: OPENSTACK_POLL_INTERVAL_MS,
      failWhen: (node) =>
        node.state === 'error'
          ? `${action} failed: ${node.rawState}${typeof node.extra.fault === 'string' ? ` (${node.extra.fault})` : ''}`
          : undefined,
    });
  }

  async #action(action: keyof typeof ACTIONS, id: string, opts: AbortOptions): Promise<Operation<Node>> {
    const region = await this.client.regionOf(checkId(id), opts);
    const { client } = await this.client.service('compute', region, opts);
    await client.request({
      method: 'POST',
      url: `servers/${encodeURIComponent(id)}/action`,
      json: ACTIONS[action].body,
      idempotent: true,
      ...signalOf(opts),
    });
    return this.#operation(action, id, region, ACTIONS[action].target);
  }

  /** Soft reboot; the operation resolves once the server is `ACTIVE` with no task. */
  rebootNode(id: string, opts: AbortOptions = {}): Promise<Operation<Node>> {
    return this.#action('reboot', id, opts);
  }

  startNode(id: string, opts: AbortOptions = {}): Promise<Operation<Node>> {
    return this.#action('start', id, opts);
  }

  /**
   * `os-stop`: Nova itself shuts the guest down cleanly and powers it off after its
   * `shutdown_timeout` (60 s by default), so `graceful` has no other kind to choose here.
   */
  stopNode(id: string, opts: StopNodeOptions = {}): Promise<Operation<Node>> {
    if (opts.graceful !== undefined && typeof opts.graceful !== 'boolean')
      return Promise.reject(validationError('opts.graceful', 'a boolean', opts.graceful));
    return this.#action('stop', id, opts);
  }

  /** `DELETE servers/{id}`; the operation resolves once the server answers 404. */
  async destroyNode(id: string, opts: AbortOptions = {}): Promise<Operation<void>> {
    const region = await this.client.regionOf(checkId(id), opts);
    const { client } = await this.client.service('compute', region, opts);
    await client.request({ method: 'DELETE', url: `servers/${encodeURIComponent(id)}`, ...signalOf(opts) });
    const op = this.#operation('destroy', id, region, ['terminated']);
    return mapOperation(op, () => undefined);
  }

  /**
   * `POST /servers`: `image` → `imageRef`, `size` → `flavorRef`, `location` → `availability_zone`,
   * `keyPair` → `key_name`, `userData` → base64 `user_data`, `tags` → `metadata`,
   * `extra.networks` → `networks` (needed where the project has several networks). Not retried on
   * 5xx: a lost response must not create a second server. Comes back `pending` (`BUILD`).
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    if (!isRecord(input)) throw validationError('input', 'an object', input);
    for (const key of ['name', 'size', 'image'] as const) {
      if (typeof input[key] !== 'string' || input[key] === '')
        throw validationError(`input.${key}`, 'a non-empty string', input[key]);
    }
    const extra = createExtraArg(input.extra, CREATE_EXTRA_KEYS, 'OpenStack') as OpenStackCreateNodeExtra;
    const server: Record<string, unknown> = {
      name: input.name,
      imageRef: input.image,
      flavorRef: input.size,
    };
    if (input.tags !== undefined) server.metadata = checkTags(input.tags, 'input.tags');
    const zone = input.location ?? input.zone;
    if (zone !== undefined) {
      if (typeof zone !== 'string' || zone === '')
        throw validationError('input.location', 'a zone name', zone);
      server.availability_zone = zone;
    }
    const keyName = input.keyPair ?? extra.keyName;
    if (keyName !== undefined) server.key_name = keyName;
    if (extra.networks !== undefined) {
      if (!Array.isArray(extra.networks))
        throw validationError('input.extra.networks', 'an array of network ids', extra.networks);
      server.networks = extra.networks.map((uuid) => ({ uuid }));
    }
    if (extra.securityGroups !== undefined) {
      if (!Array.isArray(extra.securityGroups))
        throw validationError('input.extra.securityGroups', 'an array of names', extra.securityGroups);
      server.security_groups = extra.securityGroups.map((name) => ({ name }));
    }
    const userData = input.userData ?? extra.userData;
    if (userData !== undefined) server.user_data = userDataBase64(userData, OPENSTACK_USER_DATA_MAX_BYTES);
    const region = input.region ?? this.client.homeRegion;
    const { client } = await this.client.service('compute', region, opts);
    const created = await client.json<unknown>({
      method: 'POST',
      url: 'servers',
      json: { server },
      ...signalOf(opts),
    });
    const id = isRecord(created) && isRecord(created.server) ? str(created.server.id) : undefined;
    if (id === undefined)
      throw new FleetwatchError('E_MALFORMED_RESPONSE', `${this.id}: POST servers returned no server id`, {
        provider: this.id,
      });
    this.client.remember(id, region);
    // The create response carries adminPass and little else: read the server back instead.
    const node = await this.client.getInRegion(region, id, opts);
    return (
      node ??
      openstackServerToNode(
        { id, name: input.name, status: 'BUILD', metadata: input.tags ?? {} },
        { provider: this.id, ...(region ? { region } : {}) },
      )
    );
  }

  /** Poll the server (2 s, growing to 15 s) until its state is one of `states`; `ERROR` rejects with its fault. */
  async waitForState(nodeId: string, states: readonly NodeState[], opts: WaitOptions = {}): Promise<Node> {
    const region = await this.client.regionOf(checkId(nodeId), opts);
    return waitForNodeState(this.#source(region), nodeId, states, {
      ...opts,
      sleep: this.client.http.sleep,
      clock: this.client.config.clock,
      defaultIntervalMs: OPENSTACK_POLL_INTERVAL_MS,
    });
  }
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || id === '' || id.includes('/'))
    throw validationError('id', 'a server id (no slashes)', id);
  return id;
}

/**
 * An OpenStack (Nova + Keystone v3) provider.
 *
 * @example
 * ```ts
 * const os = openstack({ id: 'os-lab', authUrl: 'https://keystone.example:5000/v3', username: 'ops',
 *   password: process.env.OS_PASSWORD, projectName: 'fleet', region: 'RegionOne' });
 * for await (const node of os.listNodes()) console.log(node.uid, node.state, node.tags);
 * ```
 */
export function openstack(options: OpenStackOptions): ManagedProvider {
  return new OpenStackProvider(options);
}

export {
  novaNextCursor,
  OPENSTACK_STATES,
  OPENSTACK_TASK_STATES,
  openstackServerToNode,
} from './openstack-nodes.js';
export type { OpenStackCreateNodeExtra, OpenStackOptions } from './openstack-options.js';
