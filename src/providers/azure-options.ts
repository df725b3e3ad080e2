/**
 * The options of `azure()` and their checking: credentials from the options or `AZURE_*`, the
 * OAuth client-credentials token cache, the bearer HTTP client and the adapter's settings.
 */
import { validationError } from '../errors.js';
import type { TokenCache } from './kit/index.js';
import {
  type AdapterBase,
  baseUrlOption,
  bearerHttpClient,
  type CloudProviderOptions,
  checkCommonOptions,
  credential,
  nodeIdArg,
  oauthTokenCache,
  type ProviderHttpClient,
} from './kit/index.js';

/** How the power state is found. */
export type AzurePowerStateMode = 'list' | 'perVm' | 'none';

/** Options of {@link azure}. */
export interface AzureOptions extends CloudProviderOptions {
  /** @default process.env.AZURE_TENANT_ID */
  tenantId?: string;
  /** @default process.env.AZURE_CLIENT_ID */
  clientId?: string;
  /** @default process.env.AZURE_CLIENT_SECRET */
  clientSecret?: string;
  /** @default process.env.AZURE_SUBSCRIPTION_ID */
  subscriptionId?: string;
  /** @default 'https://management.azure.com/' */
  baseUrl?: string;
  /** @default 'https://login.microsoftonline.com' */
  authorityHost?: string;
  /** Token audience. @default 'https://management.core.windows.net/' */
  resource?: string;
  /** Compute API version. @default '2024-07-01' */
  apiVersion?: string;
  /**
   * `'list'`: power state from the list itself (`statusOnly=true`), one request per page.
   * `'perVm'`: one extra instance-view request per VM (for clouds whose list lacks it).
   * `'none'`: no power state (state comes from provisioning only, often `unknown`).
   * @default 'list'
   */
  powerState?: AzurePowerStateMode;
  /**
   * Fill `publicIps`/`privateIps`. A listing then also lists the subscription's network interfaces
   * and public IP addresses (two paged listings, never a call per VM); `getNode` reads the VM's NICs.
   * @default true
   */
  addresses?: boolean;
  /** Network API version (NICs, public IPs). @default '2023-09-01' */
  networkApiVersion?: string;
  /**
   * Where new resources go when a call does not say: `importKeyPair`'s key resource and
   * `createNode`'s VM and NIC (unless `input.extra.resourceGroup`).
   */
  resourceGroup?: string;
  /** Where `importKeyPair` puts the key resource, and `createNode`'s default `location`. */
  location?: string;
}

/** The checked settings of an Azure adapter. */
export interface AzureSettings {
  subscriptionId: string;
  apiVersion: string;
  powerState: AzurePowerStateMode;
  addresses: boolean;
  networkApiVersion: string;
  resourceGroup?: string;
  location?: string;
}

const optionalName = (value: unknown, path: string): string | undefined =>
  value === undefined ? undefined : nodeIdArg(value, path);

/**
 * Check `azure()`'s options and build what the adapter needs.
 *
 * @example
 * ```ts
 * const { base, http, settings } = azureSetup({ id: 'az', subscriptionId: 'sub' });
 * ```
 */
export function azureSetup(options: AzureOptions): {
  base: AdapterBase;
  http: ProviderHttpClient;
  settings: AzureSettings;
} {
  const base = checkCommonOptions(options, 'azure', [
    'tenantId',
    'clientId',
    'clientSecret',
    'subscriptionId',
    'baseUrl',
    'authorityHost',
    'resource',
    'apiVersion',
    'powerState',
    'addresses',
    'networkApiVersion',
    'resourceGroup',
    'location',
  ]);
  const tenantId = credential(options.tenantId, 'options.tenantId', 'AZURE_TENANT_ID');
  const clientId = credential(options.clientId, 'options.clientId', 'AZURE_CLIENT_ID');
  const clientSecret = credential(options.clientSecret, 'options.clientSecret', 'AZURE_CLIENT_SECRET');
  const subscriptionId = credential(
    options.subscriptionId,
    'options.subscriptionId',
    'AZURE_SUBSCRIPTION_ID',
  );
  const powerState = options.powerState ?? 'list';
  if (!['list', 'perVm', 'none'].includes(powerState))
    throw validationError('options.powerState', "'list', 'perVm' or 'none'", powerState);
  const apiVersion =
    options.apiVersion === undefined ? '2024-07-01' : nodeIdArg(options.apiVersion, 'options.apiVersion');
  const authority = baseUrlOption(
    options.authorityHost,
    'options.authorityHost',
    'https://login.microsoftonline.com',
  );
  const resource =
    options.resource === undefined
      ? 'https://management.core.windows.net/'
      : nodeIdArg(options.resource, 'options.resource');
  const secrets = () => [clientSecret, ...tokens.secrets()];
  const tokens: TokenCache = oauthTokenCache(base, {
    baseUrl: authority,
    url: `${encodeURIComponent(tenantId)}/oauth2/token`,
    http: options.http,
    form: () => ({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      resource,
    }),
    secrets,
  });
  const http = bearerHttpClient(base, {
    baseUrl: baseUrlOption(options.baseUrl, 'options.baseUrl', 'https://management.azure.com/'),
    http: options.http,
    token: tokens,
    secrets,
  });
  if (options.addresses !== undefined && typeof options.addresses !== 'boolean')
    throw validationError('options.addresses', 'a boolean', options.addresses);
  const networkApiVersion =
    options.networkApiVersion === undefined
      ? '2023-09-01'
      : nodeIdArg(options.networkApiVersion, 'options.networkApiVersion');
  const settings: AzureSettings = {
    subscriptionId,
    apiVersion,
    powerState,
    addresses: options.addresses ?? true,
    networkApiVersion,
  };
  const resourceGroup = optionalName(options.resourceGroup, 'options.resourceGroup');
  const location = optionalName(options.location, 'options.location');
  if (resourceGroup !== undefined) settings.resourceGroup = resourceGroup;
  if (location !== undefined) settings.location = location;
  return { base, http, settings };
}
