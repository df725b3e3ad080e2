import { randomUUID } from 'node:crypto';
import { validationError } from '../errors.js';
import { tagParams } from './ec2-nodes.js';
import { CREATE_EXTRA_KEYS, checkRegion, type Ec2Config } from './ec2-options.js';
import { createExtraArg, userDataBase64 } from './kit/index.js';
import type { CreateNodeInput } from './types.js';

/** EC2's user data limit: 16 KiB before base64. */
export const EC2_USER_DATA_MAX_BYTES = 16_384;

/** An availability zone name: a region name plus a letter (`eu-west-1a`) or a Local Zone suffix (`us-west-2-lax-1a`). */
const ZONE_RE = /^([a-z]{2}(?:-[a-z]+)+-\d+)(?:[a-z]|-[a-z0-9-]+)$/;

/**
 * Where `createNode` runs: `location` is a region name (`eu-west-1`: EC2 picks the zone) or an
 * availability zone name (`eu-west-1a` → that zone's region, `Placement.AvailabilityZone`), as
 * {@link Provider.listLocations} lists them. Zone ids (`euw1-az1`) are not accepted. The deprecated
 * `region`/`zone` fields are honoured when `location` is absent. Default: the provider's `region`.
 */
export function ec2Placement(
  input: Pick<CreateNodeInput, 'location' | 'region' | 'zone'>,
  homeRegion: string,
): { region: string; zone?: string } {
  const location = input.location;
  if (location !== undefined) {
    if (typeof location !== 'string')
      throw validationError('input.location', 'a region or zone name', location);
    const zone = ZONE_RE.exec(location);
    if (zone !== null) return { region: zone[1] as string, zone: location };
    return { region: checkRegion(location, 'input.location') };
  }
  const region = input.region === undefined ? undefined : checkRegion(input.region, 'input.region');
  if (input.zone !== undefined) {
    if (typeof input.zone !== 'string' || input.zone === '')
      throw validationError('input.zone', 'an availability zone name', input.zone);
    return { region: region ?? ZONE_RE.exec(input.zone)?.[1] ?? homeRegion, zone: input.zone };
  }
  return { region: region ?? homeRegion };
}

/** `createNode` `extra` keys EC2 understands. */
export interface Ec2CreateNodeExtra {
  /** @deprecated Use `keyPair`. */
  keyName?: string;
  subnetId?: string;
  securityGroupIds?: string[];
  /** @deprecated Use `userData`. Plain text; base64-encoded for the API. */
  userData?: string;
}

/**
 * The `RunInstances` parameters of a {@link CreateNodeInput}: `image` → `ImageId`, `size` →
 * `InstanceType`, `keyPair` → `KeyName`, `userData` → base64 `UserData`, `tags` (with `Name`) →
 * `TagSpecification`, the zone → `Placement.AvailabilityZone`, and a fresh `ClientToken` so a retry
 * after a lost response does not start a second instance.
 */
export function ec2RunInstancesParams(
  input: CreateNodeInput,
  config: Pick<Ec2Config, 'homeRegion'>,
): { region: string; params: Record<string, string> } {
  if (typeof input !== 'object' || input === null) throw validationError('input', 'an object', input);
  for (const key of ['name', 'size', 'image'] as const) {
    if (typeof input[key] !== 'string' || input[key] === '')
      throw validationError(`input.${key}`, 'a non-empty string', input[key]);
  }
  const { region, zone } = ec2Placement(input, config.homeRegion);
  const extra = createExtraArg(input.extra, CREATE_EXTRA_KEYS, 'EC2') as Ec2CreateNodeExtra;
  if (input.tags !== undefined && (typeof input.tags !== 'object' || input.tags === null))
    throw validationError('input.tags', 'an object', input.tags);
  const params: Record<string, string> = {
    ImageId: input.image as string,
    InstanceType: input.size,
    MinCount: '1',
    MaxCount: '1',
    ClientToken: randomUUID(),
    'TagSpecification.1.ResourceType': 'instance',
    ...tagParams({ ...input.tags, Name: input.name }, 'TagSpecification.1.Tag.', 'input.tags'),
  };
  if (zone !== undefined) params['Placement.AvailabilityZone'] = zone;
  const keyName = input.keyPair ?? extra.keyName;
  if (keyName !== undefined) {
    if (typeof keyName !== 'string' || keyName === '')
      throw validationError('input.keyPair', 'a key pair name', keyName);
    params.KeyName = keyName;
  }
  if (extra.subnetId !== undefined) params.SubnetId = extra.subnetId;
  if (extra.securityGroupIds !== undefined) {
    if (!Array.isArray(extra.securityGroupIds))
      throw validationError('input.extra.securityGroupIds', 'an array of strings', extra.securityGroupIds);
    extra.securityGroupIds.forEach((g, i) => {
      params[`SecurityGroupId.${i + 1}`] = g;
    });
  }
  const userData = input.userData ?? extra.userData;
  if (userData !== undefined)
    params.UserData = userDataBase64(
      userData,
      EC2_USER_DATA_MAX_BYTES,
      input.userData === undefined ? 'input.extra.userData' : 'input.userData',
    );
  return { region, params };
}
