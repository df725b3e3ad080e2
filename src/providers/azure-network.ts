/**
 * Azure VM addresses without a call per VM: the subscription's network interfaces and public IP
 * addresses are listed once each (paged), and joined to VMs by id. `getNode` reads one VM's NICs.
 */
import {
  asArray,
  asObject,
  type FetchPage,
  type ProviderHttpClient,
  paginateProvider,
  str,
} from './kit/index.js';

/** The addresses of one VM. */
export interface AzureAddresses {
  publicIps: string[];
  privateIps: string[];
}

/** Addresses by lower-cased VM resource id (ARM ids differ in case between APIs). */
export type AzureAddressBook = Map<string, AzureAddresses>;

interface IpConfiguration {
  properties?: {
    privateIPAddress?: unknown;
    publicIPAddress?: { id?: unknown; properties?: { ipAddress?: unknown } };
  };
}

const configsOf = (nic: unknown): IpConfiguration[] => {
  const list = (nic as { properties?: { ipConfigurations?: unknown } } | undefined)?.properties
    ?.ipConfigurations;
  return Array.isArray(list) ? (list as IpConfiguration[]) : [];
};

const pushUnique = (list: string[], ip: string | undefined) => {
  if (ip !== undefined && ip !== '' && !list.includes(ip)) list.push(ip);
};

/** Join NIC and public-IP list items into an address book (pure). */
export function azureAddressBook(nics: readonly unknown[], publicIps: readonly unknown[]): AzureAddressBook {
  const pipById = new Map<string, string>();
  for (const pip of publicIps) {
    const p = pip as { id?: unknown; properties?: { ipAddress?: unknown } } | undefined;
    const id = str(p?.id);
    const ip = str(p?.properties?.ipAddress);
    if (id !== undefined && ip !== undefined) pipById.set(id.toLowerCase(), ip);
  }
  const book: AzureAddressBook = new Map();
  for (const nic of nics) {
    const vmId = str(
      (nic as { properties?: { virtualMachine?: { id?: unknown } } })?.properties?.virtualMachine?.id,
    );
    if (vmId === undefined) continue;
    const key = vmId.toLowerCase();
    const entry = book.get(key) ?? { publicIps: [], privateIps: [] };
    for (const cfg of configsOf(nic)) {
      const priv = str(cfg.properties?.privateIPAddress);
      // A NIC's private address is private by role, whatever its range.
      pushUnique(entry.privateIps, priv);
      const pipId = str(cfg.properties?.publicIPAddress?.id);
      const inline = str(cfg.properties?.publicIPAddress?.properties?.ipAddress);
      pushUnique(entry.publicIps, inline ?? (pipId ? pipById.get(pipId.toLowerCase()) : undefined));
    }
    book.set(key, entry);
  }
  return book;
}

/**
 * The pager of an ARM list: `api-version` (and `params`, such as `$filter`) on the first page, then
 * the `nextLink` URL (same origin only).
 */
export function armPager(
  http: ProviderHttpClient,
  path: string,
  apiVersion: string,
  params: Record<string, string | undefined> = {},
): FetchPage<unknown> {
  return async (cursor, { signal }) => {
    const body = asObject(
      await http.json(
        cursor
          ? { url: cursor, signal }
          : { url: path, searchParams: { 'api-version': apiVersion, ...params }, signal },
      ),
      http.provider,
      'list',
    );
    const next = str(body.nextLink);
    return {
      items: asArray(body.value, http.provider, 'value'),
      next: next ? http.resolveLink(next) : undefined,
    };
  };
}

/** Every item of a paged ARM list (`value` + `nextLink`), with the pagination loop guard. */
export async function armListAll(
  http: ProviderHttpClient,
  path: string,
  apiVersion: string,
  signal?: AbortSignal,
): Promise<unknown[]> {
  const items: unknown[] = [];
  for await (const page of paginateProvider(armPager(http, path, apiVersion), {
    provider: http.provider,
    signal,
  }))
    items.push(...page);
  return items;
}

/** The subscription's address book: one paged NIC listing and one paged public-IP listing, at once. */
export async function fetchAzureAddressBook(
  http: ProviderHttpClient,
  subscriptionId: string,
  apiVersion: string,
  signal?: AbortSignal,
): Promise<AzureAddressBook> {
  const base = `subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Network`;
  const [nics, pips] = await Promise.all([
    armListAll(http, `${base}/networkInterfaces`, apiVersion, signal),
    armListAll(http, `${base}/publicIPAddresses`, apiVersion, signal),
  ]);
  return azureAddressBook(nics, pips);
}

/** One VM's addresses from its NIC ids (for `getNode`: one request per NIC and per public IP). */
export async function fetchVmAddresses(
  http: ProviderHttpClient,
  nicIds: readonly string[],
  apiVersion: string,
  signal?: AbortSignal,
): Promise<AzureAddresses> {
  const out: AzureAddresses = { publicIps: [], privateIps: [] };
  for (const nicId of nicIds) {
    const nic = await http.json({
      url: nicId.replace(/^\//, ''),
      searchParams: { 'api-version': apiVersion },
      signal,
    });
    for (const cfg of configsOf(nic)) {
      pushUnique(out.privateIps, str(cfg.properties?.privateIPAddress));
      const pipId = str(cfg.properties?.publicIPAddress?.id);
      if (pipId === undefined) continue;
      const pip = await http.json<{ properties?: { ipAddress?: unknown } }>({
        url: pipId.replace(/^\//, ''),
        searchParams: { 'api-version': apiVersion },
        signal,
      });
      pushUnique(out.publicIps, str(pip?.properties?.ipAddress));
    }
  }
  return out;
}
