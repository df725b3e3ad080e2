import type { AlarmContext, AlarmResult } from './alarm.js';
import type { Expr, Program, Stmt } from './alarm-ast.js';
import { metricName } from './alarm-ast.js';
import type { CheckMetrics, MetricValue } from './types.js';

/** Metrics measured in seconds (as in Rackspace); a duration literal compared to them converts to s. */
const SECONDS_METRICS = new Set(['cert_end_in', 'ttl']);
const SYMBOL = /^[A-Z][A-Z0-9_]*$/;
const INTERPOLATION = /#\{([A-Za-z0-9_.]+)\}/g;

type Val = number | string | boolean | undefined | { ms: number };

/**
 * Run a parsed alarm against one run's metrics. Recursion follows the expression tree, whose height
 * the parser bounds. Throws only what a metric object itself throws (the caller turns that into
 * UNKNOWN).
 *
 * @example
 * ```ts
 * runProgram(program, { metrics: { code: '500' } }); // { state: 'CRITICAL', message: '…' }
 * ```
 */
export function runProgram(program: Program, ctx: AlarmContext): AlarmResult {
  if (program.stmts) return runStmts(program.stmts, ctx) ?? { state: 'OK', message: '' };
  for (const c of program.conditions!) {
    if (!truthy(evalExpr(c.e, ctx))) return { state: 'CRITICAL', message: `condition failed: ${c.text}` };
  }
  return { state: 'OK', message: '' };
}

function runStmts(stmts: Stmt[], ctx: AlarmContext): AlarmResult | undefined {
  for (const s of stmts) {
    if (s.k === 'return') return { state: s.state, message: interpolate(s.message ?? '', ctx.metrics) };
    const branch = truthy(evalExpr(s.cond, ctx)) ? s.then : s.else;
    if (branch) {
      const r = runStmts(branch, ctx);
      if (r) return r;
    }
  }
  return undefined;
}

function evalExpr(e: Expr, ctx: AlarmContext): Val {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'dur':
      return { ms: e.ms };
    case 'metric':
      return lookup(ctx.metrics, e.name);
    case 'ident': {
      const v = lookup(ctx.metrics, e.name);
      if (v !== undefined) return v;
      // Gatus-style symbolic constants (`rcode == NOERROR`): an unknown upper-case word is itself.
      return SYMBOL.test(e.name) ? e.name : undefined;
    }
    case 'not':
      return !truthy(evalExpr(e.e, ctx));
    case 'neg': {
      const v = toNum(evalExpr(e.e, ctx));
      return v === undefined ? undefined : -v;
    }
    case 're': {
      const v = evalExpr(e.l, ctx);
      if (v === undefined || typeof v === 'object') return false;
      // all the rule's regexes together read within one work budget (sharedMatchChars)
      const m = e.re.test(String(v), e.limit.chars);
      return e.neg ? !m : m;
    }
    case 'call':
      return evalCall(e.fn, e.args, ctx);
    case 'bin':
      return evalBin(e, ctx);
  }
}

function lookup(metrics: CheckMetrics | undefined, name: string): MetricValue | undefined {
  if (metrics === undefined || !Object.hasOwn(metrics, name)) return undefined;
  return metrics[name];
}

function evalCall(fn: string, args: Expr[], ctx: AlarmContext): Val {
  if (fn === 'previous') return lookup(ctx.previous, metricName(args[0]!)!);
  if (fn === 'rate') {
    const name = metricName(args[0]!)!;
    const cur = toNum(lookup(ctx.metrics, name));
    const prev = toNum(lookup(ctx.previous, name));
    if (cur === undefined || prev === undefined || !ctx.elapsedMs || ctx.elapsedMs <= 0) return undefined;
    return (cur - prev) / (ctx.elapsedMs / 1000);
  }
  const a = evalExpr(args[0]!, ctx);
  if (fn === 'len') return a === undefined || typeof a === 'object' ? undefined : String(a).length;
  if (fn === 'abs') {
    const x = toNum(a);
    return x === undefined ? undefined : Math.abs(x);
  }
  // percentage(a, b)
  const x = toNum(a);
  const y = toNum(evalExpr(args[1]!, ctx));
  return x === undefined || y === undefined || y === 0 ? undefined : (x / y) * 100;
}

function truthy(v: Val): boolean {
  if (v === undefined) return false;
  if (typeof v === 'object') return v.ms !== 0;
  return Boolean(v);
}

function toNum(v: Val): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'object') return v.ms;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/** A duration literal compared with a metric takes that metric's unit (seconds for cert_end_in, ttl). */
function durIn(v: Val, other: Expr): Val {
  if (v === undefined || typeof v !== 'object') return v;
  const name = other.k === 'metric' || other.k === 'ident' ? other.name : undefined;
  return name !== undefined && SECONDS_METRICS.has(name) ? v.ms / 1000 : v.ms;
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);

function evalBin(e: Extract<Expr, { k: 'bin' }>, ctx: AlarmContext): Val {
  if (e.op === '&&') return truthy(evalExpr(e.l, ctx)) && truthy(evalExpr(e.r, ctx));
  if (e.op === '||') return truthy(evalExpr(e.l, ctx)) || truthy(evalExpr(e.r, ctx));
  const l = durIn(evalExpr(e.l, ctx), e.r);
  const r = durIn(evalExpr(e.r, ctx), e.l);
  if (l === undefined || r === undefined || typeof l === 'object' || typeof r === 'object')
    return ARITHMETIC.has(e.op) ? undefined : false;
  if (ARITHMETIC.has(e.op)) {
    const x = toNum(l);
    const y = toNum(r);
    if (x === undefined || y === undefined) return undefined;
    const out =
      e.op === '+' ? x + y : e.op === '-' ? x - y : e.op === '*' ? x * y : e.op === '/' ? x / y : x % y;
    return Number.isFinite(out) ? out : undefined;
  }
  if (e.op === '==' || e.op === '!=') {
    const eq = looseEqual(l, r);
    return e.op === '==' ? eq : !eq;
  }
  const x = toNum(l);
  const y = toNum(r);
  if (x === undefined || y === undefined) return false;
  return e.op === '<' ? x < y : e.op === '<=' ? x <= y : e.op === '>' ? x > y : x >= y;
}

/** Equality across number/string/boolean: numeric when either side is a number, else as strings. */
function looseEqual(l: string | number | boolean, r: string | number | boolean): boolean {
  if (typeof l === 'number' || typeof r === 'number') {
    const x = toNum(l);
    const y = toNum(r);
    return x === undefined || y === undefined ? false : x === y;
  }
  return String(l) === String(r);
}

function interpolate(message: string, metrics: CheckMetrics): string {
  return message.replace(INTERPOLATION, (_, name: string) => {
    const v = lookup(metrics, name);
    return v === undefined ? '' : String(v);
  });
}
