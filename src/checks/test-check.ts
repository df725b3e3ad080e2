import type { Clock } from '../core.js';
import { FleetwatchError, throwIfAborted } from '../errors.js';
import { errorText, failedRun } from './config.js';
import { type CheckDefinition, judge, type NormalizedCheck, runFailure } from './definition.js';
import { runCheck } from './runner.js';
import type { SchedulerTimers, TestCheckResult } from './scheduler-types.js';
import type { CheckOutcome, CheckTarget } from './types.js';

/** What a dry run needs from the scheduler it runs in. */
export interface TestCheckHost {
  normalize(def: CheckDefinition): NormalizedCheck;
  resolveTargets(check: NormalizedCheck): Map<string, CheckTarget>;
  configFor(check: NormalizedCheck, target: CheckTarget): unknown;
  timers: SchedulerTimers;
  clock: Clock;
}

/**
 * Run a check once against each of its targets and judge each run with its alarm (Rackspace's
 * `test-check`). Every rejection is a `FleetwatchError`: `E_VALIDATION` for the definition,
 * `E_ABORTED` when `opts.signal` fires.
 *
 * @example
 * ```ts
 * const results = await runTestCheck(host, { id: 'x', type: 'tcp', targets: 'db:5432' }, { signal });
 * ```
 */
export async function runTestCheck(
  host: TestCheckHost,
  def: Omit<CheckDefinition, 'periodMs'> & { periodMs?: number },
  opts: { signal?: AbortSignal } = {},
): Promise<TestCheckResult[]> {
  throwIfAborted(opts.signal);
  const check = host.normalize(def as CheckDefinition);
  let targets: Map<string, CheckTarget>;
  try {
    targets = host.resolveTargets(check);
  } catch (err) {
    if (err instanceof FleetwatchError) throw err;
    throw new FleetwatchError('E_INTERNAL', `testCheck: the target query failed: ${errorText(err)}`, {
      path: 'check.targets',
      cause: err,
    });
  }
  const out: TestCheckResult[] = [];
  await Promise.all(
    [...targets.values()].map(async (target) => {
      const start = host.clock.now();
      let config: unknown;
      let outcome: CheckOutcome;
      try {
        config = host.configFor(check, target);
        ({ outcome } = await runCheck(
          check,
          config,
          target,
          host.timers,
          opts.signal ? { signal: opts.signal } : {},
        ));
      } catch (err) {
        outcome = failedRun(err, opts.signal, {});
      }
      const error = runFailure(check, outcome);
      const ok = error === undefined;
      out.push({
        target: target.key,
        ok,
        metrics: outcome.metrics,
        durationMs: host.clock.now() - start,
        ...(error !== undefined ? { error } : {}),
        alarm: judge(check.alarm, {
          ok,
          metrics: outcome.metrics,
          ts: start,
          ...(error !== undefined ? { error } : {}),
        }),
      });
    }),
  );
  return out;
}
