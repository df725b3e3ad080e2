/**
 * Azure Resource Manager adapter: virtual machines as nodes. Client-credentials token from the
 * authority host, the subscription-wide VM list following `nextLink`, power state from the same
 * list (`statusOnly=true`, no call per VM), tags written with PATCH. A node's id is
 * `<resourceGroup>/<vmName>`.
 */

import type { AbortOptions } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import {
  AZURE_IMAGE_FILTERS,
  AZURE_SKUS_API_VERSION,
  armArrayPager,
  azureKeyPair,
  azureMarketplaceImage,
  azureOwnImage,
  azureSize,
  azureSizesLocation,
  marketplacePath,
} from './azure-catalog.js';
import {
  AZURE_CREATE_EXTRA_KEYS,
  azureCreatePlan,
  azureNetworkInterface,
  azureVmBody,
} from './azure-create.js';
import {
  type AzureAddressBook,
  type AzureAddresses,
  armPager,
  fetchAzureAddressBook,
  fetchVmAddresses,
} from './azure-network.js';
import { azureOperationRef, pollAzureOperation } from './azure-operation.js';
import { type AzureOptions, type AzureSettings, azureSetup } from './azure-options.js';
import { azureLocation, azureState, checkTags, type VmJson } from './azure-vm.js';
import {
  asArray,
  asObject,
  type CatalogOperation,
  type ComputeTags,
  createInputArg,
  imagesOptionsArg,
  type KeyPairOperation,
  keyPairInputArg,
  type NodeLifecycleOperation,
  nodeIdArg,
  nodesFromPages,
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
import type {
  CreateNodeInput,
  KeyPair,
  ListCatalogOptions,
  ListImagesOptions,
  ListNodesOptions,
  Node,
  NodeImage,
  NodeLocation,
  NodeSize,
  Operation,
} from './types.js';

export type { AzureOptions, AzurePowerStateMode } from './azure-options.js';

const POWER_VERBS = { reboot: 'restart', start: 'start', stop: 'powerOff' } satisfies Record<
  PowerOperation,
  string
>;

/** Options of an Azure `listSizes`: `filters.location` lists one location's sizes (`$filter=location eq '…'`). */
export interface AzureListSizesOptions extends ListCatalogOptions {
  filters?: { location?: string };
}

/** What `azure()` returns: a {@link Provider} with these optional operations present. */
export type AzureProvider = ProviderWith<
  NodeLifecycleOperation | CatalogOperation | KeyPairOperation | 'waitForState'
> & { listSizes(opts?: AzureListSizesOptions): AsyncIterable<NodeSize> };

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
  const { base, http, settings } = azureSetup(options);
  return new AzureAdapter(base, http, settings);
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

  /** `subscriptions/{s}`, the start of every path. */
  #sub(): string {
    return `subscriptions/${encodeURIComponent(this.settings.subscriptionId)}`;
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

  /**
   * Images: the account's own (`Microsoft.Compute/images`, ARM ids) by default, `filters.location`
   * keeping one location's; `owner: 'public'` lists one marketplace SKU's versions (URN ids) and
   * needs `filters` `location`, `publisher`, `offer` and `sku` (an unbounded walk is refused with
   * `E_VALIDATION`); `'all'` gives both.
   */
  listImages(opts?: ListImagesOptions): AsyncIterable<NodeImage> {
    const req = imagesOptionsArg(opts, AZURE_IMAGE_FILTERS);
    const { apiVersion } = this.settings;
    const market = req.owner === 'self' ? undefined : marketplacePath(req);
    if (req.owner === 'self')
      for (const f of ['publisher', 'offer', 'sku'])
        if (req.filters[f] !== undefined)
          throw validationError(`opts.filters.${f}`, "nothing for own images (use owner: 'public')", f);
    const where = req.filters.location?.toLowerCase();
    const compute = `${this.#sub()}/providers/Microsoft.Compute`;
    const self = this;
    return (async function* () {
      if (req.owner !== 'public')
        yield* self.listCatalog(
          armPager(self.http, `${compute}/images`, apiVersion),
          (raw) => {
            const image = azureOwnImage(self.id, raw);
            return where === undefined || String(image.extra.location).toLowerCase() === where
              ? image
              : undefined;
          },
          req,
        );
      if (market)
        yield* self.listCatalog(
          armArrayPager(self.http, `${compute}/${market}`, apiVersion),
          (raw) => azureMarketplaceImage(self.id, raw, req),
          req,
        );
    })();
  }

  /**
   * VM sizes from Resource SKUs, following `nextLink`; `filters.location` asks for one location's
   * (`$filter=location eq '…'`), otherwise each size comes once. No price (Retail Prices API).
   */
  listSizes(opts?: AzureListSizesOptions): AsyncIterable<NodeSize> {
    const location = azureSizesLocation(opts);
    const seen = new Set<string>();
    return this.listCatalog(
      armPager(this.http, `${this.#sub()}/providers/Microsoft.Compute/skus`, AZURE_SKUS_API_VERSION, {
        $filter: location === undefined ? undefined : `location eq '${location}'`,
      }),
      (raw) => {
        const size = azureSize(this.id, raw);
        if (size === undefined || seen.has(size.id)) return undefined;
        seen.add(size.id);
        return size;
      },
      opts,
    );
  }

  /** The subscription's SSH public keys (`Microsoft.Compute/sshPublicKeys`). */
  listKeyPairs(opts?: ListCatalogOptions): AsyncIterable<KeyPair> {
    return this.listCatalog(
      armPager(
        this.http,
        `${this.#sub()}/providers/Microsoft.Compute/sshPublicKeys`,
        this.settings.apiVersion,
      ),
      (raw) => azureKeyPair(this.id, raw),
      opts,
    );
  }

  /** Import a key as an `sshPublicKeys` resource in the `resourceGroup` and `location` options. */
  async importKeyPair(input: { name: string; publicKey: string }, opts: AbortOptions = {}): Promise<KeyPair> {
    const { name, publicKey } = keyPairInputArg(input);
    const { resourceGroup, location } = this.settings;
    if (resourceGroup === undefined)
      throw validationError('options.resourceGroup', 'a resource group for imported keys', undefined);
    if (location === undefined)
      throw validationError('options.location', 'a location for imported keys', undefined);
    const body = await this.http.json({
      method: 'PUT',
      url: `${this.#sub()}/resourceGroups/${encodeURIComponent(resourceGroup)}/providers/Microsoft.Compute/sshPublicKeys/${encodeURIComponent(name)}`,
      searchParams: { 'api-version': this.settings.apiVersion },
      json: { location, properties: { publicKey } },
      signal: opts.signal,
    });
    return azureKeyPair(this.id, body);
  }

  /** Delete a key by name (looked up in the listing: it may be in any resource group). */
  async deleteKeyPair(name: string, opts: AbortOptions = {}): Promise<void> {
    const key = await this.#findKey(nodeIdArg(name, 'name'), opts.signal);
    await this.http.request({
      method: 'DELETE',
      url: (key.id ?? '').replace(/^\//, ''),
      searchParams: { 'api-version': this.settings.apiVersion },
      signal: opts.signal,
    });
  }

  /** The one key of this name; in several resource groups, the one in the `resourceGroup` option. */
  async #findKey(name: string, signal?: AbortSignal): Promise<KeyPair> {
    const found: KeyPair[] = [];
    for await (const key of this.listKeyPairs(signal ? { signal } : {}))
      if (key.name.toLowerCase() === name.toLowerCase()) found.push(key);
    const rg = this.settings.resourceGroup?.toLowerCase();
    const pick =
      found.length > 1 ? found.filter((k) => String(k.extra.resourceGroup).toLowerCase() === rg) : found;
    if (pick.length === 1 && pick[0]) return pick[0];
    throw new FleetwatchError(
      found.length ? 'E_VALIDATION' : 'E_NOT_FOUND',
      found.length
        ? `${this.id}: SSH public keys named "${name}" are in several resource groups (set options.resourceGroup)`
        : `${this.id}: no SSH public key named "${name}"`,
      { provider: this.id, path: 'keyPair' },
    );
  }

  /**
   * Create a VM with `PUT` and return it (usually `pending`; use `waitForState`, which rejects with
   * `E_PROVIDER` if provisioning fails). The NIC is `extra.networkInterfaceId`, or one made in
   * `extra.subnetId` (with a public IP when `extra.publicIp`), followed to the end first.
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const { location, resourceGroup } = this.settings;
    const req = createInputArg(
      input.location === undefined && location !== undefined ? { ...input, location } : input,
      { cloud: 'Azure', extraKeys: AZURE_CREATE_EXTRA_KEYS },
    );
    checkTags(req.tags);
    const plan = azureCreatePlan(req, resourceGroup);
    const id = `${plan.resourceGroup}/${req.name}`;
    const path = this.#path(id);
    const key = req.keyPair === undefined ? undefined : await this.#findKey(req.keyPair, opts.signal);
    const nic = await azureNetworkInterface(
      {
        http: this.http,
        subscriptionId: this.settings.subscriptionId,
        networkApiVersion: this.settings.networkApiVersion,
        follow: async (res, action, signal) => this.#operation(res, action)?.done(signal ? { signal } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      plan,
      req.name,
    );
    const body = await this.http.json({
      method: 'PUT',
      url: path,
      searchParams: { 'api-version': this.settings.apiVersion },
      json: azureVmBody(req, plan, nic, key?.publicKey),
      signal: opts.signal,
    });
    return this.toNode(body);
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

  /**
   * Delete a VM; the operation follows ARM's async operation. What goes with it is what the VM was
   * created with `deleteOption: Delete` for: with `createNode`, the OS disk and a NIC it made; a
   * given NIC and any public IP stay.
   */
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
