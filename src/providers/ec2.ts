/**
 * Amazon EC2 (and EC2-compatible endpoints such as moto) through the Query API, signed with SigV4.
 * One provider can cover several regions, listed concurrently; each node carries its region.
 */
import { randomUUID } from 'node:crypto';
import aws4 from 'aws4';
import { type AbortOptions, type Clock, type Logger, positiveNumber, rejectUnknownKeys } from '../core.js';
import { FleetwatchError, type FleetwatchErrorCode, validationError } from '../errors.js';
import { type Ec2XmlElement, parseEc2Error, parseEc2Xml, xmlItems, xmlText } from './ec2-xml.js';
import {
  checkOptionsShape,
  createProviderHttpClient,
  definedFields,
  firstFound,
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
  RegionMemo,
  redactUrl,
  regionConcurrencyOption,
  regionsOption,
  setOwn,
  undefinedIfNotFound,
} from './kit/index.js';
import type {
  CommonProviderOptions,
  CreateNodeInput,
  ListNodesOptions,
  Node,
  NodeState,
  Provider,
} from './types.js';

/** EC2 `instanceState.name` → {@link NodeState}. Anything else maps to `unknown`; `rawState` keeps it. */
export const EC2_STATES = {
  pending: 'pending',
  running: 'running',
  /** Terminate in progress (not restartable); `rawState` tells it apart from a stop. */
  'shutting-down': 'stopping',
  stopping: 'stopping',
  stopped: 'stopped',
  terminated: 'terminated',
} as const satisfies Record<string, NodeState>;

/** EC2 error codes with a fleetwatch code of their own; others become `E_PROVIDER` with `providerCode`. */
export const EC2_ERROR_CODES = {
  AuthFailure: 'E_AUTH',
  InvalidClientTokenId: 'E_AUTH',
  SignatureDoesNotMatch: 'E_AUTH',
  UnauthorizedOperation: 'E_AUTH',
  OptInRequired: 'E_AUTH',
  'InvalidInstanceID.NotFound': 'E_NOT_FOUND',
  'InvalidInstanceID.Malformed': 'E_NOT_FOUND',
} as const satisfies Record<string, FleetwatchErrorCode>;

/** EC2 error codes that mean "slow down" (retried, then `E_RATE_LIMIT`). HTTP 503 is one too. */
export const EC2_THROTTLE_CODES: readonly string[] = [
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
];

/** The EC2 Query API version spoken. */
export const EC2_API_VERSION = '2016-11-15';

/** The instance fields copied into `Node.extra`, by XML path. Nothing else goes there. */
const EXTRA_FIELDS: ReadonlyArray<readonly [key: string, path: readonly string[]]> = [
  ['stateCode', ['instanceState', 'code']],
  ['stateReason', ['stateReason', 'code']],
  ['architecture', ['architecture']],
  ['platform', ['platform']],
  ['vpcId', ['vpcId']],
  ['subnetId', ['subnetId']],
  ['keyName', ['keyName']],
  ['privateDnsName', ['privateDnsName']],
  ['publicDnsName', ['dnsName']],
  ['instanceLifecycle', ['instanceLifecycle']],
  ['hypervisor', ['hypervisor']],
  ['virtualizationType', ['virtualizationType']],
  ['rootDeviceType', ['rootDeviceType']],
  ['reservationId', ['reservationId']],
];

/** AWS credentials. Kept in a closure: never on the provider object, in a node, a log or an error. */
export interface Ec2Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of {@link ec2}. */
export interface Ec2Options extends CommonProviderOptions {
  /**
   * The region to use; with `regions`, the one `DescribeRegions` is asked in and `createNode`'s
   * default. @default env `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the first of `regions`
   */
  region?: string;
  /** Several regions listed concurrently, or `'all'` (every enabled region, from `DescribeRegions`). */
  regions?: readonly string[] | 'all';
  /** @default env `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` */
  credentials?: Ec2Credentials;
  /**
   * Base URL; `{region}` in it is replaced by the region (e.g. `http://127.0.0.1:5055` for moto).
   * @default `https://ec2.{region}.amazonaws.com` (`.com.cn` for `cn-` regions)
   */
  endpoint?: string;
  /** `MaxResults` of each `DescribeInstances` page (5–1000). @default 1000 */
  pageSize?: number;
  /** Regions listed at once. @default 4 */
  regionConcurrency?: number;
  /**
   * Server-side `DescribeInstances` filters for `listNodes`, e.g. `{ 'tag:env': 'prod',
   * 'instance-state-name': ['running', 'stopped'] }` (`*`/`?` wildcards as EC2 allows).
   */
  filters?: Readonly<Record<string, string | readonly string[]>>;
  /** HTTP behaviour (timeouts, retries). */
  http?: ProviderHttpOptions;
  /** Where the credential and region defaults are read from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/** `createNode` `extra` keys EC2 understands. */
export interface Ec2CreateNodeExtra {
  keyName?: string;
  subnetId?: string;
  securityGroupIds?: string[];
  /** Plain text; base64-encoded for the API. */
  userData?: string;
}

const OPTION_KEYS = [
  'id',
  'region',
  'regions',
  'credentials',
  'endpoint',
  'pageSize',
  'regionConcurrency',
  'filters',
  'http',
  'env',
  'logger',
  'clock',
] as const;
const CREATE_EXTRA_KEYS = ['keyName', 'subnetId', 'securityGroupIds', 'userData'] as const;
const REGION_RE = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

interface Ec2Config {
  readonly id: string;
  readonly homeRegion: string;
  readonly regions: readonly string[] | 'all';
  readonly credentials: Ec2Credentials;
  readonly endpoint: string | undefined;
  readonly pageSize: number;
  readonly regionConcurrency: number;
  /** `Filter.N.Name` / `Filter.N.Value.M` parameters. */
  readonly filterParams: Readonly<Record<string, string>>;
  readonly logger: Logger;
  readonly clock: Clock;
}

function checkRegion(value: unknown, path: string): string {
  if (typeof value !== 'string' || !REGION_RE.test(value))
    throw validationError(path, 'an AWS region name like us-east-1', value);
  return value;
}

function normalizeCredentials(value: unknown, env: Ec2Options['env'], id: string): Ec2Credentials {
  if (value === undefined) {
    const accessKeyId = env?.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env?.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey)
      throw new FleetwatchError(
        'E_CONFIG',
        'ec2: no credentials: pass options.credentials or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
        { provider: id, path: 'options.credentials' },
      );
    const sessionToken = env?.AWS_SESSION_TOKEN;
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  if (typeof value !== 'object' || value === null)
    throw validationError('options.credentials', 'an object', value);
  rejectUnknownKeys(value, ['accessKeyId', 'secretAccessKey', 'sessionToken'], 'options.credentials');
  const c = value as Record<string, unknown>;
  // Never echo a credential value in an error: report only its type.
  for (const key of ['accessKeyId', 'secretAccessKey'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '')
      throw new FleetwatchError('E_VALIDATION', `options.credentials.${key}: expected a non-empty string`, {
        path: `options.credentials.${key}`,
        expected: 'a non-empty string',
        received: typeof c[key],
      });
  }
  if (c.sessionToken !== undefined && (typeof c.sessionToken !== 'string' || c.sessionToken === ''))
    throw new FleetwatchError(
      'E_VALIDATION',
      'options.credentials.sessionToken: expected a non-empty string',
      {
        path: 'options.credentials.sessionToken',
        expected: 'a non-empty string',
        received: typeof c.sessionToken,
      },
    );
  return {
    accessKeyId: c.accessKeyId as string,
    secretAccessKey: c.secretAccessKey as string,
    ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken as string }),
  };
}

/** Validate {@link Ec2Options} and apply defaults. */
function normalizeEc2Options(options: Ec2Options): Ec2Config {
  checkOptionsShape(options, OPTION_KEYS);
  const env = options.env ?? process.env;
  const regions = regionsOption(options.regions, "a non-empty array of regions or 'all'", checkRegion);
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const homeRegion =
    options.region !== undefined
      ? checkRegion(options.region, 'options.region')
      : Array.isArray(regions)
        ? (regions[0] as string)
        : fromEnv !== undefined
          ? checkRegion(fromEnv, 'env.AWS_REGION')
          : regions === 'all'
            ? 'us-east-1'
            : undefined;
  if (homeRegion === undefined)
    throw new FleetwatchError(
      'E_CONFIG',
      'ec2: no region: pass options.region or options.regions, or set AWS_REGION',
      {
        provider: options.id,
        path: 'options.region',
      },
    );
  if (options.endpoint !== undefined) {
    if (typeof options.endpoint !== 'string' || !/^https?:\/\/[^/]/.test(options.endpoint))
      throw validationError('options.endpoint', 'an http(s) URL', options.endpoint);
  }
  return Object.freeze({
    id: options.id,
    homeRegion,
    regions: regions ?? [homeRegion],
    credentials: normalizeCredentials(options.credentials, env, options.id),
    endpoint: options.endpoint,
    pageSize:
      options.pageSize === undefined
        ? 1000
        : Math.min(1000, positiveNumber(options.pageSize, 'options.pageSize', { integer: true, min: 5 })),
    regionConcurrency: regionConcurrencyOption(options.regionConcurrency),
    filterParams: filterParams(options.filters),
    ...loggerAndClock(options),
  });
}

/** `Filter.N.Name` / `Filter.N.Value.M` query parameters from a filters option. */
function filterParams(filters: unknown): Record<string, string> {
  if (filters === undefined) return {};
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters))
    throw validationError('options.filters', 'an object of filter name → value(s)', filters);
  const params: Record<string, string> = {};
  let n = 0;
  for (const [name, raw] of Object.entries(filters)) {
    const values: unknown[] = Array.isArray(raw) ? raw : [raw];
    if (name === '' || values.length === 0 || values.some((v) => typeof v !== 'string'))
      throw validationError(`options.filters.${name}`, 'a string or a non-empty array of strings', raw);
    n++;
    params[`Filter.${n}.Name`] = name;
    values.forEach((v, m) => {
      params[`Filter.${n}.Value.${m + 1}`] = v as string;
    });
  }
  return params;
}

/** The endpoint of a region: the `endpoint` option with `{region}` filled in, or AWS's own. */
export function ec2EndpointFor(region: string, endpoint?: string): string {
  if (endpoint !== undefined) return endpoint.replaceAll('{region}', region);
  return `https://ec2.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** `YYYYMMDDTHHMMSSZ`, the SigV4 timestamp. */
function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Read a tagSet into a record (values may be empty; non-ASCII kept as is). */
function readTags(el: Ec2XmlElement | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of xmlItems(el, 'tagSet')) {
    const key = xmlText(item, 'key');
    if (key !== undefined) setOwn(tags, key, xmlText(item, 'value') ?? '');
  }
  return tags;
}

function pushUnique(list: string[], value: string | undefined): void {
  if (value !== undefined && !list.includes(value)) list.push(value);
}

/**
 * Translate one `instancesSet/item` into a {@link Node}. `elasticIps` are the region's Elastic IPs by
 * instance id (from one `DescribeAddresses`).
 */
export function ec2InstanceToNode(
  item: Ec2XmlElement,
  ctx: {
    provider: string;
    region: string;
    elasticIps?: ReadonlyMap<string, readonly string[]>;
    reservationId?: string;
  },
): Node {
  const id = xmlText(item, 'instanceId');
  if (id === undefined)
    throw new FleetwatchError('E_MALFORMED_RESPONSE', 'EC2: instance without instanceId', {
      provider: ctx.provider,
    });
  const rawState = xmlText(item, 'instanceState', 'name') ?? '';
  const tags = readTags(item);
  const publicIps: string[] = [];
  const privateIps: string[] = [];
  pushUnique(publicIps, xmlText(item, 'ipAddress'));
  for (const ip of ctx.elasticIps?.get(id) ?? []) pushUnique(publicIps, ip);
  pushUnique(privateIps, xmlText(item, 'privateIpAddress'));
  for (const eni of xmlItems(item, 'networkInterfaceSet')) {
    for (const addr of xmlItems(eni, 'privateIpAddressesSet')) {
      pushUnique(privateIps, xmlText(addr, 'privateIpAddress'));
      pushUnique(publicIps, xmlText(addr, 'association', 'publicIp'));
    }
  }
  const extra: Record<string, unknown> = {};
  for (const [key, path] of EXTRA_FIELDS) {
    const value = key === 'reservationId' ? ctx.reservationId : xmlText(item, ...path);
    if (value !== undefined) extra[key] = value;
  }
  const createdAt = parseDate(xmlText(item, 'launchTime'));
  const zone = xmlText(item, 'placement', 'availabilityZone');
  const size = xmlText(item, 'instanceType');
  const image = xmlText(item, 'imageId');
  return {
    uid: `${ctx.provider}:${id}`,
    id,
    name: tags.Name ?? '',
    provider: ctx.provider,
    kind: 'ec2',
    state: lookupState(EC2_STATES, rawState),
    rawState,
    region: ctx.region,
    ...definedFields({ zone }),
    publicIps,
    privateIps,
    ...definedFields({ size, image, createdAt }),
    tags,
    extra,
  };
}

/** Every instance of a `DescribeInstances`/`RunInstances` body as a node. */
export function ec2NodesFromXml(
  root: Ec2XmlElement,
  ctx: { provider: string; region: string; elasticIps?: ReadonlyMap<string, readonly string[]> },
): Node[] {
  if (root.name === 'RunInstancesResponse') {
    const reservationId = xmlText(root, 'reservationId');
    return xmlItems(root, 'instancesSet').map((item) =>
      ec2InstanceToNode(item, { ...ctx, ...(reservationId === undefined ? {} : { reservationId }) }),
    );
  }
  return xmlItems(root, 'reservationSet').flatMap((reservation) => {
    const reservationId = xmlText(reservation, 'reservationId');
    return xmlItems(reservation, 'instancesSet').map((item) =>
      ec2InstanceToNode(item, { ...ctx, ...(reservationId === undefined ? {} : { reservationId }) }),
    );
  });
}

/** Elastic IPs by instance id from a `DescribeAddresses` body. */
export function ec2ElasticIpsFromXml(root: Ec2XmlElement): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const item of xmlItems(root, 'addressesSet')) {
    const instanceId = xmlText(item, 'instanceId');
    const ip = xmlText(item, 'publicIp');
    if (instanceId === undefined || ip === undefined) continue;
    const list = out.get(instanceId) ?? [];
    list.push(ip);
    out.set(instanceId, list);
  }
  return out;
}

/** Enabled region names from a `DescribeRegions` body (regions not opted in are left out). */
export function ec2RegionsFromXml(root: Ec2XmlElement): string[] {
  return xmlItems(root, 'regionInfo')
    .filter((item) => xmlText(item, 'optInStatus') !== 'not-opted-in')
    .map((item) => xmlText(item, 'regionName'))
    .filter((name): name is string => name !== undefined);
}

function tagParams(tags: Record<string, string>, prefix: string, path: string): Record<string, string> {
  const params: Record<string, string> = {};
  let n = 0;
  for (const [key, value] of Object.entries(tags)) {
    if (key.length === 0 || key.length > 128)
      throw validationError(`${path}.${key}`, 'a key of 1-128 characters', key);
    if (key.toLowerCase().startsWith('aws:'))
      throw validationError(`${path}.${key}`, "a key not starting with 'aws:'", key);
    if (typeof value !== 'string' || value.length > 256)
      throw validationError(`${path}.${key}`, 'a string of at most 256 characters', value);
    n++;
    params[`${prefix}${n}.Key`] = key;
    params[`${prefix}${n}.Value`] = value;
  }
  return params;
}

/** What {@link ec2} returns: a {@link Provider} with every optional operation present. */
export type Ec2Provider = ProviderWith<NodeLifecycleOperation>;

/**
 * An EC2 provider.
 *
 * @example
 * ```ts
 * const aws = ec2({ id: 'aws-prod', regions: ['us-east-1', 'eu-west-1'] });
 * for await (const node of aws.listNodes()) console.log(node.uid, node.region, node.state);
 * ```
 */
export function ec2(options: Ec2Options): Ec2Provider {
  const config = normalizeEc2Options(options);
  const httpOptions = normalizeProviderHttpOptions(options.http);
  const { id: provider, credentials, clock } = config;
  const secrets = (): string[] =>
    [credentials.secretAccessKey, credentials.sessionToken, credentials.accessKeyId].filter(
      (s): s is string => s !== undefined,
    );
  const clients = new Map<string, ProviderHttpClient>();
  /** Region of each instance id seen, so actions on a multi-region provider need no lookup. */
  const regionOfInstance = new RegionMemo<string>();
  let allRegions: Promise<readonly string[]> | undefined;

  const clientFor = (region: string): ProviderHttpClient => {
    let client = clients.get(region);
    if (client === undefined) {
      client = createProviderHttpClient({
        provider,
        baseUrl: ec2EndpointFor(region, config.endpoint),
        http: httpOptions,
        logger: config.logger,
        clock,
        secrets,
        headers: { accept: 'text/xml, application/xml' },
        authorize: ({ method, url, headers, body }) => {
          headers['x-amz-date'] = amzDate(clock.now());
          // aws4 signs a copy of the headers: copy the result (Authorization, X-Amz-Security-Token) back.
          const signed = aws4.sign(
            {
              host: url.host,
              path: url.pathname + url.search,
              method,
              body,
              service: 'ec2',
              region,
              headers,
            },
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
      clients.set(region, client);
    }
    return client;
  };

  /** Call one action in one region and return the parsed root element. */
  const call = async (
    region: string,
    action: string,
    params: Record<string, string>,
    opts: AbortOptions & { idempotent?: boolean } = {},
  ): Promise<Ec2XmlElement> => {
    const client = clientFor(region);
    const res = await client.request({
      method: 'POST',
      url: '/',
      form: { Action: action, Version: EC2_API_VERSION, ...params },
      idempotent: opts.idempotent ?? action.startsWith('Describe'),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    const root = parseEc2Xml(res.body, provider);
    if (root.name !== `${action}Response`)
      throw new FleetwatchError(
        'E_MALFORMED_RESPONSE',
        `${provider}: ${action} answered <${root.name}> instead of <${action}Response> (${redactUrl(res.url)})`,
        { provider, status: res.status },
      );
    return root;
  };

  const regionsToList = async (opts: AbortOptions): Promise<readonly string[]> => {
    if (config.regions !== 'all') return config.regions;
    allRegions ??= call(config.homeRegion, 'DescribeRegions', {}, opts).then(
      (root) => {
        const names = ec2RegionsFromXml(root);
        config.logger.debug({ provider, regions: names.length }, 'ec2 regions discovered');
        return names;
      },
      (err: unknown) => {
        allRegions = undefined;
        throw err;
      },
    );
    return allRegions;
  };

  const elasticIps = async (region: string, params: Record<string, string>, opts: AbortOptions) =>
    ec2ElasticIpsFromXml(await call(region, 'DescribeAddresses', params, opts));

  async function* listRegion(region: string, opts: ListNodesOptions): AsyncGenerator<Node> {
    // One DescribeAddresses per region, fetched alongside the first page (no call per node).
    const eips = elasticIps(region, {}, opts);
    eips.catch(() => {});
    const pages = paginateProvider<Node>(
      async (cursor, ctx) => {
        const root = await call(
          region,
          'DescribeInstances',
          {
            ...config.filterParams,
            MaxResults: String(config.pageSize),
            ...(cursor === undefined ? {} : { NextToken: cursor }),
          },
          ctx.signal === undefined ? {} : { signal: ctx.signal },
        );
        const nodes = ec2NodesFromXml(root, { provider, region, elasticIps: await eips });
        return { items: nodes, next: xmlText(root, 'nextToken') };
      },
      {
        provider,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        ...(opts.onPage === undefined ? {} : { onPage: opts.onPage }),
      },
    );
    for await (const page of pages) {
      for (const node of page) {
        regionOfInstance.set(node.id, region);
        yield node;
      }
    }
  }

  const getInRegion = async (region: string, id: string, opts: AbortOptions): Promise<Node | undefined> => {
    const [root, eips] = await Promise.all([
      undefinedIfNotFound(call(region, 'DescribeInstances', { 'InstanceId.1': id }, opts)),
      elasticIps(region, { 'Filter.1.Name': 'instance-id', 'Filter.1.Value.1': id }, opts),
    ]);
    if (root === undefined) return undefined;
    const node = ec2NodesFromXml(root, { provider, region, elasticIps: eips }).find((n) => n.id === id);
    if (node !== undefined) regionOfInstance.set(id, region);
    return node;
  };

  const checkId = (id: unknown, path = 'id'): string => {
    if (typeof id !== 'string' || id === '') throw validationError(path, 'a non-empty instance id', id);
    return id;
  };

  const getNode = async (id: string, opts: AbortOptions = {}): Promise<Node | undefined> => {
    checkId(id);
    const known = regionOfInstance.get(id);
    if (known !== undefined) {
      const node = await getInRegion(known, id, opts);
      if (node !== undefined) return node;
    }
    const regions = (await regionsToList(opts)).filter((r) => r !== known);
    return firstFound(regions, (region) => getInRegion(region, id, opts), config.regionConcurrency);
  };

  /** The region an instance lives in (from listings, or by looking it up). */
  const regionFor = async (id: string, opts: AbortOptions): Promise<string> => {
    checkId(id);
    const regions = await regionsToList(opts);
    if (regions.length === 1) return regions[0] as string;
    const known = regionOfInstance.get(id);
    if (known !== undefined) return known;
    const node = await getNode(id, opts);
    if (node?.region === undefined)
      throw new FleetwatchError('E_NOT_FOUND', `${provider}: instance ${id} not found in any region`, {
        provider,
        providerCode: 'InvalidInstanceID.NotFound',
      });
    return node.region;
  };

  const instanceAction =
    (action: string) =>
    async (id: string, opts: AbortOptions = {}) => {
      const region = await regionFor(id, opts);
      await call(region, action, { 'InstanceId.1': id }, { ...opts, idempotent: true });
    };

  return {
    id: provider,
    kind: 'ec2',
    listNodes: listAcrossRegions(regionsToList, listRegion, config.regionConcurrency),
    getNode,
    async setTags(nodeId, tags, opts = {}) {
      if (typeof tags !== 'object' || tags === null || Array.isArray(tags))
        throw validationError('tags', 'an object', tags);
      const params = tagParams(tags, 'Tag.', 'tags');
      if (Object.keys(params).length === 0) return;
      const region = await regionFor(nodeId, opts);
      await call(region, 'CreateTags', { 'ResourceId.1': nodeId, ...params }, { ...opts, idempotent: true });
    },
    async removeTags(nodeId, keys, opts = {}) {
      if (!Array.isArray(keys)) throw validationError('keys', 'an array of tag keys', keys);
      if (keys.length === 0) return;
      const params: Record<string, string> = { 'ResourceId.1': nodeId };
      keys.forEach((key, i) => {
        if (typeof key !== 'string' || key === '')
          throw validationError(`keys[${i}]`, 'a non-empty string', key);
        params[`Tag.${i + 1}.Key`] = key;
      });
      const region = await regionFor(nodeId, opts);
      await call(region, 'DeleteTags', params, { ...opts, idempotent: true });
    },
    rebootNode: instanceAction('RebootInstances'),
    startNode: instanceAction('StartInstances'),
    stopNode: instanceAction('StopInstances'),
    destroyNode: instanceAction('TerminateInstances'),
    async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
      if (typeof input !== 'object' || input === null) throw validationError('input', 'an object', input);
      for (const key of ['name', 'size', 'image'] as const) {
        if (typeof input[key] !== 'string' || input[key] === '')
          throw validationError(`input.${key}`, 'a non-empty string', input[key]);
      }
      const region =
        input.region === undefined ? config.homeRegion : checkRegion(input.region, 'input.region');
      const extra = (input.extra ?? {}) as Ec2CreateNodeExtra;
      rejectUnknownKeys(extra, CREATE_EXTRA_KEYS, 'input.extra');
      const params: Record<string, string> = {
        ImageId: input.image,
        InstanceType: input.size,
        MinCount: '1',
        MaxCount: '1',
        // Makes the call idempotent, so a retry after a lost response does not start a second instance.
        ClientToken: randomUUID(),
        'TagSpecification.1.ResourceType': 'instance',
        ...tagParams({ ...input.tags, Name: input.name }, 'TagSpecification.1.Tag.', 'input.tags'),
      };
      if (input.zone !== undefined) params['Placement.AvailabilityZone'] = input.zone;
      if (extra.keyName !== undefined) params.KeyName = extra.keyName;
      if (extra.subnetId !== undefined) params.SubnetId = extra.subnetId;
      if (extra.securityGroupIds !== undefined) {
        if (!Array.isArray(extra.securityGroupIds))
          throw validationError(
            'input.extra.securityGroupIds',
            'an array of strings',
            extra.securityGroupIds,
          );
        extra.securityGroupIds.forEach((g, i) => {
          params[`SecurityGroupId.${i + 1}`] = g;
        });
      }
      if (extra.userData !== undefined)
        params.UserData = Buffer.from(extra.userData, 'utf8').toString('base64');
      const root = await call(region, 'RunInstances', params, { ...opts, idempotent: true });
      const node = ec2NodesFromXml(root, { provider, region })[0];
      if (node === undefined)
        throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: RunInstances returned no instance`, {
          provider,
        });
      regionOfInstance.set(node.id, region);
      return node;
    },
  };
}
