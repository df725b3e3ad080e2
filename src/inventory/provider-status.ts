/**
 * How each provider of an {@link Inventory} fared: the report of one listing, and the latest
 * success and error across syncs.
 */
import type { FleetwatchError } from '../errors.js';
import type { Provider } from '../providers/types.js';
import type { ProviderStatus } from './inventory-options.js';
import type { ProviderSyncReport } from './types.js';

/** A fresh report for one listing of provider `id`, every count 0. */
export function newProviderReport(id: string): ProviderSyncReport {
  return { provider: id, nodes: 0, pages: 0, durationMs: 0, added: 0, changed: 0, removed: 0 };
}

/** The latest successful listing time and the latest error of each provider. */
export class ProviderStatuses {
  readonly #status = new Map<string, { lastSuccessAt?: number; lastError?: FleetwatchError }>();

  /** A listing of `id` succeeded at `at` (epoch ms): its last error is cleared. */
  succeeded(id: string, at: number): void {
    this.#status.set(id, { lastSuccessAt: at });
  }

  /** A listing of `id` failed; returns the time of its last success, if any. */
  failed(id: string, error: FleetwatchError): number | undefined {
    const status = this.#status.get(id) ?? {};
    status.lastError = error;
    this.#status.set(id, status);
    return status.lastSuccessAt;
  }

  /** The status of every provider, in the order given, with its node count. */
  list(providers: readonly Provider[], countOf: (id: string) => number): ProviderStatus[] {
    return providers.map((p) => {
      const s = this.#status.get(p.id);
      const out: ProviderStatus = { provider: p.id, nodes: countOf(p.id) };
      if (s?.lastSuccessAt !== undefined) out.lastSuccessAt = s.lastSuccessAt;
      if (s?.lastError !== undefined) out.lastError = s.lastError;
      return out;
    });
  }
}
