/**
 * Azure's catalogue: the account's images (`Microsoft.Compute/images`), marketplace image versions
 * (`locations/{l}/publishers/{p}/artifacttypes/vmimage/offers/{o}/skus/{s}/versions`), sizes from
 * Resource SKUs (`Microsoft.Compute/skus`) and SSH public keys (`Microsoft.Compute/sshPublicKeys`).
 */
import { FleetwatchError, validationError } from '../errors.js';
import { armPager } from './azure-network.js';
import {
  asArray,
  asObject,
  type FetchPage,
  type ImagesRequest,
  type ProviderHttpClient,
  pickExtra,
  str,
} from './kit/index.js';
import type { KeyPair, NodeImage, NodeSize } from './types.js';

/** Resource SKUs API version (learn.microsoft.com/rest/api/compute/resource-skus/list). */
export const AZURE_SKUS_API_VERSION = '2021-07-01';

/** The filters `listImages` understands. */
export const AZURE_IMAGE_FILTERS = ['location', 'publisher', 'offer', 'sku'] as const;

/** The marketplace filters, in walk order: each one bounds a level of the publisher → version walk. */
const MARKETPLACE_FILTERS = ['location', 'publisher', 'offer', 'sku'] as const;

/**
 * The marketplace walk of `owner: 'public'`/`'all'`, bounded to one SKU's versions. A walk without
 * the filters is refused: a location has hundreds of publishers, each with offers and SKUs, and a
 * full walk is one request per node of that tree (libcloud's took tens of minutes,
 * github.com/apache/libcloud/pull/1042).
 */
export function marketplacePath(req: ImagesRequest): string {
  for (const f of MARKETPLACE_FILTERS)
    if (!req.filters[f])
      throw new FleetwatchError(
        'E_VALIDATION',
        `opts.filters.${f}: Azure marketplace images need filters location, publisher, offer and sku (a full publisher → offer → sku → version walk takes tens of minutes)`,
        { path: `opts.filters.${f}`, expected: 'a marketplace filter value' },
      );
  const [l, p, o, s] = MARKETPLACE_FILTERS.map((f) => encodeURIComponent(req.filters[f] ?? ''));
  return `locations/${l}/publishers/${p}/artifacttypes/vmimage/offers/${o}/skus/${s}/versions`;
}

/** A one-request pager for ARM answers that are a bare JSON array (the marketplace image lists). */
export function armArrayPager(
  http: ProviderHttpClient,
  path: string,
  apiVersion: string,
): FetchPage<unknown> {
  return async (_cursor, { signal }) => ({
    items: asArray(
      await http.json({ url: path, searchParams: { 'api-version': apiVersion }, signal }),
      http.provider,
      'versions',
    ),
    next: undefined,
  });
}

/** A marketplace image version; `id` is the URN `publisher:offer:sku:version` `createNode` takes. */
export function azureMarketplaceImage(provider: string, value: unknown, req: ImagesRequest): NodeImage {
  const raw = asObject(value, provider, 'image version');
  const version = str(raw.name) ?? '';
  const urn = [req.filters.publisher, req.filters.offer, req.filters.sku, version].join(':');
  return {
    id: urn,
    name: urn,
    provider,
    public: true,
    extra: { ...pickExtra(raw, ['location']), armId: str(raw.id) },
  };
}

/** One of the account's own images; `id` is its ARM resource id. */
export function azureOwnImage(provider: string, value: unknown): NodeImage {
  const raw = asObject(value, provider, 'image');
  const props = (raw.properties ?? {}) as {
    storageProfile?: { osDisk?: { osType?: unknown; osState?: unknown } };
    provisioningState?: unknown;
    hyperVGeneration?: unknown;
  };
  const os = str(props.storageProfile?.osDisk?.osType);
  return {
    id: str(raw.id) ?? '',
    name: str(raw.name) ?? '',
    provider,
    ...(os ? { os: os.toLowerCase() } : {}),
    public: false,
    extra: {
      ...pickExtra(raw, ['location', 'tags']),
      ...pickExtra(props as Record<string, unknown>, ['provisioningState', 'hyperVGeneration']),
    },
  };
}

/**
 * A Resource SKU of type `virtualMachines` as a size (others, such as disks, are skipped):
 * `capabilities` `vCPUs` and `MemoryGB` (→ MiB). No price: Azure publishes prices through the
 * separate Retail Prices API. `restrictions` (e.g. `NotAvailableForSubscription`) stay in `extra`.
 */
export function azureSize(provider: string, value: unknown): NodeSize | undefined {
  const raw = asObject(value, provider, 'resource sku');
  if (str(raw.resourceType) !== 'virtualMachines') return undefined;
  const caps = new Map<string, string>();
  for (const c of Array.isArray(raw.capabilities) ? raw.capabilities : []) {
    const name = str((c as { name?: unknown })?.name);
    const v = str((c as { value?: unknown })?.value);
    if (name !== undefined && v !== undefined) caps.set(name, v);
  }
  const num = (key: string) => {
    const n = Number(caps.get(key));
    return Number.isFinite(n) ? n : 0;
  };
  const name = str(raw.name) ?? '';
  return {
    id: name,
    name,
    provider,
    cpus: num('vCPUs'),
    memory: Math.round(num('MemoryGB') * 1024),
    extra: {
      ...pickExtra(raw, ['tier', 'size', 'family', 'locations', 'restrictions']),
      ...(caps.has('MaxResourceVolumeMB') ? { resourceDiskMB: num('MaxResourceVolumeMB') } : {}),
      ...(caps.has('MaxDataDiskCount') ? { maxDataDisks: num('MaxDataDiskCount') } : {}),
    },
  };
}

/** An `sshPublicKeys` resource: `name` is its name, `id` its ARM id, `publicKey` the key line. */
export function azureKeyPair(provider: string, value: unknown): KeyPair {
  const raw = asObject(value, provider, 'ssh public key');
  const key = str((raw.properties as { publicKey?: unknown } | undefined)?.publicKey);
  return {
    name: str(raw.name) ?? '',
    provider,
    ...(str(raw.id) ? { id: str(raw.id) } : {}),
    ...(key ? { publicKey: key } : {}),
    extra: {
      ...pickExtra(raw, ['location', 'tags']),
      resourceGroup: /\/resourceGroups\/([^/]+)\//i.exec(str(raw.id) ?? '')?.[1],
    },
  };
}

/**
 * `listSizes`' `opts.filters.location` (the one filter Azure's size listing takes),
 * checked to be a location name so it is safe inside the OData `$filter`.
 */
export function azureSizesLocation(location: string | undefined): string | undefined {
  if (location !== undefined && !/^[A-Za-z0-9]{1,64}$/.test(location))
    throw validationError('opts.filters.location', 'an Azure location name such as eastus', location);
  return location;
}

/** A listing `listImages` follows: a pager and the translation of its items. */
export interface AzureImageSource {
  pager: FetchPage<unknown>;
  toItem: (raw: unknown) => NodeImage | undefined;
}

/**
 * What `listImages` lists, checked before any request: the account's images (unless `public`;
 * `filters.location` keeps one location's) and, for `public`/`all`, one marketplace SKU's versions.
 * `publisher`/`offer`/`sku` with `owner: 'self'` are refused (they select marketplace images).
 */
export function azureImageSources(
  http: ProviderHttpClient,
  req: ImagesRequest,
  sub: string,
  apiVersion: string,
): AzureImageSource[] {
  const market = req.owner === 'self' ? undefined : marketplacePath(req);
  if (req.owner === 'self')
    for (const f of ['publisher', 'offer', 'sku'])
      if (req.filters[f] !== undefined)
        throw validationError(`opts.filters.${f}`, "nothing for own images (use owner: 'public')", f);
  const where = req.filters.location?.toLowerCase();
  const compute = `${sub}/providers/Microsoft.Compute`;
  const provider = http.provider;
  return [
    ...(req.owner === 'public'
      ? []
      : [
          {
            pager: armPager(http, `${compute}/images`, apiVersion),
            toItem: (raw: unknown) => {
              const image = azureOwnImage(provider, raw);
              const here = where === undefined || String(image.extra.location).toLowerCase() === where;
              return here ? image : undefined;
            },
          },
        ]),
    ...(market
      ? [
          {
            pager: armArrayPager(http, `${compute}/${market}`, apiVersion),
            toItem: (raw: unknown) => azureMarketplaceImage(provider, raw, req),
          },
        ]
      : []),
  ];
}

/**
 * The one SSH public key of this name (ARM names are case-insensitive) in `keys`; when several
 * resource groups hold one, the one in `resourceGroup`. None is `E_NOT_FOUND`; still several is
 * `E_VALIDATION`.
 */
export async function findAzureKey(
  keys: AsyncIterable<KeyPair>,
  name: string,
  resourceGroup: string | undefined,
  provider: string,
): Promise<KeyPair> {
  const found: KeyPair[] = [];
  for await (const key of keys) if (key.name.toLowerCase() === name.toLowerCase()) found.push(key);
  const rg = resourceGroup?.toLowerCase();
  const pick =
    found.length > 1 ? found.filter((k) => String(k.extra.resourceGroup).toLowerCase() === rg) : found;
  if (pick.length === 1 && pick[0]) return pick[0];
  throw new FleetwatchError(
    found.length ? 'E_VALIDATION' : 'E_NOT_FOUND',
    found.length
      ? `${provider}: SSH public keys named "${name}" are in several resource groups (set options.resourceGroup)`
      : `${provider}: no SSH public key named "${name}"`,
    { provider, path: 'keyPair' },
  );
}
