/**
 * Amazon EC2 (and EC2-compatible endpoints such as moto) through the Query API, signed with SigV4.
 * One provider can cover several regions, listed concurrently; each node carries its region.
 */
import { randomUUID } from 'node:crypto';
import aws4 from 'aws4';
import { type AbortOptions, rejectUnknownKeys } from '../core.js';
import { FleetwatchError, type FleetwatchErrorCode, validationError } from '../errors.js';
import {
  EC2_API_VERSION,
  EC2_ERROR_CODES,
  EC2_THROTTLE_CODES,
  ec2ElasticIpsFromXml,
  ec2NodesFromXml,
  ec2RegionsFromXml,
  tagParams,
} from './ec2-nodes.js';
import {
  amzDate,
  CREATE_EXTRA_KEYS,
  checkRegion,
  ec2EndpointFor,
  normalizeEc2Options,
} from './ec2-options.js';
import { type Ec2XmlElement, parseEc2Error, parseEc2Xml, xmlText } from './ec2-xml.js';
import {
  createProviderHttpClient,
  firstFound,
  listAcrossRegions,
  type NodeLifecycleOperation,
  normalizeProviderHttpOptions,
  type ProviderHttpClient,
  type ProviderHttpOptions,
  type ProviderWith,
  paginateProvider,
  RegionMemo,
  redactUrl,
  undefinedIfNotFound,
} from './kit/index.js';
import type { CommonProviderOptions, CreateNodeInput, ListNodesOptions, Node, Provider } from './types.js';

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
        ImageId: input.image as string, // checked above
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

export {
  EC2_API_VERSION,
  EC2_ERROR_CODES,
  EC2_STATES,
  EC2_THROTTLE_CODES,
  ec2ElasticIpsFromXml,
  ec2InstanceToNode,
  ec2NodesFromXml,
  ec2RegionsFromXml,
} from './ec2-nodes.js';
export { ec2EndpointFor } from './ec2-options.js';
