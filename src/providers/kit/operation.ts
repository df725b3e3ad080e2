/**
 * Operations you can wait for: one poll loop (backoff, timeout, abort, `Retry-After`) behind every
 * adapter's `Operation` and `waitForState`, and the steps that combine operations (one after
 * another in one deadline, mapped, a graceful stop with a hard fallback).
 */

import { type Clock, positiveNumber, systemClock } from '../../core.js';
import {
  abortError,
  FleetwatchError,
  isFleetwatchError,
  throwIfAborted,
  validationError,
} from '../../errors.js';
import type { Node, NodeState, Operation, StopNodeOptions, WaitOptions } from '../types.js';

/** The default `timeoutMs` of {@link Operation.done} and `waitForState`: 10 minutes. */
export const DEFAULT_WAIT_TIMEOUT_MS = 600_000;

/** What one poll found. */
export type PollResult<T> =
  | { done: true; value: T }
  | {
      done: false /** Wait at least this long before the next poll (a `Retry-After`). */;
      retryAfterMs?: number;
    };

/** How an adapter polls one operation. */
export interface PollSpec<T> {
  /** The provider's id for the operation. */
  id: string;
  /** What it does (`stop`, `destroy`, `setTags`…). */
  action: string;
  /** The provider instance id (for errors). */
  provider: string;
  /** One poll; throw a FleetwatchError (`E_PROVIDER` with the provider's error) when it failed. */
  poll: (signal: AbortSignal | undefined) => Promise<PollResult<T>>;
  /** First interval in ms (the provider's guidance). @default 2_000 */
  intervalMs?: number;
  /** Longest interval; the interval grows by half each poll up to it. @default 15_000 */
  maxIntervalMs?: number;
  /** The wait between polls (the adapter's injectable, abortable sleep). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  clock?: Clock;
}

/**
 * An {@link Operation} whose `done()` polls `spec.poll` until it reports done.
 *
 * @example
 * ```ts
 * const op = pollingOperation({
 *   id: 'action-42', action: 'stop', provider: 'do',
 *   sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
 *   poll: async () => ({ done: true, value: undefined }),
 * });
 * await op.done({ timeoutMs: 60_000 });
 * ```
 */
export function pollingOperation<T>(spec: PollSpec<T>): Operation<T> {
  return {
    id: spec.id,
    action: spec.action,
    done: (opts) => pollUntilDone(spec, opts),
  };
}

/**
 * An {@link Operation} that has already finished (the API answered synchronously).
 *
 * @example
 * ```ts
 * const op = completedOperation('i-0abc', 'setTags', undefined);
 * await op.done(); // resolves at once
 * ```
 */
export function completedOperation<T>(id: string, action: string, value: T): Operation<T> {
  return {
    id,
    action,
    done: async (opts) => {
      throwIfAborted(opts?.signal);
      return value;
    },
  };
}

/** Check {@link WaitOptions}; returns the timeout and first interval to use. */
export function checkWaitOptions(
  opts: WaitOptions | undefined,
  defaultIntervalMs: number,
): { timeoutMs: number; intervalMs: number; signal?: AbortSignal } {
  if (opts === undefined) return { timeoutMs: DEFAULT_WAIT_TIMEOUT_MS, intervalMs: defaultIntervalMs };
  if (typeof opts !== 'object' || opts === null) {
    throw new FleetwatchError('E_VALIDATION', 'opts: expected an object', {
      path: 'opts',
      expected: 'an object',
    });
  }
  const timeoutMs =
    opts.timeoutMs === undefined ? DEFAULT_WAIT_TIMEOUT_MS : positiveNumber(opts.timeoutMs, 'opts.timeoutMs');
  const intervalMs =
    opts.intervalMs === undefined ? defaultIntervalMs : positiveNumber(opts.intervalMs, 'opts.intervalMs');
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) {
    throw new FleetwatchError('E_VALIDATION', 'opts.signal: expected an AbortSignal', {
      path: 'opts.signal',
      expected: 'an AbortSignal',
    });
  }
  return { timeoutMs, intervalMs, ...(opts.signal ? { signal: opts.signal } : {}) };
}

async function pollUntilDone<T>(spec: PollSpec<T>, opts: WaitOptions | undefined): Promise<T> {
  const clock = spec.clock ?? systemClock;
  const { timeoutMs, intervalMs, signal } = checkWaitOptions(opts, spec.intervalMs ?? 2_000);
  const maxIntervalMs = Math.max(intervalMs, spec.maxIntervalMs ?? 15_000);
  const deadline = clock.now() + timeoutMs;
  let interval = intervalMs;
  for (let polls = 1; ; polls++) {
    if (signal?.aborted) throw abortError(signal);
    const result = await spec.poll(signal);
    if (result.done) return result.value;
    const wait = Math.max(interval, result.retryAfterMs ?? 0);
    const left = deadline - clock.now();
    if (left <= 0 || wait > left) {
      throw new FleetwatchError(
        'E_TIMEOUT',
        `${spec.action} ${spec.id} on ${spec.provider} not finished after ${timeoutMs} ms (${polls} polls)`,
        { provider: spec.provider, details: { operation: spec.id, action: spec.action, polls } },
      );
    }
    await spec.sleep(wait, signal);
    interval = Math.min(maxIntervalMs, Math.ceil(interval * 1.5));
  }
}

/** What `waitForNodeState` needs of a provider. */
export interface NodeStateSource {
  readonly id: string;
  getNode(id: string, opts?: { signal?: AbortSignal }): Promise<Node | undefined>;
}

/** What `nodeStateOperation` and `waitForNodeState` need besides the node and states. */
export interface NodeStatePollOptions {
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  clock?: Clock;
  /** The provider's polling guidance. @default 5_000 */
  defaultIntervalMs?: number;
  /** Longest interval between polls. @default 15_000 */
  maxIntervalMs?: number;
  /** The operation's name (`stop`, `start`…). @default `waitForState(<states>)` */
  action?: string;
  /**
   * A node in a state the wait can no longer succeed from (EC2's waiters fail a wait for `running`
   * on `shutting-down`): return the provider's message to reject with `E_PROVIDER`.
   */
  failWhen?: (node: Node) => string | undefined;
}

/**
 * An {@link Operation} that polls `getNode` until the node's state is one of `states` (see
 * `waitForNodeState`); each `done()` polls afresh.
 *
 * @example
 * ```ts
 * declare const provider: NodeStateSource;
 * const op = nodeStateOperation(provider, 'i-0abc', ['stopped'], {
 *   action: 'stop', sleep: (ms) => new Promise((r) => setTimeout(r, ms)), defaultIntervalMs: 15_000 });
 * const node = await op.done({ timeoutMs: 300_000 });
 * ```
 */
export function nodeStateOperation(
  provider: NodeStateSource,
  nodeId: string,
  states: readonly NodeState[],
  opts: NodeStatePollOptions,
): Operation<Node> {
  if (!Array.isArray(states) || states.length === 0) {
    throw new FleetwatchError('E_VALIDATION', 'states: expected a non-empty array of node states', {
      path: 'states',
      expected: 'a non-empty array of node states',
    });
  }
  let last: Node | undefined;
  return pollingOperation<Node>({
    id: nodeId,
    action: opts.action ?? `waitForState(${states.join('|')})`,
    provider: provider.id,
    sleep: opts.sleep,
    ...(opts.clock ? { clock: opts.clock } : {}),
    intervalMs: opts.defaultIntervalMs ?? 5_000,
    ...(opts.maxIntervalMs === undefined ? {} : { maxIntervalMs: opts.maxIntervalMs }),
    poll: async (signal) => {
      const node = await provider.getNode(nodeId, signal ? { signal } : {});
      if (node === undefined) {
        if (states.includes('terminated')) {
          return { done: true, value: { ...(last ?? goneNode(provider.id, nodeId)), state: 'terminated' } };
        }
        throw new FleetwatchError('E_NOT_FOUND', `node ${nodeId} of ${provider.id} is gone`, {
          provider: provider.id,
          path: 'nodeId',
        });
      }
      last = node;
      if (states.includes(node.state)) return { done: true, value: node };
      const failed =
        opts.failWhen?.(node) ?? (node.state === 'error' ? `node is in error (${node.rawState})` : undefined);
      if (failed !== undefined) {
        throw new FleetwatchError('E_PROVIDER', `node ${nodeId} of ${provider.id}: ${failed}`, {
          provider: provider.id,
          details: { rawState: node.rawState, state: node.state },
        });
      }
      return { done: false };
    },
  });
}

/**
 * Poll `getNode` until the node's state is one of `states`. A node that is gone counts as
 * `terminated`; a node in `error` rejects with `E_PROVIDER` unless `error` is waited for.
 *
 * @example
 * ```ts
 * declare const provider: NodeStateSource;
 * const node = await waitForNodeState(provider, 'i-0abc', ['running'], {
 *   sleep: (ms) => new Promise((r) => setTimeout(r, ms)), intervalMs: 5_000, timeoutMs: 300_000 });
 * ```
 */
export async function waitForNodeState(
  provider: NodeStateSource,
  nodeId: string,
  states: readonly NodeState[],
  opts: WaitOptions & NodeStatePollOptions,
): Promise<Node> {
  const { sleep, clock, defaultIntervalMs, maxIntervalMs, action, failWhen, ...wait } = opts;
  const poll: NodeStatePollOptions = { sleep, clock, defaultIntervalMs, maxIntervalMs, action, failWhen };
  return nodeStateOperation(provider, nodeId, states, poll).done(wait);
}

function goneNode(provider: string, id: string): Node {
  return {
    uid: `${provider}:${id}`,
    id,
    name: id,
    provider,
    kind: 'unknown',
    state: 'terminated',
    rawState: 'gone',
    publicIps: [],
    privateIps: [],
    tags: {},
    extra: {},
  };
}

/** A graceful stop's default grace before the hard power-off (OpenStack's `shutdown_timeout`). */
export const DEFAULT_GRACEFUL_STOP_MS = 60_000;

/**
 * An {@link Operation} that waits for `first`, then runs `then` within what is left of the same
 * `timeoutMs` (a provider operation, then the node's state, in one deadline).
 *
 * @example
 * ```ts
 * declare const accepted: Operation<void>;
 * declare const provider: { waitForState(id: string, s: NodeState[], o: WaitOptions): Promise<Node> };
 * const op = followedBy(accepted, 'start', (_, wait) => provider.waitForState('42', ['running'], wait));
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

/** An {@link Operation} whose result is mapped by `map` (e.g. a node wait turned into `void`). */
export function mapOperation<A, T>(op: Operation<A>, map: (value: A) => T, action = op.action): Operation<T> {
  return { id: op.id, action, done: async (opts) => map(await op.done(opts)) };
}

/** {@link StopNodeOptions} checked: `graceful` defaults to true, `timeoutMs` to {@link DEFAULT_GRACEFUL_STOP_MS}. */
export interface StopRequest {
  graceful: boolean;
  /** How long the graceful stop may take before the hard one. */
  graceMs: number;
  signal?: AbortSignal;
}

/** Check the options of `stopNode`. */
export function stopOptionsArg(opts: StopNodeOptions | undefined): StopRequest {
  if (opts === undefined) return { graceful: true, graceMs: DEFAULT_GRACEFUL_STOP_MS };
  if (typeof opts !== 'object' || opts === null) throw validationError('opts', 'an object', opts);
  if (opts.graceful !== undefined && typeof opts.graceful !== 'boolean')
    throw validationError('opts.graceful', 'a boolean', opts.graceful);
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal))
    throw validationError('opts.signal', 'an AbortSignal', opts.signal);
  return {
    graceful: opts.graceful ?? true,
    graceMs:
      opts.timeoutMs === undefined
        ? DEFAULT_GRACEFUL_STOP_MS
        : positiveNumber(opts.timeoutMs, 'opts.timeoutMs'),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
}

/** What {@link gracefulStopOperation} needs. */
export interface GracefulStopSpec {
  /** The graceful stop already issued; `done()` resolves when the node is stopped. */
  graceful: Operation<Node>;
  /** Issue the hard power-off (called at most once, when the grace ran out). */
  hard: (signal?: AbortSignal) => Promise<Operation<Node>>;
  /** The grace, counted from when this operation is created. */
  graceMs: number;
  clock?: Clock;
}

/**
 * A stop that is graceful first and hard after `graceMs`: `done()` waits for the graceful stop while
 * the grace lasts, then issues the hard power-off (once) and waits for it. The fallback happens while
 * someone waits in `done()`: without a wait, only the graceful stop was sent.
 *
 * @example
 * ```ts
 * declare const shutdown: Operation<Node>;
 * declare const powerOff: (signal?: AbortSignal) => Promise<Operation<Node>>;
 * const op = gracefulStopOperation({ graceful: shutdown, hard: powerOff, graceMs: 60_000 });
 * const node = await op.done({ timeoutMs: 300_000 });
 * ```
 */
export function gracefulStopOperation(spec: GracefulStopSpec): Operation<Node> {
  const clock = spec.clock ?? systemClock;
  const graceEnds = clock.now() + spec.graceMs;
  let hard: Promise<Operation<Node>> | undefined;
  return {
    id: spec.graceful.id,
    action: 'stop',
    done: async (opts) => {
      const { timeoutMs, signal } = checkWaitOptions(opts, 1);
      const start = clock.now();
      const graceLeft = graceEnds - start;
      if (hard === undefined && graceLeft > 0) {
        try {
          return await spec.graceful.done({ ...opts, timeoutMs: Math.min(graceLeft, timeoutMs) });
        } catch (err) {
          // The caller's own timeout came first: the grace is not over, so no power-off yet.
          if (!isFleetwatchError(err, 'E_TIMEOUT') || timeoutMs < graceLeft) throw err;
        }
      }
      if (hard === undefined) {
        hard = spec.hard(signal);
        hard.catch(() => {
          hard = undefined;
        });
      }
      const op = await hard;
      const left = timeoutMs - (clock.now() - start);
      if (left <= 0)
        throw new FleetwatchError(
          'E_TIMEOUT',
          `stop ${spec.graceful.id}: not finished after ${timeoutMs} ms`,
          {
            details: { operation: spec.graceful.id, action: 'stop' },
          },
        );
      return op.done({ ...opts, timeoutMs: left });
    },
  };
}
