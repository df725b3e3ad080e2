import { type Clock, positiveNumber, systemClock } from '../../core.js';
import { FleetwatchError, isFleetwatchError, validationError } from '../../errors.js';
import type { Node, Operation, StopNodeOptions, WaitOptions } from '../types.js';
import { checkWaitOptions } from './operation.js';

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
