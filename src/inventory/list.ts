/**
 * Listing one provider under a deadline: every `next()` races the abort signal, so a provider that
 * ignores its signal still cannot hold a sync past its timeout.
 */
import { FleetwatchError, isFleetwatchError } from '../errors.js';
import type { Node, Provider } from '../providers/types.js';

/** Iterate `iterable`, rejecting with `signal.reason` as soon as `signal` fires. */
export async function* raceSignal<T>(iterable: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = iterable[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  let finished = false;
  try {
    for (;;) {
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    if (!finished) it.return?.()?.catch?.(() => {});
  }
}

/** Turn anything a provider threw into a FleetwatchError carrying the provider id. */
export function providerError(provider: Provider, err: unknown): FleetwatchError {
  if (isFleetwatchError(err)) {
    if (err.provider !== undefined) return err;
    return new FleetwatchError(err.code, err.message, {
      cause: err,
      provider: provider.id,
      status: err.status,
      providerCode: err.providerCode,
      retryAfterMs: err.retryAfterMs,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new FleetwatchError('E_PROVIDER', `provider ${provider.id}: listing failed: ${message}`, {
    cause: err,
    provider: provider.id,
  });
}

/** True when a listed value looks like a {@link Node} well enough to index it. */
export function isIndexableNode(value: unknown): value is Node {
  if (typeof value !== 'object' || value === null) return false;
  const n = value as Partial<Node>;
  return (
    typeof n.uid === 'string' &&
    n.uid.length > 0 &&
    typeof n.id === 'string' &&
    typeof n.provider === 'string' &&
    typeof n.state === 'string' &&
    typeof n.tags === 'object' &&
    n.tags !== null &&
    Array.isArray(n.publicIps) &&
    Array.isArray(n.privateIps)
  );
}
