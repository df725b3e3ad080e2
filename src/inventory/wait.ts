import { type AbortOptions, positiveNumber } from '../core.js';
import { abortError, FleetwatchError, isFleetwatchError, validationError } from '../errors.js';
import { NODE_STATES } from '../providers/types.js';
import type { Inventory } from './inventory.js';
import { compileQuery } from './query.js';
import type { InventoryNode } from './types.js';

/** Options of {@link Inventory.waitFor} (documented there). */
export type InventoryWaitOptions = NonNullable<Parameters<Inventory['waitFor']>[1]>;

/** What `waitForNodes` needs of the inventory. */
export interface WaitHost {
  query(query: string): InventoryNode[];
  on(event: 'synced' | 'added' | 'changed' | 'removed', fn: () => void): unknown;
  off(event: 'synced' | 'added' | 'changed' | 'removed', fn: () => void): unknown;
  sync(opts?: AbortOptions): Promise<unknown>;
}

const STATES: ReadonlySet<string> = new Set(NODE_STATES);

function checkWait(opts: InventoryWaitOptions | undefined) {
  if (opts === undefined) opts = {};
  if (typeof opts !== 'object' || opts === null) throw validationError('opts', 'an object', opts);
  const states = opts.states;
  if (states !== undefined) {
    if (!Array.isArray(states) || states.length === 0)
      throw validationError('opts.states', 'a non-empty array of node states', states);
    states.forEach((s, i) => {
      if (!STATES.has(s)) throw validationError(`opts.states[${i}]`, NODE_STATES.join(' | '), s);
    });
  }
  const count =
    opts.count === undefined
      ? undefined
      : positiveNumber(opts.count, 'opts.count', { integer: true, min: 0 });
  const timeoutMs = positiveNumber(opts.timeoutMs ?? 600_000, 'opts.timeoutMs', { min: 1 });
  const intervalMs = positiveNumber(opts.intervalMs ?? 5_000, 'opts.intervalMs', { min: 1 });
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal))
    throw validationError('opts.signal', 'an AbortSignal', opts.signal);
  return { states, count, timeoutMs, intervalMs, signal: opts.signal };
}

/**
 * Resolve with the nodes matching `query` (and `states`) once the condition of `opts` holds,
 * checking now, after every `synced`/`added`/`changed`/`removed` event, and (when the inventory is
 * not started) after a sync every `intervalMs`. Rejects `E_TIMEOUT` (the last sync error as
 * `cause`), `E_ABORTED`, or `E_CLOSED` when the inventory is closed.
 *
 * @example
 * ```ts
 * declare const host: WaitHost;
 * const web = await waitForNodes(host, () => false, 'tag:role=web', { states: ['running'], count: 3, timeoutMs: 300_000 });
 * ```
 */
export function waitForNodes(
  host: WaitHost,
  /** True while the inventory syncs on its own interval (`start()`). */
  running: () => boolean,
  query: string,
  opts?: InventoryWaitOptions,
): Promise<InventoryNode[]> {
  let o: ReturnType<typeof checkWait>;
  try {
    o = checkWait(opts);
    if (typeof query !== 'string' && (typeof query !== 'object' || query === null))
      throw validationError('query', 'a query string or a parsed query', query);
    compileQuery(query);
    if (o.signal?.aborted) throw abortError(o.signal);
  } catch (err) {
    return Promise.reject(err);
  }
  const { states, count, timeoutMs, intervalMs, signal } = o;
  const satisfied = (): InventoryNode[] | undefined => {
    const matching = host.query(query);
    const inStates = states === undefined ? matching : matching.filter((n) => states.includes(n.state));
    if (count === 0) return inStates.length === 0 ? inStates : undefined;
    if (count !== undefined) return inStates.length >= count ? inStates : undefined;
    return matching.length > 0 && inStates.length === matching.length ? inStates : undefined;
  };
  return new Promise<InventoryNode[]>((resolve, reject) => {
    let lastError: unknown;
    let poll: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = (err: unknown, nodes?: InventoryNode[]) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (poll !== undefined) clearTimeout(poll);
      signal?.removeEventListener('abort', onAbort);
      for (const e of EVENTS) host.off(e, check);
      if (err !== undefined) reject(err);
      else resolve(nodes as InventoryNode[]);
    };
    const check = (): void => {
      if (done) return;
      try {
        const nodes = satisfied();
        if (nodes !== undefined) finish(undefined, nodes);
      } catch (err) {
        finish(err);
      }
    };
    const onAbort = () => finish(abortError(signal as AbortSignal));
    const tick = (): void => {
      poll = undefined;
      if (done) return;
      const next = () => {
        if (done) return;
        check();
        if (!done) poll = setTimeout(tick, intervalMs);
        poll?.unref?.();
      };
      if (running()) {
        next();
        return;
      }
      host.sync(signal === undefined ? {} : { signal }).then(next, (err: unknown) => {
        if (isFleetwatchError(err, 'E_CLOSED')) return finish(err);
        if (isFleetwatchError(err, 'E_ABORTED') && signal?.aborted) return;
        lastError = err;
        next();
      });
    };
    const deadline = setTimeout(() => {
      const described = `${typeof query === 'string' ? query : 'query'}${states ? ` in ${states.join('|')}` : ''}`;
      finish(
        new FleetwatchError(
          'E_TIMEOUT',
          `inventory.waitFor(${described}) not satisfied after ${timeoutMs} ms`,
          {
            ...(lastError === undefined ? {} : { cause: lastError }),
            details: { matching: host.query(query).length },
          },
        ),
      );
    }, timeoutMs);
    deadline.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    for (const e of EVENTS) host.on(e, check);
    check();
    if (!done) poll = setTimeout(tick, running() ? intervalMs : 0);
    poll?.unref?.();
  });
}

const EVENTS = ['synced', 'added', 'changed', 'removed'] as const;
