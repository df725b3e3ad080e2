/**
 * Name resolution for checks off the libuv thread pool: a `lookup` function for `net`/`http` built on
 * `dns.promises.Resolver` (c-ares) with a TTL-bounded cache, falling back to the system resolver
 * (`dns.lookup`, which reads /etc/hosts) for names DNS does not know, such as `localhost`.
 */
import { lookup as systemLookup } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';

/** Options of {@link createCheckLookup}. */
export interface CheckLookupOptions {
  /** DNS servers (`ip` or `ip:port`). @default the system's */
  servers?: string[];
  /** Longest time an answer is cached, ms (the record TTL applies below it). @default 60000 */
  maxTtlMs?: number;
  /** Per-query timeout, ms. @default 2000 */
  timeoutMs?: number;
  /** Clock for cache expiry. @default Date.now */
  now?: () => number;
}

interface Entry {
  addresses: { address: string; family: 4 | 6 }[];
  expires: number;
}

/** A `lookup` for `net.connect` / `http.request` that resolves through c-ares with a TTL cache. */
export function createCheckLookup(
  options: CheckLookupOptions = {},
): LookupFunction & { cacheSize(): number } {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: 2 });
  if (options.servers) resolver.setServers(options.servers);
  const maxTtl = options.maxTtlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Entry>>();

  const resolve = async (host: string): Promise<Entry> => {
    const [v4, v6] = await Promise.allSettled([
      resolver.resolve4(host, { ttl: true }),
      resolver.resolve6(host, { ttl: true }),
    ]);
    const addresses: Entry['addresses'] = [];
    let ttl = maxTtl / 1000;
    if (v4.status === 'fulfilled')
      for (const r of v4.value) {
        addresses.push({ address: r.address, family: 4 });
        ttl = Math.min(ttl, r.ttl);
      }
    if (v6.status === 'fulfilled')
      for (const r of v6.value) {
        addresses.push({ address: r.address, family: 6 });
        ttl = Math.min(ttl, r.ttl);
      }
    if (addresses.length === 0) {
      // not in DNS (or DNS unreachable): ask the system resolver, which also reads /etc/hosts
      const sys = await new Promise<{ address: string; family: number }[]>((ok, fail) =>
        systemLookup(host, { all: true }, (err, list) => (err ? fail(err) : ok(list))),
      );
      for (const a of sys) addresses.push({ address: a.address, family: a.family === 6 ? 6 : 4 });
    }
    return { addresses, expires: now() + Math.max(0, ttl) * 1000 };
  };

  const get = (host: string): Promise<Entry> => {
    const hit = cache.get(host);
    if (hit && hit.expires > now()) return Promise.resolve(hit);
    let p = inflight.get(host);
    if (!p) {
      p = resolve(host)
        .then((e) => {
          if (e.expires > now()) cache.set(host, e);
          return e;
        })
        .finally(() => inflight.delete(host));
      inflight.set(host, p);
    }
    return p;
  };

  const lookup = ((
    hostname: string,
    opts: { family?: number | string; all?: boolean },
    callback: (err: NodeJS.ErrnoException | null, address: unknown, family?: number) => void,
  ) => {
    const want =
      opts.family === 6 || opts.family === 'IPv6' ? 6 : opts.family === 4 || opts.family === 'IPv4' ? 4 : 0;
    get(hostname).then(
      (entry) => {
        const list = want === 0 ? entry.addresses : entry.addresses.filter((a) => a.family === want);
        if (list.length === 0) {
          const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          err.code = 'ENOTFOUND';
          callback(err, opts.all ? [] : undefined);
          return;
        }
        if (opts.all) callback(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, opts.all ? [] : undefined),
    );
  }) as unknown as LookupFunction & { cacheSize(): number };
  lookup.cacheSize = () => cache.size;
  return lookup;
}

let shared: LookupFunction | undefined;

/** The lookup the built-in check types use (system DNS servers, 60 s cache cap), created on first use. */
export function defaultCheckLookup(): LookupFunction {
  shared ??= createCheckLookup();
  return shared;
}
