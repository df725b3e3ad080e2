/**
 * Keystone pieces for the OpenStack adapter: the password-auth request bodies (v3, and v2.0 for
 * Rackspace and older clouds), reading a token response (v3: `X-Subject-Token` header +
 * `token.catalog`; v2.0: `access.token` + `access.serviceCatalog`), and choosing a service endpoint
 * from the catalog by type, region, interface and (optionally) name.
 */
import { FleetwatchError } from '../errors.js';

/** The interface of a catalog endpoint. */
export type OpenStackInterface = 'public' | 'internal' | 'admin';

/** Every endpoint interface Keystone knows. */
export const OPENSTACK_INTERFACES: readonly OpenStackInterface[] = ['public', 'internal', 'admin'];

/** One endpoint of a catalog entry. */
export interface OpenStackEndpoint {
  interface: OpenStackInterface;
  /** Region name (`region`, or the older `region_id`); empty when the cloud has none. */
  region: string;
  url: string;
}

/** One service of the catalog. */
export interface OpenStackCatalogEntry {
  type: string;
  name?: string;
  endpoints: OpenStackEndpoint[];
}

/** A Keystone v3 token as the adapter keeps it. The value is secret. */
export interface KeystoneToken {
  value: string;
  /** Epoch ms from `token.expires_at`; `undefined` when the body has none. */
  expiresAtMs?: number;
  catalog: OpenStackCatalogEntry[];
}

/** The credentials for Keystone v3 password auth, scoped to a project. */
export interface KeystonePasswordAuth {
  username: string;
  password: string;
  projectName: string;
  /** @default 'Default' */
  userDomainName?: string;
  /** @default 'Default' */
  projectDomainName?: string;
}

/** The `POST /v3/auth/tokens` URL for an auth URL given with or without its `/v3` suffix. */
export function keystoneTokensUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  if (/\/v3\/auth\/tokens$/.test(base)) return base;
  return /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
}

/** The Keystone API an auth URL speaks: `2.0` when it ends in `/v2.0` (Rackspace, old clouds), else `3`. */
export type KeystoneVersion = '3' | '2.0';

/** Which Keystone API `authUrl` points at. */
export function keystoneVersion(authUrl: string): KeystoneVersion {
  return /\/v2\.0(\/tokens)?\/*$/.test(authUrl) ? '2.0' : '3';
}

/** The `POST /v2.0/tokens` URL of a Keystone v2.0 auth URL. */
export function keystoneV2TokensUrl(authUrl: string): string {
  return `${authUrl.replace(/\/+$/, '').replace(/\/tokens$/, '')}/tokens`;
}

/** The JSON body of a Keystone v2.0 password-auth request, scoped to a tenant (project). */
export function keystoneV2PasswordBody(auth: KeystonePasswordAuth): Record<string, unknown> {
  return {
    auth: {
      passwordCredentials: { username: auth.username, password: auth.password },
      tenantName: auth.projectName,
    },
  };
}

/** The JSON body of a Rackspace API-key auth request (Keystone v2.0 extension `RAX-KSKEY`). */
export function keystoneV2ApiKeyBody(auth: { username: string; apiKey: string; projectName?: string }) {
  return {
    auth: {
      'RAX-KSKEY:apiKeyCredentials': { username: auth.username, apiKey: auth.apiKey },
      ...(auth.projectName === undefined ? {} : { tenantName: auth.projectName }),
    },
  };
}

/**
 * Read a Keystone v2.0 token response: `access.token.{id,expires}` and `access.serviceCatalog`
 * (each endpoint's `publicURL` / `internalURL` / `adminURL` become one endpoint per interface).
 */
export function parseKeystoneV2Token(body: unknown, provider: string): KeystoneToken {
  if (!isRecord(body) || !isRecord(body.access) || !isRecord(body.access.token))
    throw malformed('body has no access.token object', provider);
  const { token, serviceCatalog } = body.access;
  if (typeof token.id !== 'string' || token.id === '')
    throw malformed('access.token.id is missing', provider);
  let expiresAtMs: number | undefined;
  if (token.expires !== undefined) {
    expiresAtMs = typeof token.expires === 'string' ? Date.parse(token.expires) : Number.NaN;
    if (!Number.isFinite(expiresAtMs)) throw malformed('access.token.expires is not a date', provider);
  }
  const v3Shaped = (Array.isArray(serviceCatalog) ? serviceCatalog : []).map((entry: unknown) => {
    if (!isRecord(entry) || !Array.isArray(entry.endpoints)) return entry;
    const endpoints = entry.endpoints.flatMap((ep: unknown) => {
      if (!isRecord(ep)) return [];
      return OPENSTACK_INTERFACES.flatMap((iface) => {
        const url = ep[`${iface}URL`];
        return typeof url === 'string' ? [{ interface: iface, region: ep.region ?? '', url }] : [];
      });
    });
    return { ...entry, endpoints };
  });
  return {
    value: token.id,
    catalog: parseCatalog(v3Shaped, provider),
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
  };
}

/** The JSON body of a Keystone v3 password-auth request, scoped to a project. */
export function keystonePasswordBody(auth: KeystonePasswordAuth): Record<string, unknown> {
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: auth.username,
            domain: { name: auth.userDomainName ?? 'Default' },
            password: auth.password,
          },
        },
      },
      scope: {
        project: { name: auth.projectName, domain: { name: auth.projectDomainName ?? 'Default' } },
      },
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(message: string, provider: string): FleetwatchError {
  return new FleetwatchError('E_MALFORMED_RESPONSE', `OpenStack Keystone: ${message}`, { provider });
}

/** Read `token.catalog` into entries, skipping endpoints with an unknown interface or no URL. */
export function parseCatalog(catalog: unknown, provider: string): OpenStackCatalogEntry[] {
  if (!Array.isArray(catalog)) throw malformed('token.catalog is not an array', provider);
  const out: OpenStackCatalogEntry[] = [];
  for (const raw of catalog) {
    if (!isRecord(raw) || typeof raw.type !== 'string' || !Array.isArray(raw.endpoints)) continue;
    const endpoints: OpenStackEndpoint[] = [];
    for (const ep of raw.endpoints) {
      if (!isRecord(ep) || typeof ep.url !== 'string') continue;
      if (!OPENSTACK_INTERFACES.includes(ep.interface as OpenStackInterface)) continue;
      const region =
        typeof ep.region === 'string' ? ep.region : typeof ep.region_id === 'string' ? ep.region_id : '';
      endpoints.push({ interface: ep.interface as OpenStackInterface, region, url: ep.url });
    }
    out.push({ type: raw.type, ...(typeof raw.name === 'string' ? { name: raw.name } : {}), endpoints });
  }
  return out;
}

/**
 * Read a Keystone v3 token response: the token value from the `X-Subject-Token` header, expiry and
 * catalog from the body.
 */
export function parseKeystoneToken(
  subjectToken: string | string[] | undefined,
  body: unknown,
  provider: string,
): KeystoneToken {
  const value = Array.isArray(subjectToken) ? subjectToken[0] : subjectToken;
  if (typeof value !== 'string' || value === '') throw malformed('no X-Subject-Token header', provider);
  if (!isRecord(body) || !isRecord(body.token)) throw malformed('body has no token object', provider);
  const token = body.token;
  let expiresAtMs: number | undefined;
  if (token.expires_at !== undefined) {
    expiresAtMs = typeof token.expires_at === 'string' ? Date.parse(token.expires_at) : Number.NaN;
    if (!Number.isFinite(expiresAtMs)) throw malformed('token.expires_at is not a date', provider);
  }
  const catalog = parseCatalog(token.catalog ?? [], provider);
  return { value, catalog, ...(expiresAtMs === undefined ? {} : { expiresAtMs }) };
}

/** What to look up in the catalog. */
export interface EndpointQuery {
  /** Service type, e.g. `compute`. */
  type: string;
  /** Region name; `undefined` accepts the only region there is. */
  region?: string;
  /** @default 'public' */
  interface?: OpenStackInterface;
  /** Service name, when a cloud lists several services of one type (Rackspace: `cloudServersOpenStack`). */
  name?: string;
}

/**
 * The catalog endpoint matching type, interface and region (its `url` without a trailing `/`).
 *
 * @throws FleetwatchError `E_CONFIG` naming what the catalog offers when nothing matches, or when no
 * region is given and the service has several.
 */
export function findEndpoint(
  catalog: readonly OpenStackCatalogEntry[],
  query: EndpointQuery,
  provider: string,
): OpenStackEndpoint {
  const iface = query.interface ?? 'public';
  const candidates = catalog
    .filter((entry) => entry.type === query.type && (query.name === undefined || entry.name === query.name))
    .flatMap((entry) => entry.endpoints)
    .filter((ep) => ep.interface === iface);
  const matching =
    query.region === undefined ? candidates : candidates.filter((ep) => ep.region === query.region);
  const regions = [...new Set(matching.map((ep) => ep.region))];
  const offered = [...new Set(candidates.map((ep) => ep.region || '(none)'))].join(', ') || 'none';
  if (matching.length === 0 || regions.length > 1) {
    const what = matching.length === 0 ? 'no' : 'more than one';
    throw new FleetwatchError(
      'E_CONFIG',
      `OpenStack catalog has ${what} ${iface} '${query.type}' endpoint for region ${query.region ?? '(any)'}; regions offered: ${offered}`,
      { provider, details: { type: query.type, interface: iface, regionsOffered: offered } },
    );
  }
  const found = matching[0] as OpenStackEndpoint;
  return { ...found, url: found.url.replace(/\/+$/, '') };
}

/** The regions offering a service type (and name) on an interface, in catalog order. */
export function catalogRegions(
  catalog: readonly OpenStackCatalogEntry[],
  type: string,
  iface: OpenStackInterface = 'public',
  name?: string,
): string[] {
  const regions = catalog
    .filter((entry) => entry.type === type && (name === undefined || entry.name === name))
    .flatMap((entry) => entry.endpoints)
    .filter((ep) => ep.interface === iface)
    .map((ep) => ep.region);
  const unique = [...new Set(regions)];
  // A region-less endpoint (a legacy service) counts only when it is all there is.
  return unique.length > 1 ? unique.filter((r) => r !== '') : unique;
}
