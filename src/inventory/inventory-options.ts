/**
 * The option and status types of {@link Inventory}.
 */
import type { AbortOptions, Clock, Logger } from '../core.js';
import type { FleetwatchError } from '../errors.js';
import type { Provider } from '../providers/types.js';
import type { InventoryStore } from './inventory-store.js';

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

/** Options of `inv.watch()`. */
export interface WatchOptions extends AbortOptions {
  /** Changes kept for a slow consumer before the oldest are dropped. @default 1000 */
  bufferSize?: number;
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
