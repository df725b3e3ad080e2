/**
 * Check definitions: the shape users pass to `scheduler.add()`, and its validation into the internal
 * normalized form (type config normalized, alarm compiled, targets parsed, timeout checked against
 * the period).
 */
import { positiveNumber } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import { type AlarmResult, type CompiledAlarm, compileAlarm } from './alarm.js';
import { dnsCheck } from './dns.js';
import { httpCheck } from './http.js';
import { pingCheck } from './ping.js';
import { systemCheck } from './system.js';
import { type CheckTargets, hasPlaceholders, parseTargets, type TargetSpec } from './targets.js';
import { tcpCheck } from './tcp.js';
import { tlsCheck } from './tls.js';
import type { CheckMetrics, CheckOutcome, CheckType } from './types.js';

/** The built-in check types. */
export const BUILTIN_CHECK_TYPES: readonly CheckType<unknown>[] = [
  httpCheck,
  tcpCheck,
  dnsCheck,
  tlsCheck,
  pingCheck,
  systemCheck,
] as CheckType<unknown>[];

/** A check as added to the scheduler. The type's config block sits under the type's name. */
export interface CheckDefinition {
  /** Unique id. */
  id: string;
  /** `http`, `tcp`, `dns`, `tls`, `ping`, `system`, or a custom type given to the scheduler. */
  type: string;
  /** Host, `host:port`, URL, tag query (`tag:role=web`), or a list. @default 'localhost' for `system` */
  targets?: CheckTargets;
  /** Period, ms (≥ 100). */
  periodMs: number;
  /** Run timeout, ms; must be below `periodMs`. @default min(10000, 0.8 × periodMs) */
  timeoutMs?: number;
  /** Bounded random-looking delay added to each due time, `0 ≤ jitterMs < periodMs - timeoutMs`. @default 0 */
  jitterMs?: number;
  /** Alarm rule (see the alarm language). Without one, a failed run is CRITICAL and a good one OK. */
  alarm?: string;
  /** Results in a row needed to enter WARNING/CRITICAL/UNKNOWN. @default 1 (or the alarm's `:set consecutiveCount`) */
  consecutiveCount?: number;
  /** OK results in a row needed to recover. @default 1 (or `:set recoveryCount`) */
  recoveryCount?: number;
  /** Type config blocks: `http: {...}`, `tcp: {...}`, … */
  [typeConfig: string]: unknown;
}

/** A validated check, as the scheduler keeps it. */
export interface NormalizedCheck {
  id: string;
  type: CheckType<unknown>;
  specs: TargetSpec[];
  periodMs: number;
  timeoutMs: number;
  jitterMs: number;
  alarm?: CompiledAlarm;
  enter: number;
  recover: number;
  rawConfig: unknown;
  config: unknown;
  templated: boolean;
}

const DEFINITION_KEYS = [
  'id',
  'type',
  'targets',
  'periodMs',
  'timeoutMs',
  'jitterMs',
  'alarm',
  'consecutiveCount',
  'recoveryCount',
];

/** Validate a check definition against the known types. Throws `E_VALIDATION` naming the field. */
export function normalizeCheck(
  def: CheckDefinition,
  types: ReadonlyMap<string, CheckType<unknown>>,
  opts: { hasInventory: boolean; forTest?: boolean },
): NormalizedCheck {
  const forTest = opts.forTest === true;
  if (typeof def !== 'object' || def === null) throw validationError('check', 'an object', def);
  const id = def.id;
  if (typeof id !== 'string' || id === '') throw validationError('check.id', 'a non-empty string', id);
  const type = typeof def.type === 'string' ? types.get(def.type) : undefined;
  if (!type) throw validationError('check.type', [...types.keys()].join(', '), def.type);
  for (const key of Object.keys(def)) {
    if (!DEFINITION_KEYS.includes(key) && key !== type.type)
      throw validationError(`check.${key}`, `one of ${[...DEFINITION_KEYS, type.type].join(', ')}`, key);
  }
  const periodMs =
    forTest && def.periodMs === undefined
      ? 60_000
      : positiveNumber(def.periodMs, 'check.periodMs', { integer: true, min: 100 });
  const timeoutMs =
    def.timeoutMs === undefined
      ? Math.min(10_000, Math.floor(periodMs * 0.8))
      : positiveNumber(def.timeoutMs, 'check.timeoutMs', { integer: true, min: 1 });
  if (timeoutMs >= periodMs)
    throw validationError('check.timeoutMs', `less than periodMs (${periodMs})`, timeoutMs);
  const jitterMs = def.jitterMs === undefined ? 0 : Number(def.jitterMs);
  if (!Number.isInteger(jitterMs) || jitterMs < 0 || jitterMs >= periodMs - timeoutMs)
    throw validationError('check.jitterMs', `an integer 0..${periodMs - timeoutMs - 1}`, def.jitterMs);
  let alarm: CompiledAlarm | undefined;
  if (def.alarm !== undefined) {
    if (typeof def.alarm !== 'string') throw validationError('check.alarm', 'a string', def.alarm);
    alarm = compileAlarm(def.alarm);
  }
  const count = (v: unknown, path: string, fallback: number) =>
    v === undefined ? fallback : positiveNumber(v, path, { integer: true, min: 1 });
  const rawConfig = def[type.type];
  const config = normalizeConfig(type, rawConfig);
  const targets = def.targets ?? (type.type === 'system' ? 'localhost' : undefined);
  if (targets === undefined) throw validationError('check.targets', 'a host, URL or tag query', undefined);
  const specs = parseTargets(targets, 'check.targets');
  if (type.checkTarget) checkStaticTargets(id, type, config, targets, specs);
  if (specs.some((s) => s.kind === 'query') && !opts.hasInventory)
    throw validationError('check.targets', 'a host or URL (tag queries need an inventory)', targets);
  return {
    id,
    type,
    specs,
    periodMs,
    timeoutMs,
    jitterMs,
    ...(alarm ? { alarm } : {}),
    enter: count(def.consecutiveCount, 'check.consecutiveCount', alarm?.consecutiveCount ?? 1),
    recover: count(def.recoveryCount, 'check.recoveryCount', alarm?.recoveryCount ?? 1),
    rawConfig,
    config,
    templated: hasPlaceholders(rawConfig),
  };
}

/**
 * A type's config block normalized; whatever a custom type's `normalize` throws that is not a
 * `FleetwatchError` becomes `E_VALIDATION` naming the block (the original kept as `cause`).
 */
export function normalizeConfig(type: CheckType<unknown>, raw: unknown): unknown {
  try {
    return type.normalize(raw, type.type);
  } catch (err) {
    if (err instanceof FleetwatchError) throw err;
    throw validationError(type.type, `a valid ${type.type} config`, raw, { cause: err });
  }
}

/**
 * Check static targets (not tag queries) against what the type can run on, so that `host:port:port`
 * fails at `add()` rather than as a CRITICAL at run time. Paths read `checks[<id>].targets[<i>]`.
 */
function checkStaticTargets(
  id: string,
  type: CheckType<unknown>,
  config: unknown,
  targets: unknown,
  specs: readonly TargetSpec[],
): void {
  specs.forEach((spec, i) => {
    if (spec.kind !== 'host') return;
    const expected = type.checkTarget!(spec.target, config);
    if (expected === undefined) return;
    const raw = Array.isArray(targets) ? targets[i] : targets;
    const path = `checks[${id}].targets${Array.isArray(targets) ? `[${i}]` : ''}${typeof raw === 'object' ? '.host' : ''}`;
    throw validationError(path, `${expected} for a ${type.type} check`, spec.target.key);
  });
}

/**
 * Why a run failed, or `undefined` when it did not. With an alarm, the part of the failure that is
 * the alarm's to judge (http: an unexpected status) does not fail the run; see `CheckOutcome.alarmable`.
 */
export function runFailure(
  check: Pick<NormalizedCheck, 'alarm'>,
  outcome: Pick<CheckOutcome, 'error' | 'alarmable'>,
): string | undefined {
  return check.alarm && outcome.alarmable ? outcome.alarmable.remaining : outcome.error;
}

/** The alarm's verdict on a run: a run that failed is CRITICAL (as in Rackspace). */
export function judge(
  alarm: CompiledAlarm | undefined,
  result: { ok: boolean; metrics: CheckMetrics; error?: string; ts: number },
  previous?: CheckMetrics,
  previousTs?: number,
): AlarmResult {
  if (!result.ok) return { state: 'CRITICAL', message: result.error ?? 'check failed' };
  if (!alarm) return { state: 'OK', message: '' };
  return alarm.evaluate({
    metrics: result.metrics,
    ...(previous ? { previous } : {}),
    ...(previousTs !== undefined ? { elapsedMs: result.ts - previousTs } : {}),
  });
}
