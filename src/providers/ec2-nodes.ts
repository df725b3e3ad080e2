import { FleetwatchError, type FleetwatchErrorCode, validationError } from '../errors.js';
import { type Ec2XmlElement, xmlItems, xmlRawText, xmlText } from './ec2-xml.js';
import { definedFields, lookupState, makeNode, parseDate, setOwn } from './kit/index.js';
import type { Node, NodeState } from './types.js';

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
  'InvalidKeyPair.Duplicate': 'E_CONFLICT',
  'InvalidKeyPair.NotFound': 'E_NOT_FOUND',
  'InvalidKeyPair.Format': 'E_VALIDATION',
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
export const EXTRA_FIELDS: ReadonlyArray<readonly [key: string, path: readonly string[]]> = [
  ['stateCode', ['instanceState', 'code']],
  ['stateReason', ['stateReason', 'code']],
  ['stateReasonMessage', ['stateReason', 'message']],
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

/**
 * Read a tagSet into a record, byte for byte: keys and values keep leading and trailing spaces
 * (as boto3 does); values may be empty; non-ASCII is kept as is.
 */
export function readTags(el: Ec2XmlElement | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of xmlItems(el, 'tagSet')) {
    const key = xmlRawText(item, 'key');
    if (key !== undefined && key !== '') setOwn(tags, key, xmlRawText(item, 'value') ?? '');
  }
  return tags;
}

/** EC2's tag limits, in Unicode characters (code points, as EC2 counts them; not UTF-16 units). */
export const EC2_TAG_LIMITS = { key: 128, value: 256 } as const;

/** Length in Unicode code points (an emoji is 1, not 2). */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function pushUnique(list: string[], value: string | undefined): void {
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
  return makeNode(
    { id: ctx.provider, kind: 'ec2' },
    {
      id,
      name: tags.Name ?? '',
      state: lookupState(EC2_STATES, rawState),
      rawState,
      publicIps,
      privateIps,
      tags,
      extra,
      region: ctx.region,
      ...definedFields({ zone, size, image, createdAt }),
    },
  );
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

export function tagParams(
  tags: Record<string, string>,
  prefix: string,
  path: string,
): Record<string, string> {
  const params: Record<string, string> = {};
  let n = 0;
  for (const [key, value] of Object.entries(tags)) {
    if (key.length === 0 || codePoints(key) > EC2_TAG_LIMITS.key)
      throw validationError(`${path}.${key}`, 'a key of 1-128 characters', key);
    if (key.toLowerCase().startsWith('aws:'))
      throw validationError(`${path}.${key}`, "a key not starting with 'aws:'", key);
    if (typeof value !== 'string' || codePoints(value) > EC2_TAG_LIMITS.value)
      throw validationError(`${path}.${key}`, 'a string of at most 256 characters', value);
    n++;
    params[`${prefix}${n}.Key`] = key;
    params[`${prefix}${n}.Value`] = value;
  }
  return params;
}
