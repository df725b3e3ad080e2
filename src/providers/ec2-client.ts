import aws4 from 'aws4';
import type { AbortOptions } from '../core.js';
import { FleetwatchError, type FleetwatchErrorCode } from '../errors.js';
import { EC2_API_VERSION, EC2_ERROR_CODES, EC2_THROTTLE_CODES, ec2RegionsFromXml } from './ec2-nodes.js';
import { amzDate, type Ec2Config, ec2EndpointFor } from './ec2-options.js';
import { type Ec2XmlElement, parseEc2Error, parseEc2Xml } from './ec2-xml.js';
import {
  createProviderHttpClient,
  firstFound,
  type NormalizedProviderHttpOptions,
  type ProviderHttpClient,
  RegionMemo,
  redactUrl,
  signalOf,
  undefinedIfNotFound,
} from './kit/index.js';

/** Options of one {@link Ec2Client.call}. */
export interface Ec2CallOptions extends AbortOptions {
  /** May a 5xx or network error be retried? @default true for `Describe*` actions */
  idempotent?: boolean;
}

/**
 * The EC2 Query API for one provider: a SigV4-signed HTTP client per region, the region list, and
 * which region each instance id lives in. Credentials stay in `#` fields.
 *
 * @example
 * ```ts
 * const client = new Ec2Client(normalizeEc2Options(options), normalizeProviderHttpOptions(options.http));
 * const root = await client.call('eu-west-1', 'DescribeRegions', {});
 * ```
 */
export class Ec2Client {
  readonly #config: Ec2Config;
  readonly #http: NormalizedProviderHttpOptions;
  readonly #clients = new Map<string, ProviderHttpClient>();
  /** Region of each instance id seen, so actions on a multi-region provider need no lookup. */
  readonly #regionOf = new RegionMemo<string>();
  #allRegions: Promise<readonly string[]> | undefined;

  constructor(config: Ec2Config, http: NormalizedProviderHttpOptions) {
    this.#config = config;
    this.#http = http;
  }

  /** The provider instance id. */
  get provider(): string {
    return this.#config.id;
  }

  /** The checked options. */
  get config(): Ec2Config {
    return this.#config;
  }

  /** The HTTP options (the injectable `sleep` drives operation polls too). */
  get http(): NormalizedProviderHttpOptions {
    return this.#http;
  }

  #clientFor(region: string): ProviderHttpClient {
    let client = this.#clients.get(region);
    if (client !== undefined) return client;
    const { id: provider, credentials, clock } = this.#config;
    client = createProviderHttpClient({
      provider,
      baseUrl: ec2EndpointFor(region, this.#config.endpoint),
      http: this.#http,
      logger: this.#config.logger,
      clock,
      secrets: () =>
        [credentials.secretAccessKey, credentials.sessionToken, credentials.accessKeyId].filter(
          (s): s is string => s !== undefined,
        ),
      headers: { accept: 'text/xml, application/xml' },
      authorize: ({ method, url, headers, body }) => {
        headers['x-amz-date'] = amzDate(clock.now());
        // aws4 signs a copy of the headers: copy the result (Authorization, X-Amz-Security-Token) back.
        const signed = aws4.sign(
          { host: url.host, path: url.pathname + url.search, method, body, service: 'ec2', region, headers },
          credentials,
        );
        for (const [name, value] of Object.entries(signed.headers ?? {})) {
          if (value !== undefined) headers[name.toLowerCase()] = String(value);
        }
      },
      parseError: (res) => {
        const e = parseEc2Error(res.body);
        if (e === undefined) return undefined;
        const code = Object.hasOwn(EC2_ERROR_CODES, e.code)
          ? (EC2_ERROR_CODES as Record<string, FleetwatchErrorCode>)[e.code]
          : undefined;
        return { providerCode: e.code, message: e.message, ...(code === undefined ? {} : { code }) };
      },
      isThrottle: (res, info) =>
        res.status === 503 ||
        res.status === 429 ||
        (info?.providerCode !== undefined && EC2_THROTTLE_CODES.includes(info.providerCode)),
    });
    this.#clients.set(region, client);
    return client;
  }

  /** Call one action in one region and return the parsed root element (`<ActionResponse>`). */
  async call(
    region: string,
    action: string,
    params: Record<string, string>,
    opts: Ec2CallOptions = {},
  ): Promise<Ec2XmlElement> {
    const res = await this.#clientFor(region).request({
      method: 'POST',
      url: '/',
      form: { Action: action, Version: EC2_API_VERSION, ...params },
      idempotent: opts.idempotent ?? action.startsWith('Describe'),
      ...signalOf(opts),
    });
    const provider = this.#config.id;
    const root = parseEc2Xml(res.body, provider);
    if (root.name !== `${action}Response`)
      throw new FleetwatchError(
        'E_MALFORMED_RESPONSE',
        `${provider}: ${action} answered <${root.name}> instead of <${action}Response> (${redactUrl(res.url)})`,
        { provider, status: res.status },
      );
    return root;
  }

  /** The regions this provider covers (`'all'` is resolved once with `DescribeRegions`). */
  async regions(opts: AbortOptions = {}): Promise<readonly string[]> {
    if (this.#config.regions !== 'all') return this.#config.regions;
    this.#allRegions ??= this.call(this.#config.homeRegion, 'DescribeRegions', {}, opts).then(
      (root) => {
        const names = ec2RegionsFromXml(root);
        this.#config.logger.debug(
          { provider: this.provider, regions: names.length },
          'ec2 regions discovered',
        );
        return names;
      },
      (err: unknown) => {
        this.#allRegions = undefined;
        throw err;
      },
    );
    return this.#allRegions;
  }

  /** Remember that instance `id` lives in `region`. */
  remember(id: string, region: string): void {
    this.#regionOf.set(id, region);
  }

  /** The remembered region of instance `id`, if any. */
  knownRegion(id: string): string | undefined {
    return this.#regionOf.get(id);
  }

  /**
   * Find instance `id`: its remembered region first, then every region with one `DescribeInstances`
   * each (no Elastic IP lookups). Resolves with the region and the response, or `undefined`.
   */
  async locate(
    id: string,
    opts: AbortOptions = {},
  ): Promise<{ region: string; root: Ec2XmlElement } | undefined> {
    const describe = async (region: string) => {
      const root = await this.locateIn(region, id, opts);
      return root === undefined ? undefined : { region, root };
    };
    const known = this.knownRegion(id);
    if (known !== undefined) {
      const found = await describe(known);
      if (found !== undefined) return found;
    }
    const regions = (await this.regions(opts)).filter((r) => r !== known);
    const found = await firstFound(regions, describe, this.#config.regionConcurrency);
    if (found !== undefined) this.remember(id, found.region);
    return found;
  }

  /** `DescribeInstances` of instance `id` in `region`, or `undefined` when the region does not have it. */
  async locateIn(region: string, id: string, opts: AbortOptions = {}): Promise<Ec2XmlElement | undefined> {
    const root = await undefinedIfNotFound(
      this.call(region, 'DescribeInstances', { 'InstanceId.1': id }, opts),
    );
    return root === undefined || !hasInstance(root) ? undefined : root;
  }

  /** The region instance `id` lives in; `E_NOT_FOUND` when no region has it. */
  async regionFor(id: string, opts: AbortOptions = {}): Promise<string> {
    const regions = await this.regions(opts);
    if (regions.length === 1) return regions[0] as string;
    const known = this.knownRegion(id);
    if (known !== undefined) return known;
    const found = await this.locate(id, opts);
    if (found === undefined)
      throw new FleetwatchError('E_NOT_FOUND', `${this.provider}: instance ${id} not found in any region`, {
        provider: this.provider,
        providerCode: 'InvalidInstanceID.NotFound',
      });
    return found.region;
  }
}

function hasInstance(root: Ec2XmlElement): boolean {
  const set = root.children.find((c) => c.name === 'reservationSet');
  return set !== undefined && set.children.length > 0;
}
