/**
 * The option and status types of {@link Inventory}, and their normalisation: defaults applied once
 * and every field checked at the boundary.
 */
import { type Clock, type Logger, loggerAndClock, positiveNumber, rejectUnknownKeys } from '../core.js';
import { type FleetwatchError, validationError } from '../errors.js';
import { requireTenant } from '../naming.js';
import type { Provider } from '../providers/types.js';
import { type InventoryStore, MemoryInventoryStore } from './inventory-store.js';

/** Options of `new Inventory()`. */
export interface InventoryOptions {
  /** The providers to list. Their ids must be unique. */
  readonly providers: readonly Provider[];
  /** Where nodes and local tags are kept. @default a new MemoryInventoryStore */
  readonly store?: InventoryStore;
  /** How many providers are listed at once. @default 4 (Minimum: 1) */
  readonly concurrency?: number;
  /** Deadline for one provider's whole listing, in ms. @default 120000 */
  readonly providerTimeoutMs?: number;
  /** Per-provider deadlines (provider id → ms) overriding `providerTimeoutMs`. @default {} */
  readonly providerTimeouts?: Readonly<Record<string, number>>;
  /**
   * Grace period: a failed listing marks the provider's nodes stale only once its last successful
   * listing is at least this old (ms). @default 0 (stale at the first failure)
   */
  readonly staleAfterMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly logger?: Logger;
  /** Also push local tags to the provider (`provider.setTags` / `removeTags`) where it has them. @default false */
  readonly writeThrough?: boolean;
  /** Tenant name in the store: 1-64 of `[A-Za-z0-9_.-]`. @default 'default' */
  readonly tenant?: string;
}

/** Options of `inv.start()`. */
export interface InventoryStartOptions {
  /** Time between the end of one sync and the start of the next, in ms (Minimum: 1). */
  intervalMs: number;
  /** Random spread of each interval, as a fraction (0.1 = ±10%). @default 0.1 */
  jitter?: number;
  /** Source of randomness for the jitter, returning [0, 1). @default Math.random */
  random?: () => number;
}

/** How a provider fared in its latest listing. */
export interface ProviderStatus {
  provider: string;
  /** Epoch ms of the last successful listing. */
  lastSuccessAt?: number;
  /** The error of the latest listing, if it failed. */
  lastError?: FleetwatchError;
  /** Nodes currently held for this provider. */
  nodes: number;
}

/** The keys `new Inventory()` accepts. */
export const OPTION_KEYS = [
  'providers',
  'store',
  'concurrency',
  'providerTimeoutMs',
  'providerTimeouts',
  'staleAfterMs',
  'clock',
  'logger',
  'writeThrough',
  'tenant',
] as const;

/** {@link InventoryOptions} checked, with every default applied. */
export interface NormalizedInventoryOptions {
  readonly providers: readonly Provider[];
  readonly store: InventoryStore;
  /** True when the store was created here (no `store` option), so the inventory closes it. */
  readonly ownStore: boolean;
  readonly concurrency: number;
  /** Listing deadline (ms) of every provider, by id. */
  readonly timeouts: ReadonlyMap<string, number>;
  readonly staleAfterMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly writeThrough: boolean;
  readonly tenant: string;
}

/** Check the options of `new Inventory()` and apply the defaults; `E_VALIDATION` naming the field otherwise. */
export function normalizeInventoryOptions(options: InventoryOptions): NormalizedInventoryOptions {
  if (typeof options !== 'object' || options === null) throw validationError('options', 'an object', options);
  rejectUnknownKeys(options, OPTION_KEYS);
  if (!Array.isArray(options.providers))
    throw validationError('options.providers', 'an array of providers', options.providers);
  const ids = new Set<string>();
  options.providers.forEach((p: Provider, i: number) => {
    if (typeof p !== 'object' || p === null || typeof p.id !== 'string' || p.id === '')
      throw validationError(`options.providers[${i}].id`, 'a non-empty string', p?.id);
    if (typeof p.listNodes !== 'function')
      throw validationError(`options.providers[${i}].listNodes`, 'a function', p.listNodes);
    if (ids.has(p.id)) throw validationError(`options.providers[${i}].id`, 'a unique provider id', p.id);
    ids.add(p.id);
  });
  const providers = [...options.providers];
  const store = options.store;
  if (
    store !== undefined &&
    (typeof store !== 'object' || store === null || typeof store.load !== 'function')
  )
    throw validationError('options.store', 'an InventoryStore', store);
  const concurrency = positiveNumber(options.concurrency ?? 4, 'options.concurrency', {
    integer: true,
    min: 1,
  });
  const timeoutMs = positiveNumber(options.providerTimeoutMs ?? 120_000, 'options.providerTimeoutMs', {
    min: 1,
  });
  const overrides = options.providerTimeouts ?? {};
  if (typeof overrides !== 'object' || overrides === null)
    throw validationError('options.providerTimeouts', 'an object of provider id → ms', overrides);
  for (const id of Object.keys(overrides)) {
    if (!ids.has(id)) throw validationError(`options.providerTimeouts.${id}`, 'a configured provider id', id);
    positiveNumber(overrides[id], `options.providerTimeouts.${id}`, { min: 1 });
  }
  const staleAfterMs =
    options.staleAfterMs === undefined
      ? 0
      : positiveNumber(options.staleAfterMs, 'options.staleAfterMs', { min: 0 });
  if (options.writeThrough !== undefined && typeof options.writeThrough !== 'boolean')
    throw validationError('options.writeThrough', 'a boolean', options.writeThrough);
  return Object.freeze({
    providers,
    store: store ?? new MemoryInventoryStore(),
    ownStore: store === undefined,
    concurrency,
    timeouts: new Map(providers.map((p) => [p.id, overrides[p.id] ?? timeoutMs])),
    staleAfterMs,
    ...loggerAndClock(options),
    writeThrough: options.writeThrough ?? false,
    tenant: requireTenant(options.tenant ?? 'default', 'options.tenant'),
  });
}

/** Check the options of `inv.start()` and apply the defaults. */
export function normalizeStartOptions(options: InventoryStartOptions): Required<InventoryStartOptions> {
  const intervalMs = positiveNumber(options?.intervalMs, 'options.intervalMs', { min: 1 });
  const jitter = options.jitter ?? 0.1;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1))
    throw validationError('options.jitter', 'a number in [0, 1)', jitter);
  return { intervalMs, jitter, random: options.random ?? Math.random };
}
