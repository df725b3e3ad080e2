import type { AbortOptions } from '../core.js';
import { FleetwatchError } from '../errors.js';
import {
  createProviderHttpClient,
  firstFound,
  type NormalizedProviderHttpOptions,
  type ProviderHttpClient,
  parseJsonBody,
  RegionMemo,
  signalOf,
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
import { isRecord, openstackServerToNode } from './openstack-nodes.js';
import type { OpenStackConfig } from './openstack-options.js';
import type { Node } from './types.js';

/** A service client of one region (`region` `undefined`: the only one the catalog offers). */
export interface OpenStackService {
  client: ProviderHttpClient;
  region: string | undefined;
}

/**
 * Keystone auth (token cached, refreshed before expiry and once on a 401) and the per-region compute
 * (Nova) and image (Glance) clients of one OpenStack provider, plus which region each server lives
 * in. The password and tokens stay in `#` fields.
 *
 * @example
 * ```ts
 * const client = new OpenStackClient(normalizeOpenStackOptions(options), normalizeProviderHttpOptions());
 * const { client: nova } = await client.service('compute', 'RegionOne');
 * ```
 */
export class OpenStackClient {
  readonly #config: OpenStackConfig;
  readonly #http: NormalizedProviderHttpOptions;
  readonly #tokens: TokenCache;
  #catalog: OpenStackCatalogEntry[] = [];
  readonly #services = new Map<string, OpenStackService>();
  readonly #regionOf = new RegionMemo<string | undefined>();

  constructor(config: OpenStackConfig, http: NormalizedProviderHttpOptions) {
    this.#config = config;
    this.#http = http;
    const v2 = keystoneVersion(config.authUrl) === '2.0';
    const tokensUrl = v2 ? keystoneV2TokensUrl(config.authUrl) : keystoneTokensUrl(config.authUrl);
    const keystone = createProviderHttpClient({
      provider: config.id,
      baseUrl: tokensUrl,
      http,
      logger: config.logger,
      clock: config.clock,
      secrets: () => [config.password],
    });
    this.#tokens = new TokenCache({
      clock: config.clock,
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
        const body = parseJsonBody(res.body, config.id, res.url);
        const token: KeystoneToken = v2
          ? parseKeystoneV2Token(body, config.id)
          : parseKeystoneToken(res.headers['x-subject-token'], body, config.id);
        this.#catalog = token.catalog;
        config.logger.debug(
          { provider: config.id, services: token.catalog.length },
          'openstack token issued',
        );
        return {
          value: token.value,
          ...(token.expiresAtMs === undefined ? {} : { expiresAtMs: token.expiresAtMs }),
        };
      },
    });
  }

  get provider(): string {
    return this.#config.id;
  }

  get config(): OpenStackConfig {
    return this.#config;
  }

  get http(): NormalizedProviderHttpOptions {
    return this.#http;
  }

  /**
   * The client of a service (`compute` or `image`) in `region`: from the `computeUrl`/`imageUrl`
   * option when given, else from the token's catalog.
   */
  async service(type: 'compute' | 'image', region: string | undefined, opts: AbortOptions = {}) {
    const key = `${type}\u0000${region ?? ''}`;
    const cached = this.#services.get(key);
    if (cached !== undefined) return cached;
    const config = this.#config;
    const fixed = type === 'compute' ? config.computeUrl : config.imageUrl;
    let baseUrl: string;
    let actual = region;
    if (fixed !== undefined) baseUrl = fixed.replaceAll('{region}', region ?? '');
    else {
      await this.#tokens.get(opts);
      const ep = findEndpoint(
        this.#catalog,
        {
          type,
          region,
          interface: config.iface,
          ...(type === 'compute' && config.serviceName !== undefined ? { name: config.serviceName } : {}),
        },
        config.id,
      );
      baseUrl = ep.url;
      actual = ep.region || region;
    }
    const client = createProviderHttpClient({
      provider: config.id,
      baseUrl,
      http: this.#http,
      logger: config.logger,
      clock: config.clock,
      secrets: () => [config.password, ...this.#tokens.secrets()],
      authorize: async ({ headers, signal }) => {
        headers['x-auth-token'] = await this.#tokens.get(signal === undefined ? {} : { signal });
      },
      onUnauthorized: () => {
        this.#tokens.invalidate();
        return true;
      },
      isThrottle: (res, info) =>
        res.status === 429 ||
        (res.status === 413 &&
          (info?.providerCode === 'overLimit' || res.headers['retry-after'] !== undefined)),
    });
    const entry = { client, region: actual };
    this.#services.set(key, entry);
    return entry;
  }

  /** The regions listed (`'all'`: every region with a compute endpoint). */
  async regions(opts: AbortOptions = {}): Promise<ReadonlyArray<string | undefined>> {
    const config = this.#config;
    if (config.regions === 'all') {
      if (config.computeUrl !== undefined) return [config.region];
      await this.#tokens.get(opts);
      const found = catalogRegions(this.#catalog, 'compute', config.iface, config.serviceName);
      return found.length === 0 ? [undefined] : found;
    }
    return config.regions ?? [config.region];
  }

  /** The region `createNode` and the catalogue use: `region`, else the first of `regions`. */
  get homeRegion(): string | undefined {
    const config = this.#config;
    return config.region ?? (Array.isArray(config.regions) ? config.regions[0] : undefined);
  }

  remember(id: string, region: string | undefined): void {
    this.#regionOf.set(id, region);
  }

  /** One server in `region`, or `undefined` (404). */
  async getInRegion(region: string | undefined, id: string, opts: AbortOptions): Promise<Node | undefined> {
    const { client, region: actual } = await this.service('compute', region, opts);
    const body = await undefinedIfNotFound(
      client.json<unknown>({
        url: `servers/${encodeURIComponent(id)}`,
        ...signalOf(opts),
      }),
    );
    if (body === undefined) return undefined;
    if (!isRecord(body) || !isRecord(body.server))
      throw new FleetwatchError(
        'E_MALFORMED_RESPONSE',
        `${this.provider}: servers/{id} has no server object`,
        {
          provider: this.provider,
        },
      );
    this.remember(id, region);
    return openstackServerToNode(body.server, {
      provider: this.provider,
      ...(actual ? { region: actual } : {}),
    });
  }

  /** One server, in its remembered region first, then in every region. */
  async getNode(id: string, opts: AbortOptions): Promise<Node | undefined> {
    if (this.#regionOf.has(id)) {
      const node = await this.getInRegion(this.#regionOf.get(id), id, opts);
      if (node !== undefined) return node;
    }
    const regions = await this.regions(opts);
    return firstFound(
      regions,
      (region) => this.getInRegion(region, id, opts),
      this.#config.regionConcurrency,
    );
  }

  /** The region server `id` lives in (looked up when several are listed); `E_NOT_FOUND` otherwise. */
  async regionOf(id: string, opts: AbortOptions): Promise<string | undefined> {
    const regions = await this.regions(opts);
    if (regions.length === 1) return regions[0];
    if (!this.#regionOf.has(id) && (await this.getNode(id, opts)) === undefined)
      throw new FleetwatchError('E_NOT_FOUND', `${this.provider}: server ${id} not found in any region`, {
        provider: this.provider,
        providerCode: 'itemNotFound',
      });
    return this.#regionOf.get(id);
  }

  /** The compute client of the region server `id` lives in. */
  async computeOf(id: string, opts: AbortOptions): Promise<OpenStackService> {
    return this.service('compute', await this.regionOf(id, opts), opts);
  }
}
