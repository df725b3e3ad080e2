/**
 * Azure Resource Manager adapter: virtual machines as nodes. Client-credentials token from the
 * authority host, the subscription-wide VM list following `nextLink`, power state from the same
 * list (`statusOnly=true`, no call per VM), tags written with PATCH. A node's id is
 * `<resourceGroup>/<vmName>`. Catalogue in azure-catalog.ts, `createNode`'s parts in azure-create.ts,
 * option checking in azure-options.ts.
 */

import type { AbortOptions } from '../core.js';
import { validationError } from '../errors.js';
import {
  AZURE_IMAGE_FILTERS,
  AZURE_SKUS_API_VERSION,
  azureImageSources,
  azureKeyPair,
  azureSize,
  azureSizesLocation,
  findAzureKey,
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
import { azureLocation, azureNodeFields, checkTags, type VmJson } from './azure-vm.js';
import {
  asObject,
  type ComputeTags,
  type CreateNodeInput,
  catalogOptionsArg,
  createInputArg,
  imagesOptionsArg,
  type KeyPair,
  keyPairId,
  keyPairInputArg,
  type ListCatalogOptions,
  type ListImagesOptions,
  type ListNodesOptions,
  type ManagedProvider,
  type Node,
  type NodeImage,
  type NodeLocation,
  type NodeSize,
  nodeIdArg,
  nodesFromPages,
  type Operation,
  type PageContext,
  POWER_TARGET_STATES,
  type PowerContext,
  type PowerOperation,
  type ProviderResponse,
  type RawPage,
  str,
  undefinedIfNotFound,
  WholeTagSetAdapter,
} from './kit/index.js';

export type { AzureOptions, AzurePowerStateMode } from './azure-options.js';

const POWER_VERBS = { reboot: 'restart', start: 'start', stop: 'powerOff' } satisfies Record<
  PowerOperation,
  string
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
export function azure(options: AzureOptions): ManagedProvider {
  const { base, http, settings } = azureSetup(options);
  return new AzureAdapter(base, http, settings);
}

class AzureAdapter extends WholeTagSetAdapter<AzureSettings> implements ManagedProvider {
  readonly kind = 'azure' as const;

  protected fetchPage(cursor: string | undefined, ctx: PageContext): Promise<RawPage> {
    const { apiVersion, powerState } = this.settings;
    const path = `${this.#sub()}/providers/Microsoft.Compute/virtualMachines`;
    const statusOnly = powerState === 'list' ? 'true' : undefined;
    return armPager(this.http, path, apiVersion, { statusOnly })(cursor, ctx);
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

  /** Read the VM's tags, then PATCH the new set (followed through ARM's operation when accepted). */
  protected async updateTags(
    nodeId: string,
    compute: ComputeTags,
    signal?: AbortSignal,
  ): Promise<Operation<void> | undefined> {
    const url = this.#path(nodeId);
    const searchParams = { 'api-version': this.settings.apiVersion };
    const raw = asObject(await this.http.json({ url, searchParams, signal }), this.id, 'VM');
    const tags = compute((raw.tags ?? {}) as Record<string, string>);
    const res = await this.http.request({
      method: 'PATCH',
      url,
      searchParams,
      json: { tags },
      signal,
      idempotent: true,
    });
    return this.#operation(res, 'setTags');
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
    return `${this.#sub()}/resourceGroups/${encodeURIComponent(rg)}/providers/Microsoft.Compute/virtualMachines/${encodeURIComponent(name)}`;
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
    const sources = azureImageSources(this.http, req, this.#sub(), this.settings.apiVersion);
    const self = this;
    return (async function* () {
      for (const { pager, toItem } of sources) yield* self.listCheckedCatalog(pager, toItem, req);
    })();
  }

  /**
   * VM sizes from Resource SKUs, following `nextLink`; `filters.location` asks for one location's
   * (`$filter=location eq '…'`), otherwise each size comes once. No price (Retail Prices API).
   */
  listSizes(opts?: ListCatalogOptions): AsyncIterable<NodeSize> {
    const req = catalogOptionsArg(opts, ['location']);
    const location = azureSizesLocation(req.filters.location);
    const seen = new Set<string>();
    return this.listCheckedCatalog(
      armPager(this.http, `${this.#sub()}/providers/Microsoft.Compute/skus`, AZURE_SKUS_API_VERSION, {
        $filter: location === undefined ? undefined : `location eq '${location}'`,
      }),
      (raw) => {
        const size = azureSize(this.id, raw);
        if (size === undefined || seen.has(size.id)) return undefined;
        seen.add(size.id);
        return size;
      },
      req,
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
      url: keyPairId(key, this.id).replace(/^\//, ''),
      searchParams: { 'api-version': this.settings.apiVersion },
      signal: opts.signal,
    });
  }

  #findKey(name: string, signal?: AbortSignal): Promise<KeyPair> {
    const keys = this.listKeyPairs(signal ? { signal } : {});
    return findAzureKey(keys, name, this.settings.resourceGroup, this.id);
  }

  /**
   * Create a VM with `PUT` and return it (usually `pending`; use `waitForState`, which rejects with
   * `E_PROVIDER` if provisioning fails). The NIC is `extra.networkInterfaceId`, or one made in
   * `extra.subnetId` (with a public IP when `extra.publicIp`), followed to the end first.
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const { location, resourceGroup } = this.settings;
    const placed = input?.location ?? input?.zone ?? input?.region;
    const req = createInputArg(
      placed === undefined && location !== undefined ? { ...input, location } : input,
      { cloud: 'Azure', extraKeys: AZURE_CREATE_EXTRA_KEYS },
    );
    checkTags(req.tags);
    const plan = azureCreatePlan(req, resourceGroup);
    const id = `${plan.resourceGroup}/${req.name}`;
    const path = this.#path(id);
    const key = req.keyPair === undefined ? undefined : await this.#findKey(req.keyPair, opts.signal);
    if (key && key.publicKey === undefined)
      throw validationError('input.keyPair', 'a key pair with a public key', req.keyPair);
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
    return this.listCatalog(
      armPager(this.http, `${this.#sub()}/locations`, '2022-12-01'),
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
    return this.node(azureNodeFields(asObject(value, this.id, 'VM') as VmJson, addresses));
  }
}

export { AZURE_STATES, azureState } from './azure-vm.js';
