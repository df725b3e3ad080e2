/**
 * Azure Resource Manager adapter: virtual machines as nodes. Client-credentials token from the
 * authority host, the subscription-wide VM list following `nextLink`, power state from the same
 * list (`statusOnly=true`, no call per VM), tags written with PATCH. A node's id is
 * `<resourceGroup>/<vmName>`.
 */

import type { AbortOptions } from '../core.js';
import { validationError } from '../errors.js';
import {
  type AzureAddressBook,
  type AzureAddresses,
  armPager,
  fetchAzureAddressBook,
  fetchVmAddresses,
} from './azure-network.js';
import { azureOperationRef, pollAzureOperation } from './azure-operation.js';
import { azureLocation, azureState, checkTags, type VmJson } from './azure-vm.js';
import type { TokenCache } from './kit/index.js';
import {
  asArray,
  asObject,
  baseUrlOption,
  bearerHttpClient,
  type CloudProviderOptions,
  type ComputeTags,
  checkCommonOptions,
  credential,
  type NodeControlOperation,
  nodeIdArg,
  nodesFromPages,
  oauthTokenCache,
  type PageContext,
  POWER_TARGET_STATES,
  type PowerContext,
  type PowerOperation,
  type ProviderResponse,
  type ProviderWith,
  parseDate,
  pickExtra,
  type RawPage,
  str,
  undefinedIfNotFound,
  WholeTagSetAdapter,
} from './kit/index.js';
import type { ListCatalogOptions, ListNodesOptions, Node, NodeLocation, Operation } from './types.js';

const POWER_VERBS = { reboot: 'restart', start: 'start', stop: 'powerOff' } satisfies Record<
  PowerOperation,
  string
>;

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
}

/** What `azure()` returns: a {@link Provider} with these optional operations present. */
export type AzureProvider = ProviderWith<
  NodeControlOperation | 'destroyNode' | 'listLocations' | 'waitForState'
>;

/**
 * An Azure provider.
 *
 * @example
 * ```ts
 * const az = azure({ id: 'azure' }); // AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID
 * for await (const node of az.listNodes()) console.log(node.id, node.rawState); // "rg/vm1" "PowerState/running"
 * ```
 */
export function azure(options: AzureOptions): AzureProvider {
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
  return new AzureAdapter(base, http, {
    subscriptionId,
    apiVersion,
    powerState,
    addresses: options.addresses ?? true,
    networkApiVersion,
  });
}

interface AzureSettings {
  subscriptionId: string;
  apiVersion: string;
  powerState: AzurePowerStateMode;
  addresses: boolean;
  networkApiVersion: string;
}

class AzureAdapter extends WholeTagSetAdapter<AzureSettings> implements AzureProvider {
  readonly kind = 'azure' as const;

  protected async fetchPage(cursor: string | undefined, { signal }: PageContext): Promise<RawPage> {
    const { subscriptionId, apiVersion, powerState } = this.settings;
    const body = asObject(
      await this.http.json(
        cursor
          ? { url: cursor, signal }
          : {
              url: `subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Compute/virtualMachines`,
              searchParams: {
                'api-version': apiVersion,
                statusOnly: powerState === 'list' ? 'true' : undefined,
              },
              signal,
            },
      ),
      this.id,
      'VM list',
    );
    const next = str(body.nextLink);
    return {
      items: asArray(body.value, this.id, 'value'),
      next: next ? this.http.resolveLink(next) : undefined,
    };
  }

  protected fetchNode(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.http.json({
      url: this.#path(id),
      searchParams: {
        'api-version': this.settings.apiVersion,
        $expand: this.settings.powerState === 'none' ? undefined : 'instanceView',
      },
      signal,
    });
  }

  override listNodes(opts: ListNodesOptions = {}): AsyncIterable<Node> {
    const { subscriptionId, apiVersion, powerState, addresses, networkApiVersion } = this.settings;
    let book: Promise<AzureAddressBook> | undefined;
    return nodesFromPages(
      (cursor, ctx) => {
        if (addresses && book === undefined) {
          // Fetched alongside the first page; awaited when the first VM is translated.
          book = fetchAzureAddressBook(this.http, subscriptionId, networkApiVersion, ctx.signal);
          book.catch(() => {});
        }
        return this.fetchPage(cursor, ctx);
      },
      async (raw, signal) => {
        const vm = asObject(raw, this.id, 'VM') as VmJson;
        const addrs = book ? (await book).get(String(vm.id).toLowerCase()) : undefined;
        if (powerState !== 'perVm') return this.toNode(vm, addrs);
        const view = await this.http.json({
          url: `${String(vm.id).replace(/^\//, '')}/instanceView`,
          searchParams: { 'api-version': apiVersion },
          signal,
        });
        return this.toNode({ ...vm, properties: { ...vm.properties, instanceView: view } }, addrs);
      },
      { ...opts, provider: this.id },
    );
  }

  override async getNode(id: string, opts: { signal?: AbortSignal } = {}): Promise<Node | undefined> {
    const raw = await undefinedIfNotFound(this.fetchNode(id, opts.signal));
    if (raw === undefined) return undefined;
    if (!this.settings.addresses) return this.toNode(raw);
    const nics = (raw as VmJson).properties?.networkProfile?.networkInterfaces;
    const ids = (Array.isArray(nics) ? nics : [])
      .map((n) => str((n as { id?: unknown })?.id))
      .filter((x): x is string => !!x);
    return this.toNode(
      raw,
      await fetchVmAddresses(this.http, ids, this.settings.networkApiVersion, opts.signal),
    );
  }

  protected checkTags(tags: Record<string, string>): Record<string, string> {
    return checkTags(tags);
  }

  protected override checkMergedTags(tags: Record<string, string>): Record<string, string> {
    return checkTags(tags);
  }

  protected async updateTags(
    nodeId: string,
    compute: ComputeTags,
    signal?: AbortSignal,
  ): Promise<Operation<void> | undefined> {
    const current = await this.#currentTags(nodeId, signal);
    return this.#patchTags(nodeId, compute(current), signal);
  }

  override toJSON(): Record<string, unknown> {
    return { id: this.id, kind: this.kind, subscriptionId: this.settings.subscriptionId };
  }

  #path(id: string): string {
    const [rg, name, ...rest] = nodeIdArg(id).split('/');
    if (!rg || !name || rest.length > 0) throw validationError('id', '"<resourceGroup>/<vmName>"', id);
    return `subscriptions/${encodeURIComponent(this.settings.subscriptionId)}/resourceGroups/${encodeURIComponent(rg)}/providers/Microsoft.Compute/virtualMachines/${encodeURIComponent(name)}`;
  }

  async #currentTags(nodeId: string, signal?: AbortSignal): Promise<Record<string, string>> {
    const raw = asObject(
      await this.http.json({
        url: this.#path(nodeId),
        searchParams: { 'api-version': this.settings.apiVersion },
        signal,
      }),
      this.id,
      'VM',
    );
    return (raw.tags ?? {}) as Record<string, string>;
  }

  async #patchTags(
    nodeId: string,
    tags: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Operation<void> | undefined> {
    const res = await this.http.request({
      method: 'PATCH',
      url: this.#path(nodeId),
      searchParams: { 'api-version': this.settings.apiVersion },
      json: { tags },
      signal,
      idempotent: true,
    });
    return this.#operation(res, 'setTags');
  }

  /** The ARM operation an accepted call answered with, or `undefined` when the answer means done. */
  #operation(res: ProviderResponse, action: string): Operation<void> | undefined {
    const ref = azureOperationRef(this.http, res);
    if (!ref) return undefined;
    return this.pollOperation({
      id: ref.url.split('?')[0]?.split('/').pop() ?? action,
      action,
      intervalMs: 2_000,
      poll: (signal) => pollAzureOperation(this.http, ref, signal),
    });
  }

  /** Locations of the subscription (`/subscriptions/{s}/locations`). */
  listLocations(opts?: ListCatalogOptions): AsyncIterable<NodeLocation> {
    const path = `subscriptions/${encodeURIComponent(this.settings.subscriptionId)}/locations`;
    return this.listCatalog(
      armPager(this.http, path, '2022-12-01'),
      (raw) => azureLocation(this.id, raw),
      opts,
    );
  }

  /** Delete a VM; the operation follows ARM's async operation. NICs, IPs and disks stay unless created with `deleteOption: Delete`. */
  async destroyNode(id: string, opts: AbortOptions = {}): Promise<Operation<void>> {
    const res = await this.http.request({
      method: 'DELETE',
      url: this.#path(id),
      searchParams: { 'api-version': this.settings.apiVersion },
      signal: opts.signal,
    });
    return this.#operation(res, 'destroy') ?? this.goneOperation(id);
  }

  /**
   * `start`, `restart` or `powerOff` (graceful; `graceful: false` adds `skipShutdown=true`), followed
   * through ARM's async operation and then the VM's power state. A powered-off VM is still billed.
   */
  protected async powerAction(
    id: string,
    operation: PowerOperation,
    { signal, graceful }: PowerContext,
  ): Promise<Operation<Node>> {
    const res = await this.http.request({
      method: 'POST',
      url: `${this.#path(id)}/${POWER_VERBS[operation]}`,
      searchParams: {
        'api-version': this.settings.apiVersion,
        skipShutdown: operation === 'stop' && !graceful ? 'true' : undefined,
      },
      signal,
    });
    const target = POWER_TARGET_STATES[operation];
    const op = this.#operation(res, operation);
    return op ? this.thenNode(op, id, target) : this.stateOperation(id, operation, target);
  }

  protected toNode(value: unknown, addresses?: AzureAddresses): Node {
    const raw = asObject(value, this.id, 'VM') as VmJson;
    const props = raw.properties ?? {};
    const armId = str(raw.id) ?? '';
    const resourceGroup = /\/resourceGroups\/([^/]+)\//i.exec(armId)?.[1];
    const name = str(raw.name) ?? '';
    const { state, rawState, powerState } = azureState(props.instanceView?.statuses, props.provisioningState);
    const ref = props.storageProfile?.imageReference;
    const image = ref
      ? ref.publisher !== undefined
        ? [ref.publisher, ref.offer, ref.sku, ref.version].map((x) => str(x) ?? '').join(':')
        : str(ref.id)?.split('/').pop()
      : undefined;
    const tags = raw.tags && typeof raw.tags === 'object' ? (raw.tags as Record<string, unknown>) : {};
    const extra = pickExtra(
      {
        armId,
        resourceGroup,
        vmId: props.vmId,
        provisioningState: props.provisioningState,
        powerState,
        osType: props.storageProfile?.osDisk?.osType,
        priority: props.priority,
      },
      ['armId', 'resourceGroup', 'vmId', 'provisioningState', 'powerState', 'osType', 'priority'],
    );
    return this.node({
      id: `${resourceGroup ?? ''}/${name}`,
      name,
      state,
      rawState,
      region: str(raw.location),
      zone: Array.isArray(raw.zones) ? str(raw.zones[0]) : undefined,
      // IPs live on network interfaces (see the `addresses` option).
      publicIps: [...(addresses?.publicIps ?? [])],
      privateIps: [...(addresses?.privateIps ?? [])],
      size: str(props.hardwareProfile?.vmSize),
      image,
      createdAt: parseDate(props.timeCreated),
      tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)])),
      extra,
    });
  }
}

export { AZURE_STATES, azureState } from './azure-vm.js';
