/**
 * Linode's catalogue and events: the `page`/`pages` pager every list shares (with an `X-Filter`),
 * the image, type, region and SSH-key translations, and a Linode's newest event of an action,
 * polled until `finished` or `failed`.
 */
import { FleetwatchError } from '../errors.js';
import {
  asArray,
  asObject,
  type FetchPage,
  type KeyPair,
  type NodeImage,
  type NodeLocation,
  type NodeSize,
  type PollResult,
  type ProviderHttpClient,
  parseDate,
  pickExtra,
  str,
} from './kit/index.js';

/**
 * The pager of every Linode list: `page`/`page_size` until `pages`; a page other than the one asked
 * for is `E_PROVIDER` (`PAGE_MISMATCH`). `filter` is sent as the `X-Filter` header.
 */
export function linodePager(
  http: ProviderHttpClient,
  path: string,
  pageSize: number,
  filter?: Record<string, unknown>,
): FetchPage<unknown> {
  return async (cursor, { signal }) => {
    const page = cursor === undefined ? 1 : Number(cursor);
    const body = asObject(
      await http.json({
        url: path,
        searchParams: { page, page_size: pageSize },
        ...(filter ? { headers: { 'x-filter': JSON.stringify(filter) } } : {}),
        signal,
      }),
      http.provider,
      `${path} list`,
    );
    if (body.page !== undefined && body.page !== page)
      throw new FleetwatchError(
        'E_PROVIDER',
        `${http.provider}: asked for page ${page}, got page ${String(body.page)}`,
        {
          provider: http.provider,
          providerCode: 'PAGE_MISMATCH',
        },
      );
    const pages = typeof body.pages === 'number' ? body.pages : 1;
    return {
      items: asArray(body.data, http.provider, 'data'),
      next: page < pages ? String(page + 1) : undefined,
    };
  };
}

/** Linode timestamps are UTC without a zone suffix. */
export function linodeDate(value: unknown): Date | undefined {
  return parseDate(typeof value === 'string' && !/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? `${value}Z` : value);
}

/** A Linode image (`linode/debian12`, `private/123`). */
export function linodeImage(provider: string, value: unknown): NodeImage {
  const raw = asObject(value, provider, 'image');
  const vendor = str(raw.vendor);
  const created = linodeDate(raw.created);
  return {
    id: str(raw.id) ?? '',
    name: str(raw.label) ?? '',
    provider,
    ...(vendor ? { os: vendor.toLowerCase() } : {}),
    ...(typeof raw.is_public === 'boolean' ? { public: raw.is_public } : {}),
    ...(created ? { createdAt: created } : {}),
    extra: pickExtra(raw, ['type', 'size', 'deprecated', 'eol', 'description', 'created_by', 'status']),
  };
}

/** A Linode type: `disk` comes in MB and is given in GB; `price.hourly` in USD. */
export function linodeSize(provider: string, value: unknown): NodeSize {
  const raw = asObject(value, provider, 'type');
  const price = raw.price as { hourly?: unknown; monthly?: unknown } | undefined;
  return {
    id: str(raw.id) ?? '',
    name: str(raw.label) ?? '',
    provider,
    cpus: typeof raw.vcpus === 'number' ? raw.vcpus : 0,
    memory: typeof raw.memory === 'number' ? raw.memory : 0,
    ...(typeof raw.disk === 'number' ? { disk: raw.disk / 1024 } : {}),
    ...(typeof price?.hourly === 'number'
      ? { price: { amount: price.hourly, currency: 'USD', period: 'hour' as const } }
      : {}),
    extra: {
      ...pickExtra(raw, ['class', 'transfer', 'network_out', 'gpus', 'successor', 'region_prices']),
      ...(typeof price?.monthly === 'number' ? { priceMonthly: price.monthly } : {}),
    },
  };
}

/** A Linode region. */
export function linodeLocation(provider: string, value: unknown): NodeLocation {
  const raw = asObject(value, provider, 'region');
  const id = str(raw.id) ?? '';
  const country = str(raw.country);
  return {
    id,
    name: str(raw.label) ?? id,
    provider,
    region: id,
    ...(country ? { country: country.toUpperCase() } : {}),
    extra: pickExtra(raw, ['capabilities', 'status']),
  };
}

/** A Linode profile SSH key (`name` is its label, `id` the number DELETE takes). */
export function linodeKeyPair(provider: string, value: unknown): KeyPair {
  const raw = asObject(value, provider, 'ssh key');
  return {
    name: str(raw.label) ?? '',
    provider,
    ...(str(raw.id) ? { id: str(raw.id) } : {}),
    ...(str(raw.ssh_key) ? { publicKey: str(raw.ssh_key) } : {}),
    extra: pickExtra(raw, ['created']),
  };
}

/**
 * One poll of the newest `action` event of Linode `entityId` (`/v4/account/events`, newest first):
 * `finished` is done, `failed` rejects with `E_PROVIDER` carrying the event's message, and
 * `scheduled`/`started` (or no event yet) are not done.
 */
export async function pollLinodeEvent(
  http: ProviderHttpClient,
  entityId: string,
  action: string,
  signal: AbortSignal | undefined,
): Promise<PollResult<void>> {
  const filter = {
    'entity.id': Number(entityId),
    'entity.type': 'linode',
    action,
    '+order_by': 'created',
    '+order': 'desc',
  };
  const body = asObject(
    await http.json({
      url: 'account/events',
      searchParams: { page: 1, page_size: 25 },
      headers: { 'x-filter': JSON.stringify(filter) },
      signal,
    }),
    http.provider,
    'event list',
  );
  const event = asArray(body.data, http.provider, 'data')[0] as Record<string, unknown> | undefined;
  const status = str(event?.status);
  if (status === 'finished') return { done: true, value: undefined };
  if (status === 'failed')
    throw new FleetwatchError(
      'E_PROVIDER',
      `${http.provider}: ${action} of Linode ${entityId} failed${str(event?.message) ? `: ${str(event?.message)}` : ''}`,
      { provider: http.provider, providerCode: 'failed', details: { event: str(event?.id), action } },
    );
  return { done: false };
}
