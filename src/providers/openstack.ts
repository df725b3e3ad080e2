/**
 * OpenStack Nova (compute) with Keystone v3 password auth (or v2.0, for Rackspace and older clouds):
 * any OpenStack cloud reachable through an `authUrl`. The token is cached and refreshed before it expires (and once on a 401); the compute
 * endpoint comes from the token's service catalog by type, region and interface.
 */
import { type AbortOptions, type Clock, type Logger, positiveNumber, rejectUnknownKeys } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import {
  checkOptionsShape,
  createProviderHttpClient,
  definedFields,
  firstFound,
  isPrivateIp,
  listAcrossRegions,
  loggerAndClock,
  lookupState,
  type NodeLifecycleOperation,
  normalizeProviderHttpOptions,
  type ProviderHttpClient,
  type ProviderHttpOptions,
  type ProviderWith,
  paginateProvider,
  parseDate,
  parseJsonBody,
  RegionMemo,
  regionConcurrencyOption,
  regionsOption,
  setOwn,
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
  OPENSTACK_INTERFACES,
  type OpenStackCatalogEntry,
  type OpenStackInterface,
  parseKeystoneToken,
  parseKeystoneV2Token,
} from './openstack-catalog.js';
import type {
  CommonProviderOptions,
  CreateNodeInput,
  ListNodesOptions,
  Node,
  NodeState,
  Provider,
} from './types.js';

/** Nova server `status` → {@link NodeState}. Anything else maps to `unknown`; `rawState` keeps it. */
export const OPENSTACK_STATES = {
  ACTIVE: 'running',
  BUILD: 'pending',
  REBUILD: 'pending',
  RESIZE: 'pending',
  VERIFY_RESIZE: 'running',
  REVERT_RESIZE: 'pending',
  MIGRATING: 'running',
  PASSWORD: 'running',
  REBOOT: 'rebooting',
  HARD_REBOOT: 'rebooting',
  SHUTOFF: 'stopped',
  STOPPED: 'stopped',
  SHELVED: 'stopped',
  SHELVED_OFFLOADED: 'stopped',
  PAUSED: 'suspended',
  SUSPENDED: 'suspended',
  /** Booted from a rescue image, not its own disk: it needs an operator. */
  RESCUE: 'error',
  ERROR: 'error',
  DELETED: 'terminated',
  SOFT_DELETED: 'terminated',
  UNKNOWN: 'unknown',
} as const satisfies Record<string, NodeState>;

/**
 * Nova `OS-EXT-STS:task_state` values that say more than the status (an ACTIVE server being powered
 * off is `stopping`). They take precedence over {@link OPENSTACK_STATES} when present.
 */
export const OPENSTACK_TASK_STATES = {
  'powering-off': 'stopping',
  'powering-on': 'starting',
  rebooting: 'rebooting',
  reboot_pending: 'rebooting',
  reboot_started: 'rebooting',
  rebooting_hard: 'rebooting',
  reboot_pending_hard: 'rebooting',
  reboot_started_hard: 'rebooting',
  deleting: 'stopping',
} as const satisfies Record<string, NodeState>;

/** Server fields copied into `Node.extra` (extra key ← Nova key). Nothing else goes there (never `adminPass`). */
const EXTRA_FIELDS: ReadonlyArray<readonly [key: string, novaKey: string]> = [
  ['hostId', 'hostId'],
  ['keyName', 'key_name'],
  ['tenantId', 'tenant_id'],
  ['userId', 'user_id'],
  ['vmState', 'OS-EXT-STS:vm_state'],
  ['taskState', 'OS-EXT-STS:task_state'],
  ['powerState', 'OS-EXT-STS:power_state'],
  ['progress', 'progress'],
  ['updated', 'updated'],
  ['locked', 'locked'],
  ['diskConfig', 'OS-DCF:diskConfig'],
];

/** Options of {@link openstack}. Credentials default to the usual `OS_*` environment variables. */
export interface OpenStackOptions extends CommonProviderOptions {
  /**
   * Keystone URL, with or without `/v3`; one ending in `/v2.0` uses Keystone v2.0 (Rackspace, older
   * clouds). @default env `OS_AUTH_URL`
   */
  authUrl?: string;
  /** @default env `OS_USERNAME` */
  username?: string;
  /** Kept in a closure: never in a log, an error or a node. @default env `OS_PASSWORD` */
  password?: string;
  /**
   * Rackspace API key, instead of `password` (Keystone v2.0 `RAX-KSKEY:apiKeyCredentials`; needs an
   * `authUrl` ending in `/v2.0`). Kept like the password. `projectName` is optional with it.
   */
  apiKey?: string;
  /** @default env `OS_PROJECT_NAME` (or `OS_TENANT_NAME`) */
  projectName?: string;
  /** @default env `OS_USER_DOMAIN_NAME`, then `'Default'` */
  userDomainName?: string;
  /** @default env `OS_PROJECT_DOMAIN_NAME`, then `'Default'` */
  projectDomainName?: string;
  /** The region; with `regions`, the default for `createNode`. @default env `OS_REGION_NAME`, else the only one */
  region?: string;
  /** Several regions listed concurrently, or `'all'` (every region with a compute endpoint). */
  regions?: readonly string[] | 'all';
  /** Catalog interface. @default env `OS_INTERFACE`, then `'public'` */
  interface?: OpenStackInterface;
  /** Compute URL to use instead of the catalog's; `{region}` is replaced by the region. */
  computeUrl?: string;
  /** Catalog service name, when several compute services are listed (Rackspace: `cloudServersOpenStack`). */
  serviceName?: string;
  /** `limit` of each `servers/detail` page. @default 1000 */
  pageSize?: number;
  /**
   * Server-side `servers/detail` query filters for `listNodes`, e.g. `{ status: 'ACTIVE', name: '^web-' }`
   * (Nova's own names; `limit` and `marker` are the adapter's).
   */
  filters?: Readonly<Record<string, string>>;
  /** Regions listed at once. @default 4 */
  regionConcurrency?: number;
  /** Re-authenticate this long before the token expires. @default 60_000 */
  refreshBeforeMs?: number;
  http?: ProviderHttpOptions;
  /** Where the `OS_*` defaults are read from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/** `createNode` `extra` keys Nova understands. */
export interface OpenStackCreateNodeExtra {
  keyName?: string;
  /** Network UUIDs to attach. */
  networks?: string[];
  securityGroups?: string[];
  /** Plain text; base64-encoded for the API. */
  userData?: string;
}

/** What {@link openstack} returns: a {@link Provider} with every optional operation present. */
export type OpenStackProvider = ProviderWith<NodeLifecycleOperation>;

const OPTION_KEYS = [
  'id',
  'authUrl',
  'username',
  'password',
  'apiKey',
  'projectName',
  'userDomainName',
  'projectDomainName',
  'region',
  'regions',
  'interface',
  'computeUrl',
  'serviceName',
  'pageSize',
  'filters',
  'regionConcurrency',
  'refreshBeforeMs',
  'http',
  'env',
  'logger',
  'clock',
] as const;
const CREATE_EXTRA_KEYS = ['keyName', 'networks', 'securityGroups', 'userData'] as const;

interface OpenStackConfig {
  readonly id: string;
  readonly authUrl: string;
  readonly username: string;
  /** The password, or the API key when `apiKey` was given (`useApiKey`). */
  readonly password: string;
  readonly useApiKey: boolean;
  /** Empty only with an API key and no project given. */
  readonly projectName: string;
  readonly userDomainName: string;
  readonly projectDomainName: string;
  readonly region: string | undefined;
  readonly regions: readonly string[] | 'all' | undefined;
  readonly iface: OpenStackInterface;
  readonly computeUrl: string | undefined;
  readonly serviceName: string | undefined;
  readonly pageSize: number;
  readonly filters: Readonly<Record<string, string>>;
  readonly regionConcurrency: number;
  readonly refreshBeforeMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

function regionName(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw validationError(path, 'a region name', value);
  return value;
}

function normalizeOpenStackOptions(options: OpenStackOptions): OpenStackConfig {
  checkOptionsShape(options, OPTION_KEYS);
  const env = options.env ?? process.env;
  const pick = (key: keyof OpenStackOptions, ...envNames: string[]): string | undefined => {
    const given = options[key];
    if (given !== undefined) {
      if (typeof given !== 'string' || given === '')
        throw new FleetwatchError('E_VALIDATION', `options.${key}: expected a non-empty string`, {
          path: `options.${key}`,
          expected: 'a non-empty string',
          // Never echo the value: it may be the password.
          received: typeof given,
        });
      return given;
    }
    for (const name of envNames) if (env[name]) return env[name];
    return undefined;
  };
  const need = (key: keyof OpenStackOptions, ...envNames: string[]): string => {
    const value = pick(key, ...envNames);
    if (value === undefined)
      throw new FleetwatchError(
        'E_CONFIG',
        `openstack: missing ${key}: pass options.${key} or set ${envNames.join(' or ')}`,
        { provider: options.id, path: `options.${key}` },
      );
    return value;
  };
  const authUrl = need('authUrl', 'OS_AUTH_URL');
  const apiKey = pick('apiKey');
  if (apiKey !== undefined && keystoneVersion(authUrl) !== '2.0')
    throw new FleetwatchError(
      'E_VALIDATION',
      'options.apiKey: needs a Keystone v2.0 authUrl (ending in /v2.0)',
      {
        path: 'options.apiKey',
        expected: 'an authUrl ending in /v2.0',
      },
    );
  if (!/^https?:\/\/[^/]/.test(authUrl)) throw validationError('options.authUrl', 'an http(s) URL', authUrl);
  if (options.computeUrl !== undefined && !/^https?:\/\/[^/]/.test(String(options.computeUrl)))
    throw validationError('options.computeUrl', 'an http(s) URL', options.computeUrl);
  const rawIface = pick('interface', 'OS_INTERFACE', 'OS_ENDPOINT_TYPE');
  // Older clouds' environment files say `publicURL` / `internalURL`.
  const iface = (rawIface ?? 'public').replace(/URL$/, '') as OpenStackInterface;
  if (!OPENSTACK_INTERFACES.includes(iface))
    throw validationError('options.interface', OPENSTACK_INTERFACES.join(' | '), rawIface);
  const regions = regionsOption(options.regions, "a non-empty array of region names or 'all'", regionName);
  return Object.freeze({
    id: options.id,
    authUrl,
    username: need('username', 'OS_USERNAME'),
    password: apiKey ?? need('password', 'OS_PASSWORD'),
    useApiKey: apiKey !== undefined,
    projectName:
      apiKey === undefined
        ? need('projectName', 'OS_PROJECT_NAME', 'OS_TENANT_NAME')
        : (pick('projectName', 'OS_PROJECT_NAME', 'OS_TENANT_NAME') ?? ''),
    userDomainName: pick('userDomainName', 'OS_USER_DOMAIN_NAME') ?? 'Default',
    projectDomainName: pick('projectDomainName', 'OS_PROJECT_DOMAIN_NAME') ?? 'Default',
    region: pick('region', 'OS_REGION_NAME') ?? (Array.isArray(regions) ? regions[0] : undefined),
    regions,
    iface,
    computeUrl: options.computeUrl,
    serviceName: pick('serviceName'),
    pageSize:
      options.pageSize === undefined
        ? 1000
        : positiveNumber(options.pageSize, 'options.pageSize', { integer: true, min: 1 }),
    filters: novaFilters(options.filters),
    regionConcurrency: regionConcurrencyOption(options.regionConcurrency),
    refreshBeforeMs:
      options.refreshBeforeMs === undefined
        ? 60_000
        : positiveNumber(options.refreshBeforeMs, 'options.refreshBeforeMs', { min: 0 }),
    ...loggerAndClock(options),
  });
}

function novaFilters(filters: unknown): Record<string, string> {
  if (filters === undefined) return {};
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters))
    throw validationError('options.filters', 'an object of query name → string', filters);
  for (const [k, v] of Object.entries(filters)) {
    if (k === 'limit' || k === 'marker' || k === '' || typeof v !== 'string')
      throw validationError(`options.filters.${k}`, 'a string (and not limit or marker)', v);
  }
  return { ...(filters as Record<string, string>) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Translate one Nova server object into a {@link Node}. */
export function openstackServerToNode(server: unknown, ctx: { provider: string; region?: string }): Node {
  // Legacy Nova (v1.1, older Rackspace) sends numeric ids.
  const rawId = isRecord(server) ? server.id : undefined;
  if (!isRecord(server) || !((typeof rawId === 'string' && rawId !== '') || Number.isInteger(rawId)))
    throw new FleetwatchError('E_MALFORMED_RESPONSE', 'OpenStack: server without an id', {
      provider: ctx.provider,
    });
  const id = String(rawId);
  const rawState = typeof server.status === 'string' ? server.status : '';
  const task = server['OS-EXT-STS:task_state'];
  const state =
    typeof task === 'string' && Object.hasOwn(OPENSTACK_TASK_STATES, task)
      ? lookupState(OPENSTACK_TASK_STATES, task)
      : lookupState(OPENSTACK_STATES, rawState.toUpperCase());
  const publicIps: string[] = [];
  const privateIps: string[] = [];
  const add = (list: string[], ip: string | undefined) => {
    if (ip !== undefined && !publicIps.includes(ip) && !privateIps.includes(ip)) list.push(ip);
  };
  add(publicIps, str(server.accessIPv4));
  add(publicIps, str(server.accessIPv6));
  if (isRecord(server.addresses)) {
    for (const list of Object.values(server.addresses)) {
      if (!Array.isArray(list)) continue;
      for (const a of list) {
        if (!isRecord(a)) continue;
        const ip = str(a.addr);
        if (ip === undefined) continue;
        const floating = a['OS-EXT-IPS:type'] === 'floating';
        add(floating || !isPrivateIp(ip) ? publicIps : privateIps, ip);
      }
    }
  }
  const tags: Record<string, string> = {};
  if (isRecord(server.metadata)) {
    for (const [k, v] of Object.entries(server.metadata))
      setOwn(tags, k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  const extra: Record<string, unknown> = {};
  for (const [key, novaKey] of EXTRA_FIELDS) {
    const v = server[novaKey];
    if (v !== undefined && v !== null && v !== '') extra[key] = v;
  }
  const flavor = isRecord(server.flavor) ? server.flavor : undefined;
  if (typeof flavor?.original_name === 'string') extra.flavorName = flavor.original_name;
  if (isRecord(server.fault) && typeof server.fault.message === 'string') extra.fault = server.fault.message;
  const size = str(flavor?.id) ?? str(flavor?.original_name);
  const image = isRecord(server.image) ? str(server.image.id) : undefined;
  const zone = str(server['OS-EXT-AZ:availability_zone']);
  const createdAt = parseDate(str(server.created));
  return {
    uid: `${ctx.provider}:${id}`,
    id,
    name: typeof server.name === 'string' ? server.name : '',
    provider: ctx.provider,
    kind: 'openstack',
    state,
    rawState,
    ...(ctx.region ? { region: ctx.region } : {}),
    ...definedFields({ zone }),
    publicIps,
    privateIps,
    ...definedFields({ size, image, createdAt }),
    tags,
    extra,
  };
}

/** The `marker` of a Nova `servers_links` `rel: next` link, or the link itself when it has none. */
export function novaNextCursor(body: Record<string, unknown>): string | undefined {
  const links = body.servers_links;
  if (!Array.isArray(links)) return undefined;
  const next = links.find((l) => isRecord(l) && l.rel === 'next' && typeof l.href === 'string') as
    | { href: string }
    | undefined;
  if (next === undefined) return undefined;
  const marker = /[?&]marker=([^&#]*)/.exec(next.href)?.[1];
  return marker === undefined ? next.href : decodeURIComponent(marker);
}

function checkTags(tags: unknown, path: string): Record<string, string> {
  if (!isRecord(tags)) throw validationError(path, 'an object of strings', tags);
  for (const [k, v] of Object.entries(tags)) {
    if (k === '' || k.length > 255) throw validationError(`${path}.${k}`, 'a key of 1-255 characters', k);
    if (typeof v !== 'string' || v.length > 255)
      throw validationError(`${path}.${k}`, 'a string of at most 255 characters', v);
  }
  return tags as Record<string, string>;
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
