import type { AlarmState } from './alarm-ast.js';
import { runProgram } from './alarm-eval.js';
import { alarmSyntaxError, alarmTokens } from './alarm-lexer.js';
import { AlarmParser } from './alarm-parser.js';
import { errorText } from './config.js';
import type { CheckMetrics } from './types.js';

export { ALARM_STATES, type AlarmState } from './alarm-ast.js';
export { MAX_ALARM_EXPR_HEIGHT } from './alarm-parser.js';
export { compileSafeRegex, MAX_REGEX_LENGTH, MAX_REGEX_PROGRAM, type SafeRegex } from './safe-regex.js';

/** What an alarm evaluation decided. */
export interface AlarmResult {
  state: AlarmState;
  /** The message of the matching `return`, with `#{metric}` interpolated (may be empty). */
  message: string;
}

/** Inputs of one evaluation. */
export interface AlarmContext {
  /** The current run's metrics. */
  metrics: CheckMetrics;
  /** The previous run's metrics, for `previous()` and `rate()`. */
  previous?: CheckMetrics;
  /** Milliseconds between the previous run and this one, for `rate()`. */
  elapsedMs?: number;
}

/** A parsed alarm, ready to evaluate any number of times. */
export interface CompiledAlarm {
  /** The alarm text as given. */
  readonly source: string;
  /** `:set consecutiveCount=N` (1..10), if declared. */
  readonly consecutiveCount?: number;
  /** `:set recoveryCount=N` (1..10), if declared: consecutive OK results needed to recover. */
  readonly recoveryCount?: number;
  /** `:set consistencyLevel=ONE|QUORUM|ALL`, if declared (kept for Rackspace compatibility). */
  readonly consistencyLevel?: 'ONE' | 'QUORUM' | 'ALL';
  /** Evaluate against a run's metrics. Never throws: a failure is `UNKNOWN` with the reason. */
  evaluate(ctx: AlarmContext): AlarmResult;
}

/** Longest alarm text accepted. */
export const MAX_ALARM_LENGTH = 16_384;

/**
 * Parse an alarm rule: a small, safe rule language compatible with Rackspace Cloud Monitoring alarms
 * and Gatus-style one-liners (hand-written tokenizer, recursive-descent parser, tree-walking
 * interpreter; no `eval`). Accepts the Rackspace form (`if (...) { return new AlarmStatus(CRITICAL, 'msg'); }`,
 * also `if (...) return CRITICAL;`) and Gatus-style conditions (`code == 200; duration < 300`), which give
 * OK when all hold and CRITICAL naming the first that failed otherwise. Size, nesting and expression
 * height are bounded here, `regex`/`nregex` patterns compiled for linear-time matching (RE2 syntax).
 *
 * @throws FleetwatchError `E_VALIDATION` with the 0-based `position` of the fault.
 * @example
 * ```ts
 * const alarm = compileAlarm(`if (metric['code'] != '200') { return new AlarmStatus(CRITICAL, 'HTTP #{code}'); }
 *   return new AlarmStatus(OK);`);
 * alarm.evaluate({ metrics: { code: '500' } }); // { state: 'CRITICAL', message: 'HTTP 500' }
 * ```
 */
export function compileAlarm(source: string): CompiledAlarm {
  if (typeof source !== 'string') throw alarmSyntaxError('', 'alarm must be a string', 0);
  if (source.length > MAX_ALARM_LENGTH)
    throw alarmSyntaxError(source, `longer than ${MAX_ALARM_LENGTH} chars`, MAX_ALARM_LENGTH);
  const program = new AlarmParser(source, alarmTokens(source)).parseProgram();
  const { decls } = program;
  const evaluate = (ctx: AlarmContext): AlarmResult => {
    try {
      return runProgram(program, ctx);
    } catch (err) {
      return { state: 'UNKNOWN', message: `alarm evaluation failed: ${errorText(err)}` };
    }
  };
  const alarm: CompiledAlarm = {
    source,
    evaluate,
    ...(decls.consecutiveCount !== undefined ? { consecutiveCount: decls.consecutiveCount as number } : {}),
    ...(decls.recoveryCount !== undefined ? { recoveryCount: decls.recoveryCount as number } : {}),
    ...(decls.consistencyLevel !== undefined
      ? { consistencyLevel: decls.consistencyLevel as 'ONE' | 'QUORUM' | 'ALL' }
      : {}),
  };
  return Object.freeze(alarm);
}

/**
 * Dry-run an alarm against a set of metrics (Rackspace's `test-alarm`).
 *
 * @throws FleetwatchError `E_VALIDATION` when the alarm does not parse.
 * @example
 * ```ts
 * testAlarm('duration < 300 && cert_end_in > 48h', { duration: 120, cert_end_in: 864000 }); // OK
 * ```
 */
export function testAlarm(
  alarm: string,
  metrics: CheckMetrics,
  opts: { previous?: CheckMetrics; elapsedMs?: number } = {},
): AlarmResult {
  return compileAlarm(alarm).evaluate({ metrics, ...opts });
}
