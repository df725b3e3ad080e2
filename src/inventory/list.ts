/**
 * Listing one provider under a deadline: every `next()` races the abort signal, so a provider that
 * ignores its signal still cannot hold a sync past its timeout.
 */
import { FleetwatchError, isFleetwatchError, throwIfAborted } from '../errors.js';
import type { Node, Provider } from '../providers/types.js';

/**
 * Run `consume` over every item of `iterable`, settling as soon as `signal` fires (with
 * `signal.reason`) even when the iterable ignores the signal. One race for the whole listing, not
 * one per item: items seen after the abort are not consumed, and the iterator is closed at its next
 * item.
 */
export async function consumeUntilAborted<T>(
  iterable: AsyncIterable<T>,
  signal: AbortSignal,
  consume: (item: T) => void,
): Promise<void> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  const listing = (async () => {
    for await (const item of iterable) {
      if (signal.aborted) return;
      consume(item);
    }
  })();
  listing.catch(() => {});
  aborted.catch(() => {});
  try {
    await Promise.race([listing, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

/** What {@link listWithDeadline} needs besides the provider. */
export interface ListingOptions {
  /** The caller's signal (a sync's). */
  readonly signal: AbortSignal | undefined;
  /** The deadline of the whole listing, in ms. */
  readonly timeoutMs: number;
  /** Called for every page the provider reports. */
  readonly onPage: (info: { page: number }) => void;
  /** Called for every listed node. */
  readonly onNode: (node: Node) => void;
}

/**
 * List one provider within `timeoutMs`, passing every node to `onNode`. Rejects with what the
 * provider threw, with `signal.reason` when the caller aborted, with an `E_TIMEOUT`
 * {@link FleetwatchError} past the deadline, and with `E_MALFORMED_RESPONSE` when the provider lists
 * a value that is not a node.
 */
export async function listWithDeadline(p: Provider, opts: ListingOptions): Promise<void> {
  const { signal, timeoutMs, onPage, onNode } = opts;
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort(
      new FleetwatchError('E_TIMEOUT', `provider ${p.id}: listing took longer than ${timeoutMs} ms`, {
        provider: p.id,
      }),
    );
  }, timeoutMs);
  timer.unref();
  const listSignal = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
  try {
    throwIfAborted(signal);
    await consumeUntilAborted(p.listNodes({ signal: listSignal, onPage }), listSignal, (node) => {
      if (!isIndexableNode(node)) {
        throw new FleetwatchError(
          'E_MALFORMED_RESPONSE',
          `provider ${p.id}: listed a value that is not a node`,
          {
            provider: p.id,
          },
        );
      }
      onNode(node);
    });
  } catch (err) {
    throw deadline.signal.aborted ? deadline.signal.reason : err;
  } finally {
    clearTimeout(timer);
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
