/**
 * The alarm language: a small, safe rule language compatible with Rackspace Cloud Monitoring alarms
 * and Gatus-style one-liners. Hand-written tokenizer, recursive-descent parser and tree-walking
 * interpreter — no `eval`, no `Function`. Parse errors are `E_VALIDATION` with a 0-based `position`.
 */
import { FleetwatchError } from '../errors.js';
import type { CheckMetrics, MetricValue } from './types.js';

/** The states an alarm (and a check target) can be in. */
export type AlarmState = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

/** Every alarm state. */
export const ALARM_STATES: readonly AlarmState[] = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'];

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
  /** Evaluate against a run's metrics. Never throws. */
  evaluate(ctx: AlarmContext): AlarmResult;
}

/** Longest alarm text accepted. */
export const MAX_ALARM_LENGTH = 16_384;
const MAX_DEPTH = 48;
/** Metrics measured in seconds (as in Rackspace); a duration literal compared to them converts to s. */
const SECONDS_METRICS = new Set(['cert_end_in', 'ttl']);
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Gatus placeholders and the metrics they read. */
const GATUS_PLACEHOLDERS: Record<string, string> = {
  STATUS: 'code',
  RESPONSE_TIME: 'duration',
  CERTIFICATE_EXPIRATION: 'cert_end_in',
  DNS_RCODE: 'rcode',
};
const FUNCTIONS: Record<string, number> = { previous: 1, rate: 1, percentage: 2, len: 1, abs: 1 };

// ---------------------------------------------------------------- tokenizer

type TokKind = 'num' | 'dur' | 'str' | 'ident' | 'op' | 'eof';
interface Tok {
  kind: TokKind;
  text: string;
  pos: number;
  /** numeric value for num/dur (dur in ms), decoded value for str */
  num?: number;
  str?: string;
}

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '{', '}', '[', ']', ',', ';', '='];
const ARITH = ['+', '-', '*', '/', '%', ':'];

function syntaxError(source: string, message: string, pos: number): FleetwatchError {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return new FleetwatchError('E_VALIDATION', `alarm: ${message} at ${line}:${col}`, {
    path: 'alarm',
    position: pos,
    expected: 'a valid alarm rule',
  });
}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw syntaxError(src, 'unterminated comment', i);
      i = end + 2;
      continue;
    }
    const start = i;
    if (c >= '0' && c <= '9') {
      while (i < n && src[i]! >= '0' && src[i]! <= '9') i++;
      if (src[i] === '.' && src[i + 1] !== undefined && src[i + 1]! >= '0' && src[i + 1]! <= '9') {
        i++;
        while (i < n && src[i]! >= '0' && src[i]! <= '9') i++;
      }
      const value = Number(src.slice(start, i));
      const unit = /^(ms|s|m|h|d)(?![A-Za-z0-9_])/.exec(src.slice(i, i + 3));
      if (unit) {
        i += unit[1]!.length;
        toks.push({
          kind: 'dur',
          text: src.slice(start, i),
          pos: start,
          num: value * DURATION_MS[unit[1]!]!,
        });
      } else {
        if (/[A-Za-z_]/.test(src[i] ?? '')) throw syntaxError(src, 'bad number', start);
        toks.push({ kind: 'num', text: src.slice(start, i), pos: start, num: value });
      }
      continue;
    }
    if (c === "'" || c === '"') {
      let out = '';
      i++;
      for (;;) {
        if (i >= n) throw syntaxError(src, 'unterminated string', start);
        const d = src[i]!;
        if (d === c) break;
        if (d === '\\') {
          const e = src[i + 1];
          if (e === undefined) throw syntaxError(src, 'unterminated string', start);
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        out += d;
        i++;
      }
      i++;
      toks.push({ kind: 'str', text: src.slice(start, i), pos: start, str: out });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_.]/.test(src[i]!)) i++;
      toks.push({ kind: 'ident', text: src.slice(start, i), pos: start });
      continue;
    }
    const two = src.slice(i, i + 2);
    const op = OPS.includes(two) ? two : OPS.includes(c) || ARITH.includes(c) ? c : undefined;
    if (op === undefined) throw syntaxError(src, `unexpected character ${JSON.stringify(c)}`, i);
    i += op.length;
    toks.push({ kind: 'op', text: op, pos: start });
  }
  toks.push({ kind: 'eof', text: '', pos: n });
  return toks;
}

// ---------------------------------------------------------------- AST

type Expr =
  | { k: 'lit'; v: number | string | boolean }
  | { k: 'dur'; ms: number }
  | { k: 'metric'; name: string }
  | { k: 'ident'; name: string }
  | { k: 'call'; fn: string; args: Expr[] }
  | { k: 'not'; e: Expr }
  | { k: 'neg'; e: Expr }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 're'; neg: boolean; l: Expr; re: RegExp };

type Stmt =
  | { k: 'if'; cond: Expr; then: Stmt[]; else?: Stmt[] }
  | { k: 'return'; state: AlarmState; message?: string };

interface Program {
  /** Statements (Rackspace form) or undefined for the one-liner form. */
  stmts?: Stmt[];
  /** One-liner conditions (all must hold), with their source text. */
  conditions?: { e: Expr; text: string }[];
  decls: Record<string, string | number>;
}

// ---------------------------------------------------------------- parser

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}

  private get t(): Tok {
    return this.toks[this.i]!;
  }
  private err(msg: string, tok: Tok = this.t): FleetwatchError {
    return syntaxError(
      this.src,
      `${msg}${tok.kind === 'eof' ? ' (end of input)' : ` near ${tok.text}`}`,
      tok.pos,
    );
  }
  private atEnd(): boolean {
    return this.t.kind === 'eof';
  }
  private isOp(text: string): boolean {
    return this.t.kind === 'op' && this.t.text === text;
  }
  private isWord(text: string): boolean {
    return this.t.kind === 'ident' && this.t.text === text;
  }
  private expectOp(text: string): Tok {
    if (!this.isOp(text)) throw this.err(`expected "${text}"`);
    return this.toks[this.i++]!;
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw this.err('rule nested too deeply');
  }

  parseProgram(): Program {
    const decls: Record<string, string | number> = {};
    while (this.isOp(':')) this.parseDecl(decls);
    if (this.isWord('if') || this.isWord('return')) {
      const stmts: Stmt[] = [];
      while (!this.atEnd()) {
        if (this.isOp(':')) {
          this.parseDecl(decls);
          continue;
        }
        stmts.push(this.parseStmt());
      }
      return { stmts, decls };
    }
    const conditions: { e: Expr; text: string }[] = [];
    while (!this.atEnd()) {
      const start = this.t.pos;
      const e = this.parseExpr();
      conditions.push({ e, text: this.src.slice(start, this.t.pos).trim() });
      if (this.isOp(';')) this.i++;
      else if (!this.atEnd()) throw this.err('expected ";" or end of rule');
    }
    if (conditions.length === 0) throw this.err('empty rule');
    return { conditions, decls };
  }

  private parseDecl(decls: Record<string, string | number>): void {
    this.expectOp(':');
    if (!this.isWord('set')) throw this.err('expected "set"');
    this.i++;
    const nameTok = this.t;
    if (nameTok.kind !== 'ident') throw this.err('expected a setting name');
    this.i++;
    this.expectOp('=');
    const v = this.t;
    this.i++;
    const name = nameTok.text;
    if (name === 'consecutiveCount' || name === 'recoveryCount') {
      if (v.kind !== 'num' || !Number.isInteger(v.num) || v.num! < 1 || v.num! > 10)
        throw this.err(`${name} must be an integer 1..10`, v);
      decls[name] = v.num!;
    } else if (name === 'consistencyLevel') {
      if (v.kind !== 'ident' || !['ONE', 'QUORUM', 'ALL'].includes(v.text))
        throw this.err('consistencyLevel must be ONE, QUORUM or ALL', v);
      decls[name] = v.text;
    } else throw this.err(`unknown setting ${name}`, nameTok);
    if (this.isOp(';')) this.i++;
  }

  private parseBlock(): Stmt[] {
    if (this.isOp('{')) {
      this.i++;
      const out: Stmt[] = [];
      while (!this.isOp('}')) {
        if (this.atEnd()) throw this.err('expected "}"');
        out.push(this.parseStmt());
      }
      this.i++;
      return out;
    }
    return [this.parseStmt()];
  }

  private parseStmt(): Stmt {
    this.enter();
    try {
      if (this.isWord('if')) {
        this.i++;
        this.expectOp('(');
        const cond = this.parseExpr();
        this.expectOp(')');
        const then = this.parseBlock();
        if (this.isWord('else')) {
          this.i++;
          return { k: 'if', cond, then, else: this.parseBlock() };
        }
        return { k: 'if', cond, then };
      }
      if (this.isWord('return')) {
        this.i++;
        const stmt = this.parseStatus();
        if (this.isOp(';')) this.i++;
        return stmt;
      }
      throw this.err('expected "if" or "return"');
    } finally {
      this.depth--;
    }
  }

  private parseState(): AlarmState {
    const t = this.t;
    if (t.kind !== 'ident' || !(ALARM_STATES as readonly string[]).includes(t.text))
      throw this.err('expected OK, WARNING, CRITICAL or UNKNOWN');
    this.i++;
    return t.text as AlarmState;
  }

  private parseStatus(): Stmt {
    if (this.isWord('new')) {
      this.i++;
      if (!this.isWord('AlarmStatus')) throw this.err('expected AlarmStatus');
      this.i++;
      this.expectOp('(');
      const state = this.parseState();
      let message: string | undefined;
      if (this.isOp(',')) {
        this.i++;
        if (this.t.kind !== 'str') throw this.err('expected a message string');
        message = this.t.str!;
        this.i++;
      }
      this.expectOp(')');
      return message === undefined ? { k: 'return', state } : { k: 'return', state, message };
    }
    const state = this.parseState();
    if (this.isOp(',')) {
      this.i++;
      if (this.t.kind !== 'str') throw this.err('expected a message string');
      const message = this.t.str!;
      this.i++;
      return { k: 'return', state, message };
    }
    return { k: 'return', state };
  }

  parseExpr(): Expr {
    this.enter();
    try {
      return this.parseOr();
    } finally {
      this.depth--;
    }
  }
  private parseOr(): Expr {
    let l = this.parseAnd();
    while (this.isOp('||')) {
      this.i++;
      l = { k: 'bin', op: '||', l, r: this.parseAnd() };
    }
    return l;
  }
  private parseAnd(): Expr {
    let l = this.parseNot();
    while (this.isOp('&&')) {
      this.i++;
      l = { k: 'bin', op: '&&', l, r: this.parseNot() };
    }
    return l;
  }
  private parseNot(): Expr {
    if (this.isOp('!')) {
      this.i++;
      this.enter();
      try {
        return { k: 'not', e: this.parseNot() };
      } finally {
        this.depth--;
      }
    }
    return this.parseCmp();
  }
  private parseCmp(): Expr {
    const l = this.parseAdd();
    const t = this.t;
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      this.i++;
      return { k: 'bin', op: t.text, l, r: this.parseAdd() };
    }
    if (t.kind === 'ident' && (t.text === 'regex' || t.text === 'nregex')) {
      this.i++;
      const p = this.t;
      if (p.kind !== 'str') throw this.err('expected a regular expression string');
      this.i++;
      let re: RegExp;
      try {
        re = new RegExp(p.str!);
      } catch {
        throw this.err('invalid regular expression', p);
      }
      return { k: 're', neg: t.text === 'nregex', l, re };
    }
    return l;
  }
  private parseAdd(): Expr {
    let l = this.parseMul();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.t.text;
      this.i++;
      l = { k: 'bin', op, l, r: this.parseMul() };
    }
    return l;
  }
  private parseMul(): Expr {
    let l = this.parseUnary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.t.text;
      this.i++;
      l = { k: 'bin', op, l, r: this.parseUnary() };
    }
    return l;
  }
  private parseUnary(): Expr {
    if (this.isOp('-')) {
      this.i++;
      this.enter();
      try {
        return { k: 'neg', e: this.parseUnary() };
      } finally {
        this.depth--;
      }
    }
    return this.parsePrimary();
  }
  private parsePrimary(): Expr {
    const t = this.t;
    switch (t.kind) {
      case 'num':
        this.i++;
        return { k: 'lit', v: t.num! };
      case 'dur':
        this.i++;
        return { k: 'dur', ms: t.num! };
      case 'str':
        this.i++;
        return { k: 'lit', v: t.str! };
      case 'op':
        if (t.text === '(') {
          this.i++;
          const e = this.parseExpr();
          this.expectOp(')');
          return e;
        }
        if (t.text === '[') {
          // Gatus placeholders: [STATUS], [RESPONSE_TIME], [CERTIFICATE_EXPIRATION], [DNS_RCODE]
          this.i++;
          const name = this.t;
          const metric = name.kind === 'ident' ? GATUS_PLACEHOLDERS[name.text] : undefined;
          if (metric === undefined)
            throw this.err(`expected one of ${Object.keys(GATUS_PLACEHOLDERS).join(', ')}`);
          this.i++;
          this.expectOp(']');
          return { k: 'metric', name: metric };
        }
        throw this.err('expected a value');
      case 'ident':
        return this.parseIdent();
      default:
        throw this.err('expected a value');
    }
  }
  private parseIdent(): Expr {
    const t = this.t;
    this.i++;
    if (t.text === 'true' || t.text === 'false') return { k: 'lit', v: t.text === 'true' };
    if (t.text === 'metric') {
      this.expectOp('[');
      if (this.t.kind !== 'str') throw this.err('expected a metric name string');
      const name = this.t.str!;
      this.i++;
      this.expectOp(']');
      return { k: 'metric', name };
    }
    if (t.text.startsWith('metric.') && t.text.length > 7) return { k: 'metric', name: t.text.slice(7) };
    if (this.isOp('(')) {
      const arity = FUNCTIONS[t.text];
      if (arity === undefined) throw this.err(`unknown function ${t.text}`, t);
      this.i++;
      const args: Expr[] = [];
      while (!this.isOp(')')) {
        if (args.length > 0) this.expectOp(',');
        args.push(this.parseExpr());
      }
      this.i++;
      if (args.length !== arity) throw this.err(`${t.text}() takes ${arity} argument(s)`, t);
      if ((t.text === 'previous' || t.text === 'rate') && metricName(args[0]!) === undefined)
        throw this.err(`${t.text}() takes a metric`, t);
      return { k: 'call', fn: t.text, args };
    }
    if (['if', 'else', 'return', 'new', 'regex', 'nregex'].includes(t.text))
      throw this.err('expected a value', t);
    return { k: 'ident', name: t.text };
  }
}

function metricName(e: Expr): string | undefined {
  if (e.k === 'metric' || e.k === 'ident') return e.name;
  if (e.k === 'lit' && typeof e.v === 'string') return e.v;
  return undefined;
}

// ---------------------------------------------------------------- interpreter

type Val = number | string | boolean | undefined | { ms: number };

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
      return /^[A-Z][A-Z0-9_]*$/.test(e.name) ? e.name : undefined;
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
      const m = e.re.test(String(v));
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

function evalBin(e: Extract<Expr, { k: 'bin' }>, ctx: AlarmContext): Val {
  if (e.op === '&&') return truthy(evalExpr(e.l, ctx)) && truthy(evalExpr(e.r, ctx));
  if (e.op === '||') return truthy(evalExpr(e.l, ctx)) || truthy(evalExpr(e.r, ctx));
  const l = durIn(evalExpr(e.l, ctx), e.r);
  const r = durIn(evalExpr(e.r, ctx), e.l);
  if (l === undefined || r === undefined || typeof l === 'object' || typeof r === 'object') {
    return e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/' || e.op === '%' ? undefined : false;
  }
  switch (e.op) {
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      const x = toNum(l);
      const y = toNum(r);
      if (x === undefined || y === undefined) return undefined;
      const out =
        e.op === '+' ? x + y : e.op === '-' ? x - y : e.op === '*' ? x * y : e.op === '/' ? x / y : x % y;
      return Number.isFinite(out) ? out : undefined;
    }
    case '==':
    case '!=': {
      const eq = looseEqual(l, r);
      if (eq === undefined) return false;
      return e.op === '==' ? eq : !eq;
    }
    default: {
      const x = toNum(l);
      const y = toNum(r);
      if (x === undefined || y === undefined) return false;
      return e.op === '<' ? x < y : e.op === '<=' ? x <= y : e.op === '>' ? x > y : x >= y;
    }
  }
}

/** Equality across number/string/boolean: numeric when either side is a number, else as strings. */
function looseEqual(l: string | number | boolean, r: string | number | boolean): boolean | undefined {
  if (typeof l === 'number' || typeof r === 'number') {
    const x = toNum(l);
    const y = toNum(r);
    return x === undefined || y === undefined ? false : x === y;
  }
  return String(l) === String(r);
}

function interpolate(message: string, metrics: CheckMetrics): string {
  return message.replace(/#\{([A-Za-z0-9_.]+)\}/g, (_, name: string) => {
    const v = lookup(metrics, name);
    return v === undefined ? '' : String(v);
  });
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

/**
 * Parse an alarm rule. Accepts the Rackspace form (`if (...) { return new AlarmStatus(CRITICAL, 'msg'); }`,
 * also `if (...) return CRITICAL;`) and Gatus-style conditions (`code == 200; duration < 300`), which give
 * OK when all hold and CRITICAL naming the first that failed otherwise.
 * @throws FleetwatchError `E_VALIDATION` with `position` on a syntax error.
 */
export function compileAlarm(source: string): CompiledAlarm {
  if (typeof source !== 'string') throw syntaxError('', 'alarm must be a string', 0);
  if (source.length > MAX_ALARM_LENGTH) throw syntaxError(source, `longer than ${MAX_ALARM_LENGTH} chars`, 0);
  const program = new Parser(source, tokenize(source)).parseProgram();
  const { decls } = program;
  const evaluate = (ctx: AlarmContext): AlarmResult => {
    if (program.stmts) return runStmts(program.stmts, ctx) ?? { state: 'OK', message: '' };
    for (const c of program.conditions!) {
      if (!truthy(evalExpr(c.e, ctx))) return { state: 'CRITICAL', message: `condition failed: ${c.text}` };
    }
    return { state: 'OK', message: '' };
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
 * @throws FleetwatchError `E_VALIDATION` when the alarm does not parse.
 *
 * @example
 * ```ts
 * const alarm = compileAlarm(`if (metric['code'] != '200') { return new AlarmStatus(CRITICAL, 'HTTP #{code}'); }
 *   return new AlarmStatus(OK);`);
 * alarm.evaluate({ metrics: { code: '500' } }); // { state: 'CRITICAL', message: 'HTTP 500' }
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
