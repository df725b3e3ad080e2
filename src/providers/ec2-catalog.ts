import type { AbortOptions } from '../core.js';
import type { Ec2Client } from './ec2-client.js';
import { readTags } from './ec2-nodes.js';
import { filterParams } from './ec2-options.js';
import { type Ec2XmlElement, xmlItems, xmlPath, xmlText } from './ec2-xml.js';
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
  mergeConcurrently,
  type NodeImage,
  type NodeLocation,
  type NodeSize,
  onePageItems,
  parseDate,
  signalOf,
} from './kit/index.js';

/** `MaxResults` of each `DescribeImages` page (EC2 allows 5-1000). */
export const EC2_IMAGES_PAGE = 1000;
/** `MaxResults` of each `DescribeInstanceTypes` page (EC2 allows 5-100). */
export const EC2_SIZES_PAGE = 100;
/** EC2 key pair names: up to 255 ASCII characters. */
const KEY_NAME_MAX = 255;

/** `DescribeImages` `Owner.N` for each {@link ListImagesOptions.owner}; `all` sends none. */
const OWNERS: Record<'self' | 'public' | 'all', readonly string[]> = {
  self: ['self'],
  public: ['amazon'],
  all: [],
};

/** One `DescribeImages` item as a {@link NodeImage}. */
export function ec2ImageFromXml(item: Ec2XmlElement, provider: string): NodeImage | undefined {
  const id = xmlText(item, 'imageId');
  if (id === undefined) return undefined;
  const platform = xmlText(item, 'platform');
  const details = xmlText(item, 'platformDetails');
  const os =
    platform === 'windows'
      ? 'windows'
      : details !== undefined
        ? details.toLowerCase().includes('windows')
          ? 'windows'
          : 'linux'
        : undefined;
  const createdAt = parseDate(xmlText(item, 'creationDate'));
  return {
    id,
    name: xmlText(item, 'name') ?? id,
    provider,
    ...definedFields({ os, createdAt }),
    public: xmlText(item, 'isPublic') === 'true',
    extra: definedFields({
      ownerId: xmlText(item, 'imageOwnerId'),
      ownerAlias: xmlText(item, 'imageOwnerAlias'),
      state: xmlText(item, 'imageState'),
      architecture: xmlText(item, 'architecture'),
      description: xmlText(item, 'description'),
      platformDetails: details,
      rootDeviceType: xmlText(item, 'rootDeviceType'),
      virtualizationType: xmlText(item, 'virtualizationType'),
      imageLocation: xmlText(item, 'imageLocation'),
      tags: readTags(item),
    }),
  };
}

/** One `DescribeInstanceTypes` item as a {@link NodeSize} (no price: EC2's is in the Price List API). */
export function ec2SizeFromXml(item: Ec2XmlElement, provider: string): NodeSize | undefined {
  const id = xmlText(item, 'instanceType');
  const cpus = Number(xmlText(item, 'vCpuInfo', 'defaultVCpus'));
  const memory = Number(xmlText(item, 'memoryInfo', 'sizeInMiB'));
  if (id === undefined || !(cpus > 0) || !(memory > 0)) return undefined;
  const disk = Number(xmlText(item, 'instanceStorageInfo', 'totalSizeInGB'));
  return {
    id,
    name: id,
    provider,
    cpus,
    memory,
    ...(disk > 0 ? { disk } : {}),
    extra: definedFields({
      architectures: xmlItems(item, 'processorInfo', 'supportedArchitectures').map((a) => a.text.trim()),
      currentGeneration: xmlText(item, 'currentGeneration') === 'true',
      burstable: xmlText(item, 'burstablePerformanceSupported') === 'true',
      hypervisor: xmlText(item, 'hypervisor'),
      networkPerformance: xmlText(item, 'networkInfo', 'networkPerformance'),
      instanceStorage: xmlPath(item, 'instanceStorageInfo') === undefined ? undefined : 'local',
    }),
  };
}

/** One `DescribeKeyPairs` / `ImportKeyPair` element as a {@link KeyPair}. */
export function ec2KeyPairFromXml(item: Ec2XmlElement, provider: string): KeyPair | undefined {
  const name = xmlText(item, 'keyName');
  if (name === undefined) return undefined;
  const id = xmlText(item, 'keyPairId');
  const fingerprint = xmlText(item, 'keyFingerprint');
  const publicKey = xmlText(item, 'publicKey');
  return {
    name,
    provider,
    ...definedFields({ id, fingerprint, publicKey }),
    extra: definedFields({
      keyType: xmlText(item, 'keyType'),
      createdAt: parseDate(xmlText(item, 'createTime')),
      tags: readTags(item),
    }),
  };
}

/**
 * `DescribeImages` in the home region, paged with `MaxResults`/`NextToken`: `owner` `self` (the
 * default) → `Owner=self`, `public` → `Owner=amazon`, `all` → no owner (everything the account may
 * launch: ~100,000 public images, so pass `filters`). `filters` become `Filter.N`.
 */
export async function* ec2ListImages(
  client: Ec2Client,
  opts?: ListImagesOptions,
): AsyncGenerator<NodeImage, void, undefined> {
  // Checked when iteration starts, so a bad option rejects like any other listing failure.
  const o = imagesOptionsArg(opts);
  const base: Record<string, string> = { ...filterParams(o.filters, 'opts.filters') };
  OWNERS[o.owner].forEach((owner, i) => {
    base[`Owner.${i + 1}`] = owner;
  });
  yield* pagedList(client, 'DescribeImages', base, EC2_IMAGES_PAGE, 'imagesSet', ec2ImageFromXml, o);
}

/** `DescribeInstanceTypes` in the home region, paged (100 a page). */
export function ec2ListSizes(client: Ec2Client, opts: ListCatalogOptions = {}): AsyncIterable<NodeSize> {
  return pagedList(
    client,
    'DescribeInstanceTypes',
    {},
    EC2_SIZES_PAGE,
    'instanceTypeSet',
    ec2SizeFromXml,
    opts,
  );
}

function pagedList<T>(
  client: Ec2Client,
  action: string,
  params: Record<string, string>,
  pageSize: number,
  set: string,
  toItem: (item: Ec2XmlElement, provider: string) => T | undefined,
  opts: ListCatalogOptions,
): AsyncIterable<T> {
  const { id: provider, homeRegion } = client.config;
  return itemsFromPages<Ec2XmlElement, T>(
    async (cursor, ctx) => {
      const root = await client.call(
        homeRegion,
        action,
        { ...params, MaxResults: String(pageSize), ...(cursor === undefined ? {} : { NextToken: cursor }) },
        signalOf(ctx),
      );
      return { items: xmlItems(root, set), next: xmlText(root, 'nextToken') };
    },
    (item) => toItem(item, provider),
    { ...opts, provider },
  );
}

/**
 * Every region the provider covers (`{ id: 'eu-west-1', region }`) and each region's availability
 * zones (`{ id: 'eu-west-1a', region, zone }`). `createNode`'s `location` takes either id.
 */
export async function* ec2ListLocations(
  client: Ec2Client,
  opts: ListCatalogOptions = {},
): AsyncGenerator<NodeLocation, void, undefined> {
  const provider = client.provider;
  const regions = await client.regions(signalOf(opts));
  let page = 0;
  const perRegion = regions.map(
    (region) =>
      async function* (): AsyncGenerator<NodeLocation> {
        const root = await client.call(region, 'DescribeAvailabilityZones', {}, signalOf(opts));
        const zones = xmlItems(root, 'availabilityZoneInfo');
        opts.onPage?.({ page: ++page, items: zones.length + 1 });
        yield { id: region, name: region, provider, region, extra: {} };
        for (const item of zones) {
          const zone = xmlText(item, 'zoneName');
          if (zone === undefined) continue;
          yield {
            id: zone,
            name: zone,
            provider,
            region: xmlText(item, 'regionName') ?? region,
            zone,
            extra: definedFields({
              zoneId: xmlText(item, 'zoneId'),
              zoneType: xmlText(item, 'zoneType'),
              state: xmlText(item, 'zoneState'),
            }),
          };
        }
      },
  );
  yield* mergeConcurrently(perRegion, client.config.regionConcurrency);
}

/** `DescribeKeyPairs` in the home region (one unpaged call; public keys included). */
export function ec2ListKeyPairs(client: Ec2Client, opts: ListCatalogOptions = {}): AsyncIterable<KeyPair> {
  const { id: provider, homeRegion } = client.config;
  return onePageItems(
    async (ctx) => {
      const root = await client.call(homeRegion, 'DescribeKeyPairs', { IncludePublicKey: 'true' }, ctx);
      return xmlItems(root, 'keySet');
    },
    (item) => ec2KeyPairFromXml(item, provider),
    { ...opts, provider },
  );
}

/**
 * `ImportKeyPair` in the home region. A taken name is `E_CONFLICT` (`InvalidKeyPair.Duplicate`);
 * not retried after a lost response (a retry would hit the duplicate).
 */
export async function ec2ImportKeyPair(
  client: Ec2Client,
  input: { name: string; publicKey: string },
  opts: AbortOptions = {},
): Promise<KeyPair> {
  const { name, publicKey } = keyPairInputArg(input, KEY_NAME_MAX);
  const root = await client.call(
    client.config.homeRegion,
    'ImportKeyPair',
    { KeyName: name, PublicKeyMaterial: Buffer.from(publicKey, 'utf8').toString('base64') },
    { ...signalOf(opts), idempotent: false },
  );
  return importedKeyPair(
    ec2KeyPairFromXml(root, client.provider),
    publicKey,
    client.provider,
    'ImportKeyPair returned no keyName',
  );
}

/** `DeleteKeyPair` in the home region. EC2 answers success for a name that does not exist. */
export async function ec2DeleteKeyPair(
  client: Ec2Client,
  name: string,
  opts: AbortOptions = {},
): Promise<void> {
  await client.call(
    client.config.homeRegion,
    'DeleteKeyPair',
    { KeyName: keyPairNameArg(name, KEY_NAME_MAX) },
    { ...signalOf(opts), idempotent: true },
  );
}

/** The catalogue and key-pair calls the adapter class delegates to. */
export const EC2_CATALOG: CatalogCalls<Ec2Client> = {
  listImages: ec2ListImages,
  listSizes: ec2ListSizes,
  listLocations: ec2ListLocations,
  listKeyPairs: ec2ListKeyPairs,
  importKeyPair: ec2ImportKeyPair,
  deleteKeyPair: ec2DeleteKeyPair,
};
