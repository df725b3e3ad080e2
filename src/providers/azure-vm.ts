import { FleetwatchError, validationError } from '../errors.js';
import type { AzureAddresses } from './azure-network.js';
import { asObject, lookupState, type NodeFields, parseDate, pickExtra, str } from './kit/index.js';
import type { NodeLocation, NodeState } from './types.js';

/**
 * Azure status code (lower-cased, first two segments) → NodeState. `PowerState/stopped` is stopped
 * but still billed; `PowerState/deallocated` is stopped and released — `rawState` tells them apart.
 */
export const AZURE_STATES = {
  'powerstate/running': 'running',
  'powerstate/starting': 'starting',
  'powerstate/stopping': 'stopping',
  'powerstate/stopped': 'stopped',
  'powerstate/deallocating': 'stopping',
  'powerstate/deallocated': 'stopped',
  'provisioningstate/creating': 'pending',
  'provisioningstate/deleting': 'terminated',
  'provisioningstate/failed': 'error',
  'provisioningstate/migrating': 'pending',
} satisfies Record<string, NodeState>;

/** Provisioning states that say more than the power state (they win over it). */
export const OVERRIDING = new Set([
  'provisioningstate/creating',
  'provisioningstate/deleting',
  'provisioningstate/failed',
]);
export const TAG_KEY_FORBIDDEN = /[<>%&\\?/]/;
export interface VmJson {
  id?: unknown;
  name?: unknown;
  location?: unknown;
  zones?: unknown;
  tags?: unknown;
  properties?: {
    vmId?: unknown;
    provisioningState?: unknown;
    timeCreated?: unknown;
    priority?: unknown;
    hardwareProfile?: { vmSize?: unknown };
    storageProfile?: {
      imageReference?: {
        publisher?: unknown;
        offer?: unknown;
        sku?: unknown;
        version?: unknown;
        id?: unknown;
      };
      osDisk?: { osType?: unknown };
    };
    instanceView?: { statuses?: unknown };
    networkProfile?: { networkInterfaces?: unknown };
  };
}

/** The state of a VM from its instance-view statuses (pure; exported for tests). */
export function azureState(
  statuses: unknown,
  provisioningState: unknown,
): { state: NodeState; rawState: string; powerState?: string } {
  const codes = (Array.isArray(statuses) ? statuses : [])
    .map((s) => (s as { code?: unknown })?.code)
    .filter((c): c is string => typeof c === 'string');
  const key = (code: string) => code.split('/').slice(0, 2).join('/').toLowerCase();
  const power = codes.find((c) => c.toLowerCase().startsWith('powerstate/'));
  const overriding = codes.find((c) => OVERRIDING.has(key(c)));
  const chosen =
    overriding ??
    power ??
    codes.find((c) => c.toLowerCase().startsWith('provisioningstate/')) ??
    (typeof provisioningState === 'string' ? `ProvisioningState/${provisioningState.toLowerCase()}` : '');
  return { state: lookupState(AZURE_STATES, key(chosen)), rawState: chosen, powerState: power };
}

export function checkTags(tags: Record<string, string>): Record<string, string> {
  if (Object.keys(tags).length > 50)
    throw new FleetwatchError('E_VALIDATION', 'tags: Azure allows at most 50 tags', { path: 'tags' });
  for (const [k, v] of Object.entries(tags)) {
    if (k.length === 0 || k.length > 512 || TAG_KEY_FORBIDDEN.test(k))
      throw validationError(`tags.${k}`, 'an Azure tag name (1–512 chars, none of < > % & \\ ? /)', k);
    if (v.length > 256) throw validationError(`tags.${k}`, 'a value of at most 256 characters', v);
  }
  return tags;
}

/** An Azure location (`/subscriptions/{s}/locations`). */
export function azureLocation(provider: string, value: unknown): NodeLocation {
  const raw = asObject(value, provider, 'location');
  const name = str(raw.name) ?? '';
  return {
    id: name,
    name: str(raw.displayName) ?? name,
    provider,
    region: name,
    extra: {
      ...pickExtra(raw, ['regionalDisplayName']),
      ...pickExtra((raw.metadata ?? {}) as Record<string, unknown>, [
        'geography',
        'geographyGroup',
        'regionType',
        'physicalLocation',
      ]),
    },
  };
}

/** A VM's {@link NodeFields} (pure): id `<resourceGroup>/<name>`, state from the instance view, image as URN or image name. */
export function azureNodeFields(raw: VmJson, addresses?: AzureAddresses): NodeFields {
  const props = raw.properties ?? {};
  const armId = str(raw.id) ?? '';
  const resourceGroup = /\/resourceGroups\/([^/]+)\//i.exec(armId)?.[1];
  const name = str(raw.name) ?? '';
  const { state, rawState, powerState } = azureState(props.instanceView?.statuses, props.provisioningState);
  const ref = props.storageProfile?.imageReference;
  const image = ref
    ? ref.publisher !== undefined
      ? [ref.publisher, ref.offer, ref.sku, ref.version].map((x) => str(x) ?? '').join(':')
      : str(ref.id)?.split('/').pop()
    : undefined;
  const tags = raw.tags && typeof raw.tags === 'object' ? (raw.tags as Record<string, unknown>) : {};
  const extra = pickExtra(
    {
      armId,
      resourceGroup,
      vmId: props.vmId,
      provisioningState: props.provisioningState,
      powerState,
      osType: props.storageProfile?.osDisk?.osType,
      priority: props.priority,
    },
    ['armId', 'resourceGroup', 'vmId', 'provisioningState', 'powerState', 'osType', 'priority'],
  );
  return {
    id: `${resourceGroup ?? ''}/${name}`,
    name,
    state,
    rawState,
    region: str(raw.location),
    zone: Array.isArray(raw.zones) ? str(raw.zones[0]) : undefined,
    // IPs live on network interfaces (see the `addresses` option).
    publicIps: [...(addresses?.publicIps ?? [])],
    privateIps: [...(addresses?.privateIps ?? [])],
    size: str(props.hardwareProfile?.vmSize),
    image,
    createdAt: parseDate(props.timeCreated),
    tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)])),
    extra,
  };
}
