import type { AbortOptions } from '../core.js';
import { FleetwatchError, isFleetwatchError } from '../errors.js';
import type { CatalogCalls } from './kit/catalog-provider.js';
import {
  definedFields,
  imagesOptionsArg,
  importedKeyPair,
  itemsFromPages,
  type KeyPair,
  keyPairInputArg,
  keyPairNameArg,
  type ListCatalogOptions,
  type ListImagesOptions,
  type NodeImage,
  type NodeLocation,
  type NodeSize,
  onePageItems,
  parseDate,
  pickExtra,
  signalOf,
  str,
} from './kit/index.js';
import type { OpenStackClient } from './openstack-client.js';
import { isRecord } from './openstack-nodes.js';

/** `limit` of each Glance and flavor page. */
export const OPENSTACK_CATALOG_PAGE = 200;
/** Nova key pair names: up to 255 characters. */
const KEY_NAME_MAX = 255;

/** Glance `visibility` for each {@link ListImagesOptions.owner}; `all` sends none (Glance's default listing). */
const VISIBILITY = { self: 'private', public: 'public', all: undefined } as const;

function malformed(provider: string, what: string): FleetwatchError {
  return new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: ${what}`, { provider });
}

/** One Glance v2 image as a {@link NodeImage}. */
export function openstackImage(raw: unknown, provider: string): NodeImage | undefined {
  if (!isRecord(raw)) return undefined;
  const id = str(raw.id);
  if (id === undefined) return undefined;
  const os = str(raw.os_distro) ?? str(raw.os_type);
  const createdAt = parseDate(raw.created_at);
  return {
    id,
    name: str(raw.name) ?? id,
    provider,
    ...definedFields({ os, createdAt }),
    public: raw.visibility === 'public',
    extra: pickExtra(raw, [
      'status',
      'visibility',
      'owner',
      'min_disk',
      'min_ram',
      'disk_format',
      'size',
      'os_type',
    ]),
  };
}

/** One Nova flavor as a {@link NodeSize} (`ram` MiB, `disk` GB; Nova has no price). */
export function openstackFlavor(raw: unknown, provider: string): NodeSize | undefined {
  if (!isRecord(raw)) return undefined;
  const id = str(raw.id);
  const cpus = Number(raw.vcpus);
  const memory = Number(raw.ram);
  if (id === undefined || !(cpus > 0) || !(memory > 0)) return undefined;
  const disk = Number(raw.disk);
  const extra = pickExtra(raw, [
    'swap',
    'rxtx_factor',
    'OS-FLV-EXT-DATA:ephemeral',
    'os-flavor-access:is_public',
  ]);
  return { id, name: str(raw.name) ?? id, provider, cpus, memory, ...(disk > 0 ? { disk } : {}), extra };
}

/** One `os-keypairs` entry (`{ keypair: {...} }` or the bare object) as a {@link KeyPair}. */
export function openstackKeyPair(raw: unknown, provider: string): KeyPair | undefined {
  const kp = isRecord(raw) && isRecord(raw.keypair) ? raw.keypair : raw;
  if (!isRecord(kp)) return undefined;
  const name = str(kp.name);
  if (name === undefined) return undefined;
  return {
    name,
    provider,
    ...definedFields({ fingerprint: str(kp.fingerprint), publicKey: str(kp.public_key) }),
    extra: pickExtra(kp, ['type', 'created_at', 'user_id']),
  };
}

/** The next-page cursor of a `*_links` list: its `rel: next` href. */
function nextLink(links: unknown): string | undefined {
  if (!Array.isArray(links)) return undefined;
  const next = links.find((l) => isRecord(l) && l.rel === 'next' && typeof l.href === 'string');
  return isRecord(next) ? (next.href as string) : undefined;
}

/**
 * Glance v2 `GET /v2/images?limit=&visibility=` and each `next` link to the end. `owner` `self` →
 * `visibility=private`, `public` → `public`, `all` → none; `filters` are Glance query parameters.
 */
export async function* openstackListImages(
  client: OpenStackClient,
  opts?: ListImagesOptions,
): AsyncGenerator<NodeImage, void, undefined> {
  const o = imagesOptionsArg(opts);
  const provider = client.provider;
  const { client: glance } = await client.service('image', client.homeRegion, o);
  const base = glance.baseUrl.replace(/\/v2\/?$/, '/');
  const visibility = VISIBILITY[o.owner];
  yield* itemsFromPages<unknown, NodeImage>(
    async (cursor, ctx) => {
      // Glance's `next` is relative to its endpoint root (`/v2/images?marker=…`).
      const url =
        cursor === undefined
          ? undefined
          : glance.resolveLink(new URL(cursor.replace(/^\//, ''), base).toString());
      const body = await glance.json<unknown>({
        url: url ?? new URL('v2/images', base).toString(),
        ...(url === undefined
          ? {
              searchParams: {
                ...o.filters,
                limit: OPENSTACK_CATALOG_PAGE,
                ...(visibility ? { visibility } : {}),
              },
            }
          : {}),
        ...signalOf(ctx),
      });
      if (!isRecord(body) || !Array.isArray(body.images))
        throw malformed(provider, 'images has no images array');
      return { items: body.images, next: str(body.next) };
    },
    (raw) => openstackImage(raw, provider),
    { ...o, provider },
  );
}

/** Nova `GET /flavors/detail` with `limit`/`marker`, following `flavors_links`. */
export async function* openstackListSizes(
  client: OpenStackClient,
  opts: ListCatalogOptions = {},
): AsyncGenerator<NodeSize, void, undefined> {
  const provider = client.provider;
  const { client: nova } = await client.service('compute', client.homeRegion, opts);
  yield* itemsFromPages<unknown, NodeSize>(
    async (cursor, ctx) => {
      const body = await nova.json<unknown>({
        url:
          cursor === undefined
            ? 'flavors/detail'
            : nova.resolveLink(new URL(cursor, nova.baseUrl).toString()),
        ...(cursor === undefined ? { searchParams: { limit: OPENSTACK_CATALOG_PAGE } } : {}),
        ...signalOf(ctx),
      });
      if (!isRecord(body) || !Array.isArray(body.flavors))
        throw malformed(provider, 'flavors/detail has no flavors array');
      return { items: body.flavors, next: nextLink(body.flavors_links) };
    },
    (raw) => openstackFlavor(raw, provider),
    { ...opts, provider },
  );
}

/** Nova `GET /os-availability-zone` of each region: one location per zone (`id` = zone name). */
export async function* openstackListLocations(
  client: OpenStackClient,
  opts: ListCatalogOptions = {},
): AsyncGenerator<NodeLocation, void, undefined> {
  let page = 0;
  for (const region of await client.regions(opts)) {
    const { client: nova, region: actual } = await client.service('compute', region, opts);
    const body = await nova.json<unknown>({ url: 'os-availability-zone', ...signalOf(opts) });
    if (!isRecord(body) || !Array.isArray(body.availabilityZoneInfo))
      throw malformed(client.provider, 'os-availability-zone has no availabilityZoneInfo');
    opts.onPage?.({ page: ++page, items: body.availabilityZoneInfo.length });
    for (const z of body.availabilityZoneInfo) {
      const zone = isRecord(z) ? str(z.zoneName) : undefined;
      if (zone === undefined) continue;
      const available = isRecord((z as Record<string, unknown>).zoneState)
        ? ((z as { zoneState: Record<string, unknown> }).zoneState.available as unknown)
        : undefined;
      yield {
        id: zone,
        name: zone,
        provider: client.provider,
        ...definedFields({ region: actual }),
        zone,
        extra: definedFields({ available: typeof available === 'boolean' ? available : undefined }),
      };
    }
  }
}

/** Nova `GET /os-keypairs` (one page; the public keys included). */
export function openstackListKeyPairs(
  client: OpenStackClient,
  opts: ListCatalogOptions = {},
): AsyncIterable<KeyPair> {
  const provider = client.provider;
  return onePageItems(
    async (ctx) => {
      const { client: nova } = await client.service('compute', client.homeRegion, ctx);
      const body = await nova.json<unknown>({ url: 'os-keypairs', ...ctx });
      if (!isRecord(body) || !Array.isArray(body.keypairs))
        throw malformed(provider, 'os-keypairs has no keypairs array');
      return body.keypairs;
    },
    (raw) => openstackKeyPair(raw, provider),
    { ...opts, provider },
  );
}

/** Nova `POST /os-keypairs` with a public key; a taken name (409) is `E_CONFLICT`. */
export async function openstackImportKeyPair(
  client: OpenStackClient,
  input: { name: string; publicKey: string },
  opts: AbortOptions = {},
): Promise<KeyPair> {
  const { name, publicKey } = keyPairInputArg(input, KEY_NAME_MAX);
  const { client: nova } = await client.service('compute', client.homeRegion, opts);
  let body: unknown;
  try {
    body = await nova.json<unknown>({
      method: 'POST',
      url: 'os-keypairs',
      json: { keypair: { name, public_key: publicKey } },
      ...signalOf(opts),
    });
  } catch (err) {
    if (isFleetwatchError(err) && err.status === 409)
      throw new FleetwatchError('E_CONFLICT', err.message, {
        provider: client.provider,
        status: 409,
        ...(err.providerCode === undefined ? {} : { providerCode: err.providerCode }),
      });
    throw err;
  }
  return importedKeyPair(
    openstackKeyPair(body, client.provider),
    publicKey,
    client.provider,
    'os-keypairs answered no keypair',
  );
}

/** Nova `DELETE /os-keypairs/{name}`; a name that does not exist resolves too (as on EC2). */
export async function openstackDeleteKeyPair(
  client: OpenStackClient,
  name: string,
  opts: AbortOptions = {},
): Promise<void> {
  const checked = keyPairNameArg(name, KEY_NAME_MAX);
  const { client: nova } = await client.service('compute', client.homeRegion, opts);
  try {
    await nova.request({
      method: 'DELETE',
      url: `os-keypairs/${encodeURIComponent(checked)}`,
      ...signalOf(opts),
    });
  } catch (err) {
    if (!isFleetwatchError(err, 'E_NOT_FOUND')) throw err;
  }
}

/** The catalogue and key-pair calls the adapter class delegates to. */
export const OPENSTACK_CATALOG: CatalogCalls<OpenStackClient> = {
  listImages: openstackListImages,
  listSizes: openstackListSizes,
  listLocations: openstackListLocations,
  listKeyPairs: openstackListKeyPairs,
  importKeyPair: openstackImportKeyPair,
  deleteKeyPair: openstackDeleteKeyPair,
};
