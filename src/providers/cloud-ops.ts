/**
 * Small helpers the Hetzner and Vultr adapters share that the adapter kit does not offer yet: a
 * paged catalogue listing, an operation followed by a node lookup, and a key-pair lookup by name.
 * Each is one function so it can move into `kit/` unchanged.
 */
import { type AbortOptions, type Clock, positiveNumber, systemClock } from '../core.js';
import { FleetwatchError, isFleetwatchError, validationError } from '../errors.js';
import { checkWaitOptions } from './kit/operation.js';
import type { NodeLifecycleOperation, ProviderWith } from './kit/options.js';
import { type ProviderPage, paginateProvider } from './kit/paginate.js';
import type { KeyPair, ListCatalogOptions, Node, Operation, StopNodeOptions, WaitOptions } from './types.js';

/** One page of a catalogue listing: `cursor` is `undefined` for the first. */
export type CatalogueFetch = (
  cursor: string | undefined,
  ctx: { page: number; signal?: AbortSignal },
) => Promise<ProviderPage<unknown>>;

/**
 * Every item of a paged catalogue listing, translated, with the kit's loop guards (a repeated
 * cursor or too many pages raise `E_PROVIDER`).
 *
 * @example
 * ```ts
 * declare const fetchPage: CatalogueFetch;
 * for await (const id of listPaged('hz', fetchPage, (raw) => String(raw), {})) console.log(id);
 * ```
 */
export async function* listPaged<T>(
  provider: string,
  fetchPage: CatalogueFetch,
  translate: (raw: unknown) => T | undefined,
  opts: ListCatalogOptions = {},
): AsyncGenerator<T, void, undefined> {
  for await (const page of paginateProvider(fetchPage, {
    provider,
    signal: opts.signal,
    onPage: opts.onPage ? ({ page: n, nodes }) => opts.onPage?.({ page: n, items: nodes }) : undefined,
  })) {
    for (const raw of page) {
      const item = translate(raw);
      if (item !== undefined) yield item;
    }
  }
}

/**
 * An {@link Operation} that waits for `first`, then runs `then` within what is left of the same
 * `timeoutMs` (a provider action, then the node it changed, under one deadline).
 *
 * @example
 * ```ts
 * declare const action: Operation<void>;
 * declare const getNode: (wait: WaitOptions) => Promise<Node>;
 * const op = followedBy(action, 'start', (_, wait) => getNode(wait));
 * ```
 */
export function followedBy<A, T>(
  first: Operation<A>,
  action: string,
  then: (value: A, wait: WaitOptions) => Promise<T>,
  clock: Clock = systemClock,
): Operation<T> {
  return {
    id: first.id,
    action,
    done: async (opts) => {
      const { timeoutMs } = checkWaitOptions(opts, 1);
      const start = clock.now();
      const value = await first.done(opts);
      const left = timeoutMs - (clock.now() - start);
      if (left <= 0)
        throw new FleetwatchError('E_TIMEOUT', `${action} ${first.id}: not finished after ${timeoutMs} ms`, {
          details: { operation: first.id, action },
        });
      return then(value, { ...opts, timeoutMs: left });
    },
  };
}

/**
 * The key pair called `name` among `keys`, or `E_NOT_FOUND` (for APIs that take a key's id where
 * fleetwatch's callers give its name).
 */
export async function keyPairByName(
  provider: string,
  keys: AsyncIterable<KeyPair>,
  name: string,
  path: string,
): Promise<KeyPair> {
  for await (const key of keys) if (key.name === name) return key;
  throw new FleetwatchError('E_NOT_FOUND', `${provider}: no key pair named ${JSON.stringify(name)}`, {
    provider,
    path,
  });
}

/**
 * A provider whose every node operation and catalogue listing is present and whose mutating calls
 * always return an {@link Operation} (what `hetzner()` and `vultr()` return).
 */
export interface ManagedProvider
  extends ProviderWith<
    | NodeLifecycleOperation
    | 'listImages'
    | 'listSizes'
    | 'listLocations'
    | 'listKeyPairs'
    | 'importKeyPair'
    | 'deleteKeyPair'
    | 'waitForState'
  > {
  setTags(nodeId: string, tags: Record<string, string>, opts?: AbortOptions): Promise<Operation<void>>;
  removeTags(nodeId: string, keys: string[], opts?: AbortOptions): Promise<Operation<void>>;
  rebootNode(id: string, opts?: AbortOptions): Promise<Operation<Node>>;
  startNode(id: string, opts?: AbortOptions): Promise<Operation<Node>>;
  stopNode(id: string, opts?: StopNodeOptions): Promise<Operation<Node>>;
  destroyNode(id: string, opts?: AbortOptions): Promise<Operation<void>>;
}

/** A graceful stop's default grace before the hard power-off (OpenStack's `shutdown_timeout`). */
export const DEFAULT_GRACE_MS = 60_000;

/** `stopNode`'s options checked: `graceful` defaults to true, the grace (`timeoutMs`) to 60 s. */
export function stopRequest(opts: StopNodeOptions | undefined): {
  graceful: boolean;
  graceMs: number;
  signal?: AbortSignal;
} {
  if (opts === undefined) return { graceful: true, graceMs: DEFAULT_GRACE_MS };
  if (typeof opts !== 'object' || opts === null) throw validationError('opts', 'an object', opts);
  if (opts.graceful !== undefined && typeof opts.graceful !== 'boolean')
    throw validationError('opts.graceful', 'a boolean', opts.graceful);
  const graceMs =
    opts.timeoutMs === undefined ? DEFAULT_GRACE_MS : positiveNumber(opts.timeoutMs, 'opts.timeoutMs');
  return { graceful: opts.graceful ?? true, graceMs, ...(opts.signal ? { signal: opts.signal } : {}) };
}

/**
 * A stop that is graceful first and hard once `graceMs` (counted from now) ran out: `done()` waits
 * for `graceful` while the grace lasts, then issues `hard` (once) and waits for it, all within the
 * caller's `timeoutMs`. The power-off happens while someone waits in `done()`.
 *
 * @example
 * ```ts
 * declare const shutdown: Operation<Node>;
 * declare const powerOff: (signal?: AbortSignal) => Promise<Operation<Node>>;
 * const node = await gracefulStop(shutdown, powerOff, 60_000).done({ timeoutMs: 300_000 });
 * ```
 */
export function gracefulStop(
  graceful: Operation<Node>,
  hard: (signal?: AbortSignal) => Promise<Operation<Node>>,
  graceMs: number,
  clock: Clock = systemClock,
): Operation<Node> {
  const graceEnds = clock.now() + graceMs;
  let hardOp: Promise<Operation<Node>> | undefined;
  return {
    id: graceful.id,
    action: 'stop',
    done: async (opts) => {
      const { timeoutMs, signal } = checkWaitOptions(opts, 1);
      const start = clock.now();
      const graceLeft = graceEnds - start;
      if (hardOp === undefined && graceLeft > 0) {
        try {
          return await graceful.done({ ...opts, timeoutMs: Math.min(graceLeft, timeoutMs) });
        } catch (err) {
          // The caller's own deadline came first: the grace is not over, so no power-off yet.
          if (!isFleetwatchError(err, 'E_TIMEOUT') || timeoutMs < graceLeft) throw err;
        }
      }
      if (hardOp === undefined) {
        hardOp = hard(signal);
        hardOp.catch(() => {
          hardOp = undefined;
        });
      }
      const op = await hardOp;
      const left = timeoutMs - (clock.now() - start);
      if (left <= 0)
        throw new FleetwatchError('E_TIMEOUT', `stop ${graceful.id}: not finished after ${timeoutMs} ms`, {
          details: { operation: graceful.id, action: 'stop' },
        });
      return op.done({ ...opts, timeoutMs: left });
    },
  };
}
