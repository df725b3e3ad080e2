/**
 * OpenStack Nova (compute) with Keystone v3 password auth (or v2.0, for Rackspace and older clouds):
 * any OpenStack cloud reachable through an `authUrl`. The token is cached and refreshed before it expires (and once on a 401); the compute
 * endpoint comes from the token's service catalog by type, region and interface.
 */
import { type AbortOptions, rejectUnknownKeys } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import {
  createProviderHttpClient,
  firstFound,
  listAcrossRegions,
  type NodeLifecycleOperation,
  normalizeProviderHttpOptions,
  type ProviderHttpClient,
  type ProviderWith,
  paginateProvider,
  parseJsonBody,
  RegionMemo,
  TokenCache,
  undefinedIfNotFound,
} from './kit/index.js';
import {
  catalogRegions,
  findEndpoint,
  type KeystoneToken,
  keystonePasswordBody,
  keystoneTokensUrl,
  keystoneV2ApiKeyBody,
  keystoneV2PasswordBody,
  keystoneV2TokensUrl,
  keystoneVersion,
  type OpenStackCatalogEntry,
  parseKeystoneToken,
  parseKeystoneV2Token,
} from './openstack-catalog.js';
import { checkTags, isRecord, novaNextCursor, openstackServerToNode, str } from './openstack-nodes.js';
import {
  CREATE_EXTRA_KEYS,
  normalizeOpenStackOptions,
  type OpenStackCreateNodeExtra,
  type OpenStackOptions,
} from './openstack-options.js';
import type { CreateNodeInput, ListNodesOptions, Node, Provider } from './types.js';

/** What {@link openstack} returns: a {@link Provider} with every optional operation present. */
export type OpenStackProvider = ProviderWith<NodeLifecycleOperation>;

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
export function openstack(options: OpenStackOptions): OpenStackProvider {
  const config = normalizeOpenStackOptions(options);
  const httpOptions = normalizeProviderHttpOptions(options.http);
  const { id: provider, clock } = config;
  let catalog: OpenStackCatalogEntry[] = [];
  const tokenSecrets = (): string[] => [config.password, ...tokens.secrets()];

  const v2 = keystoneVersion(config.authUrl) === '2.0';
  const tokensUrl = v2 ? keystoneV2TokensUrl(config.authUrl) : keystoneTokensUrl(config.authUrl);
  const keystone = createProviderHttpClient({
    provider,
    baseUrl: tokensUrl,
    http: httpOptions,
    logger: config.logger,
    clock,
    secrets: () => [config.password],
  });
  const tokens: TokenCache = new TokenCache({
    clock,
    refreshBeforeMs: config.refreshBeforeMs,
    fetch: async ({ signal }) => {
      const res = await keystone.request({
        method: 'POST',
        url: tokensUrl,
        json: !v2
          ? keystonePasswordBody(config)
          : config.useApiKey
            ? keystoneV2ApiKeyBody({
                username: config.username,
                apiKey: config.password,
                ...(config.projectName === '' ? {} : { projectName: config.projectName }),
              })
            : keystoneV2PasswordBody(config),
        auth: false,
        idempotent: true,
        ...(signal === undefined ? {} : { signal }),
      });
      const body = parseJsonBody(res.body, provider, res.url);
      const token: KeystoneToken = v2
        ? parseKeystoneV2Token(body, provider)
        : parseKeystoneToken(res.headers['x-subject-token'], body, provider);
      catalog = token.catalog;
      config.logger.debug({ provider, services: catalog.length }, 'openstack token issued');
      return {
        value: token.value,
        ...(token.expiresAtMs === undefined ? {} : { expiresAtMs: token.expiresAtMs }),
      };
    },
  });

  const clients = new Map<string, { client: ProviderHttpClient; region: string | undefined }>();
  const regionOfServer = new RegionMemo<string | undefined>();

  const isThrottle = (
    res: { status: number; headers: Record<string, unknown> },
    info?: { providerCode?: string },
  ) =>
    res.status === 429 ||
    (res.status === 413 && (info?.providerCode === 'overLimit' || res.headers['retry-after'] !== undefined));

  /** The compute client of a region (`undefined`: the only region the catalog offers). */
  const computeFor = async (
    region: string | undefined,
    opts: AbortOptions,
  ): Promise<{ client: ProviderHttpClient; region: string | undefined }> => {
    const key = region ?? '';
    const cached = clients.get(key);
    if (cached !== undefined) return cached;
    let baseUrl: string;
    let actualRegion = region;
    if (config.computeUrl !== undefined) {
      baseUrl = config.computeUrl.replaceAll('{region}', region ?? '');
    } else {
      await tokens.get(opts);
      const ep = findEndpoint(
        catalog,
        {
          type: 'compute',
          region,
          interface: config.iface,
          ...(config.serviceName === undefined ? {} : { name: config.serviceName }),
        },
        provider,
      );
      baseUrl = ep.url;
      actualRegion = ep.region || region;
    }
    const client = createProviderHttpClient({
      provider,
      baseUrl,
      http: httpOptions,
      logger: config.logger,
      clock,
      secrets: tokenSecrets,
      authorize: async ({ headers, signal }) => {
        headers['x-auth-token'] = await tokens.get(signal === undefined ? {} : { signal });
      },
      onUnauthorized: () => {
        tokens.invalidate();
        return true;
      },
      isThrottle,
    });
    const entry = { client, region: actualRegion };
    clients.set(key, entry);
    return entry;
  };

  const regionsToList = async (opts: AbortOptions): Promise<ReadonlyArray<string | undefined>> => {
    if (config.regions === 'all') {
      if (config.computeUrl !== undefined) return [config.region];
      await tokens.get(opts);
      const found = catalogRegions(catalog, 'compute', config.iface, config.serviceName);
      return found.length === 0 ? [undefined] : found;
    }
    return config.regions ?? [config.region];
  };

  const signalOf = (opts: AbortOptions) => (opts.signal === undefined ? {} : { signal: opts.signal });

  async function* listRegion(region: string | undefined, opts: ListNodesOptions): AsyncGenerator<Node> {
    const { client, region: actual } = await computeFor(region, opts);
    const pages = paginateProvider<Node>(
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
                  ...config.filters,
                  limit: config.pageSize,
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
      { provider, ...signalOf(opts), ...(opts.onPage === undefined ? {} : { onPage: opts.onPage }) },
    );
    for await (const page of pages) {
      for (const node of page) {
        regionOfServer.set(node.id, region);
        yield node;
      }
    }
  }

  const checkId = (id: unknown): string => {
    if (typeof id !== 'string' || id === '' || id.includes('/'))
      throw validationError('id', 'a server id (no slashes)', id);
    return id;
  };

  const getInRegion = async (region: string | undefined, id: string, opts: AbortOptions) => {
    const { client, region: actual } = await computeFor(region, opts);
    const body = await undefinedIfNotFound(
      client.json<unknown>({ url: `servers/${encodeURIComponent(id)}`, ...signalOf(opts) }),
    );
    if (body === undefined) return undefined;
    if (!isRecord(body) || !isRecord(body.server))
      throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: servers/{id} has no server object`, {
        provider,
      });
    regionOfServer.set(id, region);
    return openstackServerToNode(body.server, { provider, ...(actual ? { region: actual } : {}) });
  };

  const getNode = async (id: string, opts: AbortOptions = {}): Promise<Node | undefined> => {
    checkId(id);
    if (regionOfServer.has(id)) {
      const node = await getInRegion(regionOfServer.get(id), id, opts);
      if (node !== undefined) return node;
    }
    const regions = await regionsToList(opts);
    return firstFound(regions, (region) => getInRegion(region, id, opts), config.regionConcurrency);
  };

  /** The compute client of the region a server lives in. */
  const clientOf = async (id: string, opts: AbortOptions): Promise<ProviderHttpClient> => {
    checkId(id);
    const regions = await regionsToList(opts);
    if (regions.length === 1) return (await computeFor(regions[0], opts)).client;
    if (!regionOfServer.has(id) && (await getNode(id, opts)) === undefined)
      throw new FleetwatchError('E_NOT_FOUND', `${provider}: server ${id} not found in any region`, {
        provider,
        providerCode: 'itemNotFound',
      });
    return (await computeFor(regionOfServer.get(id), opts)).client;
  };

  const serverAction =
    (action: Record<string, unknown>) =>
    async (id: string, opts: AbortOptions = {}) => {
      const client = await clientOf(id, opts);
      await client.request({
        method: 'POST',
        url: `servers/${encodeURIComponent(id)}/action`,
        json: action,
        idempotent: true,
        ...signalOf(opts),
      });
    };

  return {
    id: provider,
    kind: 'openstack',
    listNodes: listAcrossRegions(regionsToList, listRegion, config.regionConcurrency),
    getNode,
    async setTags(nodeId, tags, opts = {}) {
      const metadata = checkTags(tags, 'tags');
      if (Object.keys(metadata).length === 0) return;
      const client = await clientOf(nodeId, opts);
      // POST merges the given keys into the server's metadata; other keys stay.
      await client.request({
        method: 'POST',
        url: `servers/${encodeURIComponent(nodeId)}/metadata`,
        json: { metadata },
        idempotent: true,
        ...signalOf(opts),
      });
    },
    async removeTags(nodeId, keys, opts = {}) {
      if (!Array.isArray(keys)) throw validationError('keys', 'an array of metadata keys', keys);
      keys.forEach((k, i) => {
        if (typeof k !== 'string' || k === '') throw validationError(`keys[${i}]`, 'a non-empty string', k);
      });
      if (keys.length === 0) return;
      const client = await clientOf(nodeId, opts);
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
    },
    rebootNode: serverAction({ reboot: { type: 'SOFT' } }),
    startNode: serverAction({ 'os-start': null }),
    stopNode: serverAction({ 'os-stop': null }),
    async destroyNode(id, opts = {}) {
      const client = await clientOf(id, opts);
      await client.request({ method: 'DELETE', url: `servers/${encodeURIComponent(id)}`, ...signalOf(opts) });
    },
    async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
      if (!isRecord(input)) throw validationError('input', 'an object', input);
      for (const key of ['name', 'size', 'image'] as const) {
        if (typeof input[key] !== 'string' || input[key] === '')
          throw validationError(`input.${key}`, 'a non-empty string', input[key]);
      }
      const extra = (input.extra ?? {}) as OpenStackCreateNodeExtra;
      rejectUnknownKeys(extra, CREATE_EXTRA_KEYS, 'input.extra');
      const server: Record<string, unknown> = {
        name: input.name,
        imageRef: input.image,
        flavorRef: input.size,
      };
      if (input.tags !== undefined) server.metadata = checkTags(input.tags, 'input.tags');
      if (input.zone !== undefined) server.availability_zone = input.zone;
      if (extra.keyName !== undefined) server.key_name = extra.keyName;
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
      if (extra.userData !== undefined)
        server.user_data = Buffer.from(extra.userData, 'utf8').toString('base64');
      const region =
        input.region ?? config.region ?? (Array.isArray(config.regions) ? config.regions[0] : undefined);
      const { client } = await computeFor(region, opts);
      // Not retried on 5xx: a lost response must not create a second server.
      const created = await client.json<unknown>({
        method: 'POST',
        url: 'servers',
        json: { server },
        ...signalOf(opts),
      });
      const id = isRecord(created) && isRecord(created.server) ? str(created.server.id) : undefined;
      if (id === undefined)
        throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: POST servers returned no server id`, {
          provider,
        });
      regionOfServer.set(id, region);
      // The create response carries adminPass and little else: read the server back instead.
      const node = await getInRegion(region, id, opts);
      return (
        node ??
        openstackServerToNode(
          { id, name: input.name, status: 'BUILD', metadata: input.tags ?? {} },
          { provider, ...(region ? { region } : {}) },
        )
      );
    },
  };
}

export {
  novaNextCursor,
  OPENSTACK_STATES,
  OPENSTACK_TASK_STATES,
  openstackServerToNode,
} from './openstack-nodes.js';
export type { OpenStackCreateNodeExtra, OpenStackOptions } from './openstack-options.js';
