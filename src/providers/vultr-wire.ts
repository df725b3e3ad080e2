/**
 * Vultr's wire shapes beside the adapter: the instance state (three fields folded into one word),
 * its cursor page envelope, its error body and the translations of an instance, OS, snapshot,
 * plan, region and SSH key.
 */
import {
  asArray,
  asObject,
  type FetchPage,
  isPrivateIp,
  lookupState,
  type NodeFields,
  type PagedListRequest,
  type ProviderErrorInfo,
  type ProviderHttpClient,
  type ProviderResponse,
  parseCommonErrorBody,
  parseDate,
  parseErrorJson,
  parseStringTags,
  pickExtra,
  str,
} from './kit/index.js';
import type { KeyPair, NodeImage, NodeLocation, NodeSize, NodeState } from './types.js';

/**
 * Vultr instance state → NodeState. Vultr reports `status` (`pending`, `active`, `suspended`,
 * `resizing`), `power_status` (`running`, `stopped`) and `server_status` (`none`, `locked`,
 * `installingbooting`, `ok`); the key (and the node's `rawState`) is `status`, then for an active
 * instance `/power_status`, then for a running one `/server_status`.
 */
export const VULTR_STATES = {
  pending: 'pending',
  suspended: 'suspended',
  resizing: 'pending',
  'active/stopped': 'stopped',
  'active/running/ok': 'running',
  'active/running/installingbooting': 'starting',
  'active/running/none': 'starting',
  'active/running/locked': 'pending',
} satisfies Record<string, NodeState>;

const EXTRA_KEYS = [
  'os',
  'os_id',
  'app_id',
  'ram',
  'disk',
  'vcpu_count',
  'status',
  'power_status',
  'server_status',
  'allowed_bandwidth',
  'hostname',
  'features',
  'firewall_group_id',
  'v6_network',
  'v6_network_size',
  'vpc_only',
];

/** The folded state word of an instance (see {@link VULTR_STATES}). */
export function vultrRawState(raw: Record<string, unknown>): string {
  const status = str(raw.status) ?? '';
  if (status !== 'active') return status;
  const power = str(raw.power_status) ?? '';
  return power === 'running' ? `active/running/${str(raw.server_status) ?? ''}` : `active/${power}`;
}

const usable = (ip: string | undefined): ip is string =>
  ip !== undefined && ip !== '' && ip !== '0.0.0.0' && ip !== '::';

/**
 * An instance's {@link NodeFields}. `default_password` (present for a while after a create) and
 * `kvm` (a console URL with an access token) are never copied.
 */
export function vultrNodeFields(provider: string, value: unknown): NodeFields {
  const raw = asObject(value, provider, 'instance');
  const rawState = vultrRawState(raw);
  const main = str(raw.main_ip);
  const v6 = str(raw.v6_main_ip);
  const internal = str(raw.internal_ip);
  const snapshot = str(raw.snapshot_id);
  const appImage = str(raw.image_id);
  return {
    id: str(raw.id) ?? '',
    name: str(raw.label) ?? '',
    state: lookupState(VULTR_STATES, rawState),
    rawState,
    region: str(raw.region),
    publicIps: [main, v6].filter(usable).filter((ip) => !isPrivateIp(ip)),
    privateIps: [internal, main].filter(usable).filter(isPrivateIp),
    size: str(raw.plan),
    image: snapshot || appImage || str(raw.os_id),
    createdAt: parseDate(raw.date_created),
    tags: parseStringTags(raw.tags),
    extra: pickExtra(raw, EXTRA_KEYS),
  };
}

/** Vultr's error body, `{ "error": "…", "status": 400 }`: the message is in `error`. */
export function parseVultrError(res: ProviderResponse): ProviderErrorInfo | undefined {
  const b = parseErrorJson(res.body);
  if (b && typeof b.error === 'string') return { message: b.error };
  return parseCommonErrorBody(res);
}

/**
 * The pager of every Vultr listing: `per_page` and the `cursor`; `key` holds the items,
 * `meta.links.next` the next cursor (`""` at the end).
 */
export function vultrPager(http: ProviderHttpClient, req: PagedListRequest): FetchPage<unknown> {
  const { url, key, perPage, params } = req;
  return async (cursor, { signal }) => {
    const body = asObject(
      await http.json({ url, searchParams: { ...params, per_page: perPage, cursor }, signal }),
      http.provider,
      `${key} list`,
    );
    const next = str((body.meta as { links?: { next?: unknown } } | undefined)?.links?.next);
    return { items: asArray(body[key], http.provider, key), next: next || undefined };
  };
}

/** An operating system image (public): `id` is Vultr's integer `os_id`, as a string. */
export function toVultrOs(provider: string, value: unknown): NodeImage {
  const raw = asObject(value, provider, 'os');
  return {
    id: str(raw.id) ?? '',
    name: str(raw.name) ?? '',
    provider,
    os: str(raw.family),
    public: true,
    extra: pickExtra(raw, ['arch', 'family']),
  };
}

/** A snapshot (the account's own image): `id` is its UUID. */
export function toVultrSnapshot(provider: string, value: unknown): NodeImage {
  const raw = asObject(value, provider, 'snapshot');
  return {
    id: str(raw.id) ?? '',
    name: str(raw.description) ?? '',
    provider,
    public: false,
    createdAt: parseDate(raw.date_created),
    extra: pickExtra(raw, ['size', 'compressed_size', 'status', 'os_id', 'app_id']),
  };
}

/** A plan: `monthly_cost` is USD per month (`hourly_cost`, when sent, stays in `extra`). */
export function toVultrSize(provider: string, value: unknown): NodeSize {
  const raw = asObject(value, provider, 'plan');
  const id = str(raw.id) ?? '';
  const monthly = typeof raw.monthly_cost === 'number' ? raw.monthly_cost : Number(raw.monthly_cost);
  return {
    id,
    name: id,
    provider,
    cpus: typeof raw.vcpu_count === 'number' ? raw.vcpu_count : 0,
    memory: typeof raw.ram === 'number' ? raw.ram : 0,
    disk: typeof raw.disk === 'number' ? raw.disk : undefined,
    price:
      Number.isFinite(monthly) && monthly >= 0 && raw.monthly_cost !== undefined && raw.monthly_cost !== null
        ? { amount: monthly, currency: 'USD', period: 'month' }
        : undefined,
    extra: pickExtra(raw, ['type', 'bandwidth', 'disk_count', 'hourly_cost', 'locations', 'gpu_type']),
  };
}

/** A region (`ewr`, `fra`…): the `location` createNode takes. */
export function toVultrLocation(provider: string, value: unknown): NodeLocation {
  const raw = asObject(value, provider, 'region');
  const id = str(raw.id) ?? '';
  return {
    id,
    name: str(raw.city) ?? id,
    provider,
    region: id,
    country: str(raw.country),
    extra: pickExtra(raw, ['continent', 'options']),
  };
}

/** An SSH key (Vultr gives no fingerprint). */
export function toVultrKeyPair(provider: string, value: unknown): KeyPair {
  const raw = asObject(value, provider, 'ssh key');
  return {
    name: str(raw.name) ?? '',
    provider,
    id: str(raw.id),
    publicKey: str(raw.ssh_key),
    extra: pickExtra(raw, ['date_created']),
  };
}
