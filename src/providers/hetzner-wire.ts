/**
 * Hetzner Cloud's wire shapes beside the adapter: its label rules, its page envelope, its actions
 * (`/v1/actions/{id}`: `running` | `success` | `error`) as Operations, and the translations of a
 * server, image, server type, location and SSH key.
 */
import { FleetwatchError, validationError } from '../errors.js';
import {
  type AdapterPollSpec,
  asArray,
  asObject,
  type FetchPage,
  isPrivateIp,
  lookupState,
  type NodeFields,
  type PagedListRequest,
  type PollResult,
  type ProviderHttpClient,
  parseDate,
  pickExtra,
  setOwn,
  str,
} from './kit/index.js';
import type { KeyPair, NodeImage, NodeLocation, NodeSize, NodeState } from './types.js';

/** A label key: an optional DNS-style prefix and `/`, then a name of up to 63 characters (hcloud-go's rule). */
const LABEL_KEY =
  /^([a-zA-Z0-9]((?:[-_.]|[a-zA-Z0-9]){0,253}[a-zA-Z0-9])?\/)?[a-zA-Z0-9]((?:[-_.]|[a-zA-Z0-9]){0,61}[a-zA-Z0-9])?$/;
/** A label value: empty, or up to 63 characters starting and ending with a letter or digit. */
const LABEL_VALUE = /^(([a-zA-Z0-9](?:[-_.]|[a-zA-Z0-9]){0,61})?[a-zA-Z0-9])?$/;

/**
 * Check labels against Hetzner's rules, before anything is sent: `E_VALIDATION` naming the label
 * (`tags.<key>`) and what Hetzner accepts.
 */
export function checkHetznerLabels(labels: Record<string, string>, path = 'tags'): Record<string, string> {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    throw validationError(path, 'an object', labels);
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL_KEY.test(key))
      throw validationError(
        `${path}.${key}`,
        'a Hetzner label key: [prefix/]name, name up to 63 letters, digits, - _ . starting and ending alphanumeric',
        key,
      );
    if (typeof value !== 'string' || !LABEL_VALUE.test(value))
      throw validationError(
        `${path}.${key}`,
        'a Hetzner label value: empty, or up to 63 letters, digits, - _ . starting and ending alphanumeric',
        value,
      );
  }
  return labels;
}

/** Labels as a record of own string properties (`__proto__` included). */
export function readLabels(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') setOwn(out, k, v);
  return out;
}

/**
 * The pager of every Hetzner listing: `page`/`per_page`; `key` holds the items,
 * `meta.pagination.next_page` the next page number (`null` on the last), which is the cursor.
 */
export function hetznerPager(http: ProviderHttpClient, req: PagedListRequest): FetchPage<unknown> {
  const { url, key, perPage, params } = req;
  return async (cursor, { signal }) => {
    const page = cursor === undefined ? 1 : Number(cursor);
    const body = asObject(
      await http.json({ url, searchParams: { ...params, page, per_page: perPage }, signal }),
      http.provider,
      `${key} list`,
    );
    const pagination = (body.meta as { pagination?: { next_page?: unknown } } | undefined)?.pagination;
    const next = pagination?.next_page;
    return {
      items: asArray(body[key], http.provider, key),
      // A next page at or before this one is passed on: the kit's loop guard refuses it.
      next: typeof next === 'number' && next > 0 ? String(next) : undefined,
    };
  };
}

/**
 * How to poll a Hetzner action (for the adapter's `pollOperation`): `GET /actions/{id}` (first
 * after 1 s, hcloud-python's interval) until `success`; `error` rejects with `E_PROVIDER` carrying
 * the action's error code and message.
 */
export function actionPoll(
  http: ProviderHttpClient,
  provider: string,
  rawAction: unknown,
  label: string,
): AdapterPollSpec<void> {
  const action = asObject(rawAction, provider, 'action');
  const id = str(action.id);
  if (id === undefined)
    throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: action without an id`, { provider });
  return {
    id,
    action: label,
    intervalMs: 1_000,
    poll: async (signal): Promise<PollResult<void>> => {
      const body = asObject(
        await http.json({ url: `actions/${encodeURIComponent(id)}`, signal }),
        provider,
        'action response',
      );
      const current = asObject(body.action, provider, 'action');
      const status = str(current.status);
      if (status === 'success') return { done: true, value: undefined };
      if (status === 'error') throw actionError(provider, id, label, current.error);
      return { done: false };
    },
  };
}

function actionError(provider: string, id: string, label: string, raw: unknown): FleetwatchError {
  const e = (typeof raw === 'object' && raw !== null ? raw : {}) as { code?: unknown; message?: unknown };
  const code = str(e.code) ?? 'action_failed';
  const message = str(e.message) ?? 'the action failed';
  return new FleetwatchError(
    'E_PROVIDER',
    `${provider}: ${label} (action ${id}) failed: ${code}: ${message}`,
    {
      provider,
      providerCode: code,
      details: { operation: id, action: label, message },
    },
  );
}

const IMAGE_EXTRA = [
  'type',
  'status',
  'description',
  'os_version',
  'architecture',
  'disk_size',
  'image_size',
  'rapid_deploy',
  'bound_to',
  'created_from',
  'deprecated',
  'labels',
];

/** A Hetzner image: `id` is the numeric id (createNode takes it; system images also go by name). */
export function toHetznerImage(provider: string, value: unknown): NodeImage {
  const raw = asObject(value, provider, 'image');
  const type = str(raw.type);
  return {
    id: str(raw.id) ?? '',
    name: str(raw.name) ?? str(raw.description) ?? '',
    provider,
    os: str(raw.os_flavor),
    public: type === 'system' || type === 'app',
    createdAt: parseDate(raw.created),
    extra: pickExtra(raw, IMAGE_EXTRA),
  };
}

/**
 * A server type. Hetzner prices each location separately, as decimal strings, net and gross (with
 * the account's VAT): `price` is the lowest **net** hourly price of any location, in EUR; every
 * location's prices stay in `extra.prices` as Hetzner sent them.
 */
export function toHetznerSize(provider: string, value: unknown): NodeSize {
  const raw = asObject(value, provider, 'server type');
  const memoryGb = typeof raw.memory === 'number' ? raw.memory : 0;
  return {
    id: str(raw.name) ?? '',
    name: str(raw.description) ?? str(raw.name) ?? '',
    provider,
    cpus: typeof raw.cores === 'number' ? raw.cores : 0,
    memory: Math.round(memoryGb * 1024),
    disk: typeof raw.disk === 'number' ? raw.disk : undefined,
    price: lowestNetHourly(raw.prices),
    extra: {
      ...pickExtra(raw, ['cpu_type', 'architecture', 'storage_type', 'category', 'deprecated', 'prices']),
      hetznerId: raw.id,
    },
  };
}

function lowestNetHourly(prices: unknown): NodeSize['price'] {
  if (!Array.isArray(prices)) return undefined;
  let best: number | undefined;
  for (const p of prices) {
    const net = Number((p as { price_hourly?: { net?: unknown } } | null)?.price_hourly?.net);
    if (Number.isFinite(net) && net >= 0 && (best === undefined || net < best)) best = net;
  }
  return best === undefined ? undefined : { amount: best, currency: 'EUR', period: 'hour' };
}

/** A location (`fsn1`, `ash`…): the `location` createNode takes. */
export function toHetznerLocation(provider: string, value: unknown): NodeLocation {
  const raw = asObject(value, provider, 'location');
  const name = str(raw.name) ?? '';
  return {
    id: name,
    name: str(raw.description) ?? name,
    provider,
    region: name,
    country: str(raw.country),
    extra: pickExtra(raw, ['id', 'city', 'latitude', 'longitude', 'network_zone']),
  };
}

/** An SSH key. */
export function toHetznerKeyPair(provider: string, value: unknown): KeyPair {
  const raw = asObject(value, provider, 'ssh key');
  return {
    name: str(raw.name) ?? '',
    provider,
    id: str(raw.id),
    fingerprint: str(raw.fingerprint),
    publicKey: str(raw.public_key),
    extra: pickExtra(raw, ['labels', 'created']),
  };
}

/** Hetzner server status → NodeState. */
export const HETZNER_STATES = {
  running: 'running',
  initializing: 'pending',
  starting: 'starting',
  stopping: 'stopping',
  off: 'stopped',
  deleting: 'stopping',
  migrating: 'pending',
  rebuilding: 'pending',
} satisfies Record<string, NodeState>;

const EXTRA_KEYS = [
  'locked',
  'protection',
  'rescue_enabled',
  'backup_window',
  'primary_disk_size',
  'included_traffic',
  'outgoing_traffic',
  'ingoing_traffic',
  'placement_group',
  'volumes',
  'load_balancers',
];

/** A server's {@link NodeFields} (the adapter adds uid, provider and kind). */
export function hetznerNodeFields(provider: string, value: unknown): NodeFields {
  const raw = asObject(value, provider, 'server');
  const status = str(raw.status) ?? '';
  const pub = (raw.public_net ?? {}) as { ipv4?: { ip?: unknown } | null; ipv6?: { ip?: unknown } | null };
  const ipv4 = str(pub.ipv4?.ip);
  const privateNet = Array.isArray(raw.private_net)
    ? (raw.private_net as Array<Record<string, unknown>>)
    : [];
  const privateIps = privateNet
    .flatMap((n) => [n?.ip, ...(Array.isArray(n?.alias_ips) ? n.alias_ips : [])])
    .filter((ip): ip is string => typeof ip === 'string' && ip !== '');
  const datacenter = (raw.datacenter ?? {}) as { name?: unknown; location?: { name?: unknown } };
  const location = (raw.location ?? datacenter.location ?? {}) as { name?: unknown };
  const image = (raw.image ?? {}) as { name?: unknown; id?: unknown };
  const ipv6 = str(pub.ipv6?.ip);
  return {
    id: str(raw.id) ?? '',
    name: str(raw.name) ?? '',
    state: lookupState(HETZNER_STATES, status),
    rawState: status,
    region: str(location.name),
    zone: str(datacenter.name),
    publicIps: ipv4 && !isPrivateIp(ipv4) ? [ipv4] : [],
    privateIps: ipv4 && isPrivateIp(ipv4) ? [ipv4, ...privateIps] : privateIps,
    size: str((raw.server_type as { name?: unknown } | undefined)?.name),
    image: str(image.name) ?? str(image.id),
    createdAt: parseDate(raw.created),
    tags: readLabels(raw.labels),
    // The IPv6 is a /64 network (the server usually takes its ::1); kept as Hetzner gives it.
    extra: { ...pickExtra(raw, EXTRA_KEYS), ...(ipv6 ? { ipv6Network: ipv6 } : {}) },
  };
}
