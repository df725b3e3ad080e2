/**
 * DigitalOcean's catalogue and actions: the `links.pages.next` pager every list shares, the image,
 * size, region and SSH-key translations, and droplet actions polled at `/v2/actions/{id}`.
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
 * The pager of every DigitalOcean list: `page`/`per_page`, then the `links.pages.next` URL (same
 * origin only). `key` is the array's name in the body (`droplets`, `images`, `sizes`…).
 */
export function doPager(
  http: ProviderHttpClient,
  path: string,
  key: string,
  perPage: number,
  params: Record<string, string | undefined> = {},
): FetchPage<unknown> {
  return async (cursor, { signal }) => {
    const body = asObject(
      await http.json(
        cursor
          ? { url: cursor, signal }
          : { url: path, searchParams: { ...params, page: 1, per_page: perPage }, signal },
      ),
      http.provider,
      `${key} list`,
    );
    const next = str((body.links as { pages?: { next?: unknown } } | undefined)?.pages?.next);
    return { items: asArray(body[key], http.provider, key), next: next ? http.resolveLink(next) : undefined };
  };
}

/** A DigitalOcean image: `id` is the slug for public images, the number for snapshots and custom images. */
export function doImage(provider: string, value: unknown): NodeImage {
  const raw = asObject(value, provider, 'image');
  const slug = str(raw.slug);
  const distribution = str(raw.distribution);
  return {
    id: slug || (str(raw.id) ?? ''),
    name: str(raw.name) ?? '',
    provider,
    ...(distribution ? { os: distribution.toLowerCase() } : {}),
    ...(typeof raw.public === 'boolean' ? { public: raw.public } : {}),
    ...(parseDate(raw.created_at) ? { createdAt: parseDate(raw.created_at) } : {}),
    extra: pickExtra(raw, [
      'id',
      'slug',
      'type',
      'regions',
      'min_disk_size',
      'size_gigabytes',
      'status',
      'tags',
    ]),
  };
}

/** A DigitalOcean size; `price` is `price_hourly` in USD (`price_monthly` stays in `extra`). */
export function doSize(provider: string, value: unknown): NodeSize {
  const raw = asObject(value, provider, 'size');
  const hourly = typeof raw.price_hourly === 'number' ? raw.price_hourly : undefined;
  return {
    id: str(raw.slug) ?? '',
    name: str(raw.description) || (str(raw.slug) ?? ''),
    provider,
    cpus: typeof raw.vcpus === 'number' ? raw.vcpus : 0,
    memory: typeof raw.memory === 'number' ? raw.memory : 0,
    ...(typeof raw.disk === 'number' ? { disk: raw.disk } : {}),
    ...(hourly === undefined ? {} : { price: { amount: hourly, currency: 'USD', period: 'hour' as const } }),
    extra: pickExtra(raw, ['price_monthly', 'transfer', 'regions', 'available']),
  };
}

/** A DigitalOcean region. */
export function doLocation(provider: string, value: unknown): NodeLocation {
  const raw = asObject(value, provider, 'region');
  const slug = str(raw.slug) ?? '';
  return {
    id: slug,
    name: str(raw.name) ?? slug,
    provider,
    region: slug,
    extra: pickExtra(raw, ['available', 'features', 'sizes']),
  };
}

/** A DigitalOcean SSH key (`name` is its name; `id` the number `ssh_keys` and DELETE take). */
export function doKeyPair(provider: string, value: unknown): KeyPair {
  const raw = asObject(value, provider, 'ssh key');
  return {
    name: str(raw.name) ?? '',
    provider,
    ...(str(raw.id) ? { id: str(raw.id) } : {}),
    ...(str(raw.fingerprint) ? { fingerprint: str(raw.fingerprint) } : {}),
    ...(str(raw.public_key) ? { publicKey: str(raw.public_key) } : {}),
    extra: {},
  };
}

/** The id of the action in a `{ action: { id } }` answer. */
export function doActionId(provider: string, body: unknown): string {
  const id = str((asObject(body, provider, 'action response').action as { id?: unknown } | undefined)?.id);
  if (!id)
    throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: the action response has no action id`, {
      provider,
    });
  return id;
}

/**
 * One poll of a droplet action: `completed` is done, `in-progress` is not, `errored` rejects with
 * `E_PROVIDER` (DigitalOcean gives no message beyond the status).
 */
export async function pollDoAction(
  http: ProviderHttpClient,
  actionId: string,
  signal: AbortSignal | undefined,
): Promise<PollResult<void>> {
  const body = asObject(
    await http.json({ url: `actions/${encodeURIComponent(actionId)}`, signal }),
    http.provider,
    'action',
  );
  const action = asObject(body.action, http.provider, 'action');
  const status = str(action.status);
  if (status === 'completed') return { done: true, value: undefined };
  if (status === 'errored')
    throw new FleetwatchError(
      'E_PROVIDER',
      `${http.provider}: action ${actionId} (${str(action.type) ?? 'action'}) errored on droplet ${str(action.resource_id) ?? '?'}`,
      {
        provider: http.provider,
        providerCode: 'errored',
        details: { action: actionId, type: str(action.type) },
      },
    );
  return { done: false };
}
