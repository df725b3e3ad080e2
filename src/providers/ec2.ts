/**
 * Amazon EC2 (and EC2-compatible endpoints such as moto) through the Query API, signed with SigV4.
 * One provider can cover several regions, listed concurrently; each node carries its region.
 */
import type { AbortOptions } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import { EC2_CATALOG } from './ec2-catalog.js';
import { Ec2Client } from './ec2-client.js';
import { ec2RunInstancesParams } from './ec2-create.js';
import { ec2ElasticIpsFromXml, ec2NodesFromXml, tagParams } from './ec2-nodes.js';
import { type Ec2Options, normalizeEc2Options } from './ec2-options.js';
import { type Ec2XmlElement, xmlText } from './ec2-xml.js';
import {
  CatalogProvider,
  completedOperation,
  keysArg,
  listAcrossRegions,
  mapOperation,
  type NodeStateSource,
  nodeIdArg,
  nodeStateOperation,
  nodesFromPages,
  normalizeProviderHttpOptions,
  remembered,
  signalOf,
  tagsArg,
  waitForNodeState,
} from './kit/index.js';
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

/** botocore's EC2 waiters poll every 15 s (`waiters-2.json`). */
export const EC2_POLL_INTERVAL_MS = 15_000;

/**
 * What each instance action waits for, and the raw states it cannot get there from (botocore's
 * waiter failure states): a start that ends `terminated` fails with the provider's state reason.
 */
const ACTIONS = {
  start: { call: 'StartInstances', target: ['running'], failOn: ['shutting-down', 'terminated', 'stopping'] },
  stop: { call: 'StopInstances', target: ['stopped'], failOn: ['pending', 'terminated'] },
  reboot: {
    call: 'RebootInstances',
    target: ['running'],
    failOn: ['shutting-down', 'terminated', 'stopped'],
  },
  destroy: { call: 'TerminateInstances', target: ['terminated'], failOn: ['pending', 'stopping'] },
} as const satisfies Record<
  string,
  { call: string; target: readonly NodeState[]; failOn: readonly string[] }
>;

type Ec2Action = keyof typeof ACTIONS;

/**
 * An EC2 provider: listing, tags, power actions that return an {@link Operation} to wait for,
 * create and destroy, and the catalogue (images, instance types, regions and zones, key pairs).
 * Catalogue and key-pair calls go to the home `region`. Build it with {@link ec2}.
 *
 * @example
 * ```ts
 * const aws = new Ec2Provider({ id: 'aws-prod', regions: ['us-east-1', 'eu-west-1'] });
 * const op = await aws.stopNode('i-0abc', { graceful: true });
 * const stopped = await op.done({ timeoutMs: 300_000 });
 * ```
 */
export class Ec2Provider extends CatalogProvider<Ec2Client> implements Provider {
  readonly id: string;
  readonly kind = 'ec2' as const;

  constructor(options: Ec2Options) {
    const config = normalizeEc2Options(options);
    super(new Ec2Client(config, normalizeProviderHttpOptions(options.http)), EC2_CATALOG);
    this.id = config.id;
  }

  listNodes(opts: ListNodesOptions = {}): AsyncIterable<Node> {
    const client = this.client;
    const listRegion = (region: string, o: ListNodesOptions) => this.#listRegion(region, o);
    return listAcrossRegions((o) => client.regions(o), listRegion, client.config.regionConcurrency)(opts);
  }

  async *#listRegion(region: string, opts: ListNodesOptions): AsyncGenerator<Node> {
    const client = this.client;
    const { provider, filterParams, pageSize } = { provider: this.id, ...client.config };
    // One DescribeAddresses per region, fetched alongside the first page (no call per node).
    const eips = client.call(region, 'DescribeAddresses', {}, opts).then(ec2ElasticIpsFromXml);
    eips.catch(() => {});
    yield* nodesFromPages<Node>(
      async (cursor, ctx) => {
        const root = await client.call(
          region,
          'DescribeInstances',
          {
            ...filterParams,
            MaxResults: String(pageSize),
            ...(cursor === undefined ? {} : { NextToken: cursor }),
          },
          signalOf(ctx),
        );
        const nodes = ec2NodesFromXml(root, { provider, region, elasticIps: await eips });
        return { items: nodes, next: xmlText(root, 'nextToken') };
      },
      (node) => remembered(client, node, region),
      { ...opts, provider },
    );
  }

  /** The Elastic IPs of instance `id` in `region`. */
  async #elasticIps(region: string, id: string, opts: AbortOptions) {
    const params = { 'Filter.1.Name': 'instance-id', 'Filter.1.Value.1': id };
    return ec2ElasticIpsFromXml(await this.client.call(region, 'DescribeAddresses', params, opts));
  }

  #nodeFrom(region: string, root: Ec2XmlElement, id: string, elasticIps: Map<string, string[]>) {
    return ec2NodesFromXml(root, { provider: this.id, region, elasticIps }).find((n) => n.id === id);
  }

  /** The node in `region`, its Elastic IPs included; `undefined` when EC2 does not know it. */
  async #getInRegion(region: string, id: string, opts: AbortOptions): Promise<Node | undefined> {
    const [root, eips] = await Promise.all([
      this.client.locateIn(region, id, opts),
      this.#elasticIps(region, id, opts),
    ]);
    return root === undefined ? undefined : this.#nodeFrom(region, root, id, eips);
  }

  /**
   * One instance by id. On a multi-region provider an id not seen in a listing is looked for with
   * one `DescribeInstances` per region; its Elastic IPs are read only in the region that has it.
   */
  async getNode(id: string, opts: AbortOptions = {}): Promise<Node | undefined> {
    nodeIdArg(id);
    const regions = await this.client.regions(opts);
    if (regions.length === 1) return this.#getInRegion(regions[0] as string, id, opts);
    const found = await this.client.locate(id, opts);
    if (found === undefined) return undefined;
    return this.#nodeFrom(found.region, found.root, id, await this.#elasticIps(found.region, id, opts));
  }

  /** Set tags (merge); lengths are checked in Unicode characters as EC2 counts them. Done at once. */
  async setTags(
    nodeId: string,
    tags: Record<string, string>,
    opts: AbortOptions = {},
  ): Promise<Operation<void>> {
    nodeIdArg(nodeId, 'nodeId');
    const params = tagParams(tagsArg(tags), 'Tag.', 'tags');
    if (Object.keys(params).length > 0) {
      const region = await this.client.regionFor(nodeId, opts);
      await this.client.call(
        region,
        'CreateTags',
        { 'ResourceId.1': nodeId, ...params },
        { ...opts, idempotent: true },
      );
    }
    return completedOperation(nodeId, 'setTags', undefined);
  }

  async removeTags(nodeId: string, keys: string[], opts: AbortOptions = {}): Promise<Operation<void>> {
    nodeIdArg(nodeId, 'nodeId');
    const params: Record<string, string> = { 'ResourceId.1': nodeId };
    keysArg(keys).forEach((key, i) => {
      if (key === '') throw validationError(`keys[${i}]`, 'a non-empty string', key);
      params[`Tag.${i + 1}.Key`] = key;
    });
    if (keys.length > 0) {
      const region = await this.client.regionFor(nodeId, opts);
      await this.client.call(region, 'DeleteTags', params, { ...opts, idempotent: true });
    }
    return completedOperation(nodeId, 'removeTags', undefined);
  }

  /** Polls one region's `DescribeInstances` for instance `id` (the operations' source). */
  #source(region: string): NodeStateSource {
    return { id: this.id, getNode: (nodeId, o) => this.#getInRegion(region, nodeId, o ?? {}) };
  }

  #stateOperation(
    action: string,
    id: string,
    region: string,
    target: readonly NodeState[],
    failOn: readonly string[],
  ) {
    return nodeStateOperation(this.#source(region), id, target, {
      action,
      sleep: this.client.http.sleep,
      clock: this.client.config.clock,
      defaultIntervalMs: EC2_POLL_INTERVAL_MS,
      maxIntervalMs: EC2_POLL_INTERVAL_MS,
      failWhen: (node) =>
        failOn.includes(node.rawState)
          ? `${action} cannot finish: the instance is ${node.rawState}${stateReason(node)}`
          : undefined,
    });
  }

  async #action(action: Ec2Action, id: string, opts: AbortOptions, more: Record<string, string> = {}) {
    nodeIdArg(id);
    const spec = ACTIONS[action];
    const region = await this.client.regionFor(id, opts);
    await this.client.call(region, spec.call, { 'InstanceId.1': id, ...more }, { ...opts, idempotent: true });
    return { region, op: this.#stateOperation(action, id, region, spec.target, spec.failOn) };
  }

  /** `RebootInstances`; the operation resolves once the instance reports `running`. */
  async rebootNode(id: string, opts: AbortOptions = {}): Promise<Operation<Node>> {
    return (await this.#action('reboot', id, opts)).op;
  }

  /** `StartInstances`; the operation resolves with the node once it is `running`. */
  async startNode(id: string, opts: AbortOptions = {}): Promise<Operation<Node>> {
    return (await this.#action('start', id, opts)).op;
  }

  /**
   * `StopInstances`; `graceful: false` adds `Force=true` (no OS shutdown). With `graceful` and
   * `timeoutMs`, an instance not `stopped` after `timeoutMs` is stopped again with `Force=true`
   * inside `done()`.
   */
  async stopNode(id: string, opts: StopNodeOptions = {}): Promise<Operation<Node>> {
    const graceful = opts.graceful ?? true;
    if (typeof graceful !== 'boolean') throw validationError('opts.graceful', 'a boolean', graceful);
    const { region, op } = await this.#action('stop', id, opts, graceful ? {} : { Force: 'true' });
    if (!graceful || opts.timeoutMs === undefined) return op;
    const graceMs = opts.timeoutMs;
    return {
      id: op.id,
      action: 'stop',
      done: async (wait: WaitOptions = {}) => {
        try {
          return await op.done({
            ...wait,
            timeoutMs: Math.min(graceMs, wait.timeoutMs ?? Number.POSITIVE_INFINITY),
          });
        } catch (err) {
          if (
            !(err instanceof FleetwatchError && err.code === 'E_TIMEOUT') ||
            (wait.timeoutMs ?? Infinity) <= graceMs
          )
            throw err;
          this.client.config.logger.info({ provider: this.id, id }, 'ec2 graceful stop timed out; forcing');
          await this.client.call(
            region,
            'StopInstances',
            { 'InstanceId.1': id, Force: 'true' },
            { ...signalOf(wait), idempotent: true },
          );
          const rest = wait.timeoutMs === undefined ? {} : { timeoutMs: wait.timeoutMs - graceMs };
          return op.done({ ...wait, ...rest });
        }
      },
    };
  }

  /** `TerminateInstances`; the operation resolves once the instance is `terminated`. */
  async destroyNode(id: string, opts: AbortOptions = {}): Promise<Operation<void>> {
    const { op } = await this.#action('destroy', id, opts);
    return mapOperation(op, () => undefined);
  }

  /**
   * `RunInstances` (see `ec2RunInstancesParams`); the node comes back `pending`: wait with
   * {@link Ec2Provider.waitForState}.
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const { region, params } = ec2RunInstancesParams(input, this.client.config);
    const root = await this.client.call(region, 'RunInstances', params, { ...opts, idempotent: true });
    const node = ec2NodesFromXml(root, { provider: this.id, region })[0];
    if (node === undefined)
      throw new FleetwatchError('E_MALFORMED_RESPONSE', `${this.id}: RunInstances returned no instance`, {
        provider: this.id,
      });
    this.client.remember(node.id, region);
    return node;
  }

  /** Poll `DescribeInstances` (every 15 s by default, botocore's guidance) until the state is one of `states`. */
  async waitForState(nodeId: string, states: readonly NodeState[], opts: WaitOptions = {}): Promise<Node> {
    nodeIdArg(nodeId, 'nodeId');
    const region = await this.client.regionFor(nodeId, opts);
    return waitForNodeState(this.#source(region), nodeId, states, {
      ...opts,
      sleep: this.client.http.sleep,
      clock: this.client.config.clock,
      defaultIntervalMs: EC2_POLL_INTERVAL_MS,
      maxIntervalMs: EC2_POLL_INTERVAL_MS,
    });
  }
}

function stateReason(node: Node): string {
  const message = node.extra.stateReasonMessage ?? node.extra.stateReason;
  return typeof message === 'string' ? ` (${message})` : '';
}

/**
 * An EC2 provider.
 *
 * @example
 * ```ts
 * const aws = ec2({ id: 'aws-prod', regions: ['us-east-1', 'eu-west-1'] });
 * for await (const node of aws.listNodes()) console.log(node.uid, node.region, node.state);
 * ```
 */
export function ec2(options: Ec2Options): ManagedProvider {
  return new Ec2Provider(options);
}

export { EC2_IMAGES_PAGE, EC2_SIZES_PAGE } from './ec2-catalog.js';
export { type Ec2CreateNodeExtra, ec2Placement } from './ec2-create.js';
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
export { type Ec2Credentials, type Ec2Options, ec2EndpointFor } from './ec2-options.js';
