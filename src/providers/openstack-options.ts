import { type Clock, type Logger, positiveNumber } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import {
  checkOptionsShape,
  loggerAndClock,
  type ProviderHttpOptions,
  regionConcurrencyOption,
  regionsOption,
} from './kit/index.js';
import { keystoneVersion, OPENSTACK_INTERFACES, type OpenStackInterface } from './openstack-catalog.js';
import type { CommonProviderOptions } from './types.js';

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
  /**
   * Image (Glance) URL to use instead of the catalog's, for `listImages`; `{region}` is replaced by
   * the region.
   */
  imageUrl?: string;
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
  /** HTTP client options (timeouts, retries, user agent, TLS) for Keystone and Nova. */
  http?: ProviderHttpOptions;
  /** Where the `OS_*` defaults are read from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/** `createNode` `extra` keys Nova understands. */
export interface OpenStackCreateNodeExtra {
  /** @deprecated Use `keyPair`. */
  keyName?: string;
  /** Network UUIDs to attach. */
  networks?: string[];
  securityGroups?: string[];
  /** @deprecated Use `userData`. Plain text; base64-encoded for the API. */
  userData?: string;
}

export const OPTION_KEYS = [
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
  'imageUrl',
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
export const CREATE_EXTRA_KEYS = ['keyName', 'networks', 'securityGroups', 'userData'] as const;

export interface OpenStackConfig {
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
  readonly imageUrl: string | undefined;
  readonly serviceName: string | undefined;
  readonly pageSize: number;
  readonly filters: Readonly<Record<string, string>>;
  readonly regionConcurrency: number;
  readonly refreshBeforeMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

export function regionName(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw validationError(path, 'a region name', value);
  return value;
}

export function normalizeOpenStackOptions(options: OpenStackOptions): OpenStackConfig {
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
  for (const key of ['computeUrl', 'imageUrl'] as const)
    if (options[key] !== undefined && !/^https?:\/\/[^/]/.test(String(options[key])))
      throw validationError(`options.${key}`, 'an http(s) URL', options[key]);
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
    imageUrl: options.imageUrl,
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

export function novaFilters(filters: unknown): Record<string, string> {
  if (filters === undefined) return {};
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters))
    throw validationError('options.filters', 'an object of query name → string', filters);
  for (const [k, v] of Object.entries(filters)) {
    if (k === 'limit' || k === 'marker' || k === '' || typeof v !== 'string')
      throw validationError(`options.filters.${k}`, 'a string (and not limit or marker)', v);
  }
  return { ...(filters as Record<string, string>) };
}
