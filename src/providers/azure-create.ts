/**
 * Azure `createNode`: the checked plan (resource group, image reference, NIC source), the network
 * interface made from `extra.subnetId` (with a public IP only when `extra.publicIp` is true) and the
 * body of the VM's `PUT` (learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update).
 */
import { FleetwatchError, validationError } from '../errors.js';
import {
  asObject,
  type CreateRequest,
  type ProviderHttpClient,
  type ProviderResponse,
  parseJsonBody,
  str,
} from './kit/index.js';

/** The `input.extra` fields Azure's `createNode` takes. */
export const AZURE_CREATE_EXTRA_KEYS = [
  'resourceGroup',
  'networkInterfaceId',
  'subnetId',
  'publicIp',
  'adminUsername',
  'adminPassword',
];

const RESOURCE_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/[^?#]+$/i;
const URN = /^([^:\s]+):([^:\s]+):([^:\s]+):([^:\s]+)$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** What `createNode` will do, checked before any request. */
export interface AzureCreatePlan {
  resourceGroup: string;
  location: string;
  imageReference: Record<string, string>;
  adminUsername: string;
  /** An existing NIC, or the subnet to create one in. */
  nic: { id: string } | { subnetId: string; publicIp: boolean };
}

/** An `imageReference`: an image resource id (`/subscriptions/…/images/x`) or a `publisher:offer:sku:version` URN. */
export function azureImageReference(image: string): Record<string, string> {
  if (image.startsWith('/')) {
    if (!RESOURCE_ID.test(image))
      throw validationError(
        'input.image',
        'an image resource id or a publisher:offer:sku:version URN',
        image,
      );
    return { id: image };
  }
  const m = URN.exec(image);
  if (!m)
    throw validationError('input.image', 'an image resource id or a publisher:offer:sku:version URN', image);
  return { publisher: m[1]!, offer: m[2]!, sku: m[3]!, version: m[4]! };
}

const optionalId = (value: unknown, path: string): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !RESOURCE_ID.test(value))
    throw validationError(path, 'an ARM resource id (/subscriptions/…)', value);
  return value;
};

/**
 * Check an Azure create: the resource group (`extra.resourceGroup`, else the adapter's
 * `resourceGroup` option), a VM name Azure takes, the image, exactly one of
 * `extra.networkInterfaceId`/`extra.subnetId`, and a way in (`keyPair` or `extra.adminPassword`).
 */
export function azureCreatePlan(req: CreateRequest, defaultResourceGroup?: string): AzureCreatePlan {
  const x = req.extra;
  const rg = x.resourceGroup ?? defaultResourceGroup;
  if (typeof rg !== 'string' || !/^[\w.()-]{1,90}$/.test(rg))
    throw validationError(
      'input.extra.resourceGroup',
      "a resource group name (or the adapter's resourceGroup option)",
      rg,
    );
  if (!NAME.test(req.name))
    throw validationError('input.name', 'an Azure VM name (1–63 of A-Z a-z 0-9 . _ -)', req.name);
  const nicId = optionalId(x.networkInterfaceId, 'input.extra.networkInterfaceId');
  const subnetId = optionalId(x.subnetId, 'input.extra.subnetId');
  if ((nicId === undefined) === (subnetId === undefined))
    throw new FleetwatchError(
      'E_VALIDATION',
      'input.extra: Azure needs exactly one of networkInterfaceId and subnetId',
      { path: 'input.extra.subnetId', expected: 'networkInterfaceId or subnetId' },
    );
  if (x.publicIp !== undefined && (typeof x.publicIp !== 'boolean' || nicId !== undefined))
    throw validationError('input.extra.publicIp', 'a boolean, with subnetId only', x.publicIp);
  if (x.adminUsername !== undefined && (typeof x.adminUsername !== 'string' || !x.adminUsername))
    throw validationError('input.extra.adminUsername', 'a non-empty string', x.adminUsername);
  if (x.adminPassword !== undefined && (typeof x.adminPassword !== 'string' || !x.adminPassword))
    throw validationError('input.extra.adminPassword', 'a non-empty string', '(not shown)');
  if (req.keyPair === undefined && x.adminPassword === undefined)
    throw validationError('input.keyPair', 'a key pair name (or input.extra.adminPassword)', undefined);
  return {
    resourceGroup: rg,
    location: req.location ?? '',
    imageReference: azureImageReference(req.image ?? ''),
    adminUsername: (x.adminUsername as string | undefined) ?? 'azureuser',
    nic: nicId !== undefined ? { id: nicId } : { subnetId: subnetId ?? '', publicIp: x.publicIp === true },
  };
}

/** What {@link azureNetworkInterface} needs from the adapter. */
export interface AzureNetworkContext {
  http: ProviderHttpClient;
  subscriptionId: string;
  networkApiVersion: string;
  /** Wait for the ARM operation a `PUT` answered with (nothing when the answer means done). */
  follow: (res: ProviderResponse, action: string, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * The NIC the VM uses: the given one, or `<name>-nic` made in the subnet (and `<name>-ip`, a
 * Standard static public IP, first when `publicIp`), each `PUT` followed to the end before the VM
 * references it. Returns the NIC id and whether it was made here (then the VM deletes it with itself).
 */
export async function azureNetworkInterface(
  ctx: AzureNetworkContext,
  plan: AzureCreatePlan,
  name: string,
): Promise<{ id: string; created: boolean }> {
  if ('id' in plan.nic) return { id: plan.nic.id, created: false };
  const { http, signal } = ctx;
  const base = `subscriptions/${encodeURIComponent(ctx.subscriptionId)}/resourceGroups/${encodeURIComponent(plan.resourceGroup)}/providers/Microsoft.Network`;
  const put = async (path: string, json: unknown, action: string): Promise<string> => {
    const res = await http.request({
      method: 'PUT',
      url: path,
      searchParams: { 'api-version': ctx.networkApiVersion },
      json,
      signal,
    });
    await ctx.follow(res, action, signal);
    const id = res.body
      ? str(asObject(parseJsonBody(res.body, http.provider, res.url), http.provider, action).id)
      : undefined;
    return id ?? `/${path}`;
  };
  const pipId = plan.nic.publicIp
    ? await put(
        `${base}/publicIPAddresses/${encodeURIComponent(`${name}-ip`)}`,
        {
          location: plan.location,
          sku: { name: 'Standard' },
          properties: { publicIPAllocationMethod: 'Static' },
        },
        'createPublicIp',
      )
    : undefined;
  const nicId = await put(
    `${base}/networkInterfaces/${encodeURIComponent(`${name}-nic`)}`,
    {
      location: plan.location,
      properties: {
        ipConfigurations: [
          {
            name: 'ipconfig1',
            properties: {
              subnet: { id: plan.nic.subnetId },
              privateIPAllocationMethod: 'Dynamic',
              ...(pipId ? { publicIPAddress: { id: pipId } } : {}),
            },
          },
        ],
      },
    },
    'createNetworkInterface',
  );
  return { id: nicId, created: true };
}

/**
 * The VM's `PUT` body: `vmSize`, the image reference, the OS disk deleted with the VM, the NIC
 * (deleted with the VM when made here), the key pair's key in `linuxConfiguration.ssh.publicKeys`,
 * `userData` as base64 `customData`, and the tags.
 */
export function azureVmBody(
  req: CreateRequest,
  plan: AzureCreatePlan,
  nic: { id: string; created: boolean },
  publicKey: string | undefined,
): Record<string, unknown> {
  const admin = plan.adminUsername;
  const password = req.extra.adminPassword as string | undefined;
  return {
    location: plan.location,
    tags: req.tags,
    properties: {
      hardwareProfile: { vmSize: req.size },
      storageProfile: {
        imageReference: plan.imageReference,
        osDisk: { createOption: 'FromImage', deleteOption: 'Delete' },
      },
      osProfile: {
        computerName: req.name,
        adminUsername: admin,
        ...(password === undefined ? {} : { adminPassword: password }),
        ...(req.userData === undefined
          ? {}
          : { customData: Buffer.from(req.userData, 'utf8').toString('base64') }),
        ...(publicKey === undefined
          ? {}
          : {
              linuxConfiguration: {
                disablePasswordAuthentication: password === undefined,
                ssh: { publicKeys: [{ path: `/home/${admin}/.ssh/authorized_keys`, keyData: publicKey }] },
              },
            }),
      },
      networkProfile: {
        networkInterfaces: [
          { id: nic.id, properties: { primary: true, deleteOption: nic.created ? 'Delete' : 'Detach' } },
        ],
      },
    },
  };
}
