import { FleetwatchError, validationError } from '../errors.js';
import { definedFields, isPrivateIp, lookupState, makeNode, parseDate, setOwn } from './kit/index.js';
import type { Node, NodeState } from './types.js';

/** Nova server `status` → {@link NodeState}. Anything else maps to `unknown`; `rawState` keeps it. */
export const OPENSTACK_STATES = {
  ACTIVE: 'running',
  BUILD: 'pending',
  REBUILD: 'pending',
  RESIZE: 'pending',
  VERIFY_RESIZE: 'running',
  REVERT_RESIZE: 'pending',
  MIGRATING: 'running',
  PASSWORD: 'running',
  REBOOT: 'rebooting',
  HARD_REBOOT: 'rebooting',
  SHUTOFF: 'stopped',
  STOPPED: 'stopped',
  SHELVED: 'stopped',
  SHELVED_OFFLOADED: 'stopped',
  PAUSED: 'suspended',
  SUSPENDED: 'suspended',
  /** Booted from a rescue image, not its own disk: it needs an operator. */
  RESCUE: 'error',
  ERROR: 'error',
  DELETED: 'terminated',
  SOFT_DELETED: 'terminated',
  UNKNOWN: 'unknown',
} as const satisfies Record<string, NodeState>;

/**
 * Nova `OS-EXT-STS:task_state` values that say more than the status (an ACTIVE server being powered
 * off is `stopping`). They take precedence over {@link OPENSTACK_STATES} when present.
 */
export const OPENSTACK_TASK_STATES = {
  'powering-off': 'stopping',
  'powering-on': 'starting',
  rebooting: 'rebooting',
  reboot_pending: 'rebooting',
  reboot_started: 'rebooting',
  rebooting_hard: 'rebooting',
  reboot_pending_hard: 'rebooting',
  reboot_started_hard: 'rebooting',
  deleting: 'stopping',
} as const satisfies Record<string, NodeState>;

/** Server fields copied into `Node.extra` (extra key ← Nova key). Nothing else goes there (never `adminPass`). */
export const EXTRA_FIELDS: ReadonlyArray<readonly [key: string, novaKey: string]> = [
  ['hostId', 'hostId'],
  ['keyName', 'key_name'],
  ['tenantId', 'tenant_id'],
  ['userId', 'user_id'],
  ['vmState', 'OS-EXT-STS:vm_state'],
  ['taskState', 'OS-EXT-STS:task_state'],
  ['powerState', 'OS-EXT-STS:power_state'],
  ['progress', 'progress'],
  ['updated', 'updated'],
  ['locked', 'locked'],
  ['diskConfig', 'OS-DCF:diskConfig'],
];

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Translate one Nova server object into a {@link Node}. */
export function openstackServerToNode(server: unknown, ctx: { provider: string; region?: string }): Node {
  // Legacy Nova (v1.1, older Rackspace) sends numeric ids.
  const rawId = isRecord(server) ? server.id : undefined;
  if (!isRecord(server) || !((typeof rawId === 'string' && rawId !== '') || Number.isInteger(rawId)))
    throw new FleetwatchError('E_MALFORMED_RESPONSE', 'OpenStack: server without an id', {
      provider: ctx.provider,
    });
  const id = String(rawId);
  const rawState = typeof server.status === 'string' ? server.status : '';
  const task = server['OS-EXT-STS:task_state'];
  const state =
    typeof task === 'string' && Object.hasOwn(OPENSTACK_TASK_STATES, task)
      ? lookupState(OPENSTACK_TASK_STATES, task)
      : lookupState(OPENSTACK_STATES, rawState.toUpperCase());
  const publicIps: string[] = [];
  const privateIps: string[] = [];
  const add = (list: string[], ip: string | undefined) => {
    if (ip !== undefined && !publicIps.includes(ip) && !privateIps.includes(ip)) list.push(ip);
  };
  add(publicIps, str(server.accessIPv4));
  add(publicIps, str(server.accessIPv6));
  if (isRecord(server.addresses)) {
    for (const list of Object.values(server.addresses)) {
      if (!Array.isArray(list)) continue;
      for (const a of list) {
        if (!isRecord(a)) continue;
        const ip = str(a.addr);
        if (ip === undefined) continue;
        const floating = a['OS-EXT-IPS:type'] === 'floating';
        add(floating || !isPrivateIp(ip) ? publicIps : privateIps, ip);
      }
    }
  }
  const tags: Record<string, string> = {};
  if (isRecord(server.metadata)) {
    for (const [k, v] of Object.entries(server.metadata))
      setOwn(tags, k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  const extra: Record<string, unknown> = {};
  for (const [key, novaKey] of EXTRA_FIELDS) {
    const v = server[novaKey];
    if (v !== undefined && v !== null && v !== '') extra[key] = v;
  }
  const flavor = isRecord(server.flavor) ? server.flavor : undefined;
  if (typeof flavor?.original_name === 'string') extra.flavorName = flavor.original_name;
  if (isRecord(server.fault) && typeof server.fault.message === 'string') extra.fault = server.fault.message;
  const size = str(flavor?.id) ?? str(flavor?.original_name);
  const image = isRecord(server.image) ? str(server.image.id) : undefined;
  const zone = str(server['OS-EXT-AZ:availability_zone']);
  const createdAt = parseDate(str(server.created));
  return makeNode(
    { id: ctx.provider, kind: 'openstack' },
    {
      id,
      name: typeof server.name === 'string' ? server.name : '',
      state,
      rawState,
      publicIps,
      privateIps,
      tags,
      extra,
      ...definedFields({ region: ctx.region || undefined, zone, size, image, createdAt }),
    },
  );
}

/** The `marker` of a Nova `servers_links` `rel: next` link, or the link itself when it has none. */
export function novaNextCursor(body: Record<string, unknown>): string | undefined {
  const links = body.servers_links;
  if (!Array.isArray(links)) return undefined;
  const next = links.find((l) => isRecord(l) && l.rel === 'next' && typeof l.href === 'string') as
    | { href: string }
    | undefined;
  if (next === undefined) return undefined;
  const marker = /[?&]marker=([^&#]*)/.exec(next.href)?.[1];
  return marker === undefined ? next.href : decodeURIComponent(marker);
}

export function checkTags(tags: unknown, path: string): Record<string, string> {
  if (!isRecord(tags)) throw validationError(path, 'an object of strings', tags);
  for (const [k, v] of Object.entries(tags)) {
    if (k === '' || k.length > 255) throw validationError(`${path}.${k}`, 'a key of 1-255 characters', k);
    if (typeof v !== 'string' || v.length > 255)
      throw validationError(`${path}.${k}`, 'a string of at most 255 characters', v);
  }
  return tags as Record<string, string>;
}
