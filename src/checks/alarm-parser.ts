import type { FleetwatchError } from '../errors.js';
import {
  ALARM_STATES,
  type AlarmState,
  type Expr,
  heightOf,
  metricName,
  type Program,
  type Stmt,
} from './alarm-ast.js';
import { alarmSyntaxError, type Tok } from './alarm-lexer.js';
import { compileSafeRegex, type SafeRegex, sharedMatchChars } from './safe-regex.js';

/** Deepest nesting of statements, parentheses, `!` and unary `-` the parser follows. */
export const MAX_ALARM_NESTING = 48;
/**
 * Highest expression tree accepted: each operator adds a level, so `a + b + …` with more than this
 * many terms is rejected at parse time, which keeps evaluation within a small, fixed stack.
 */
export const MAX_ALARM_EXPR_HEIGHT = 256;

/** Gatus placeholders and the metrics they read. */
const GATUS_PLACEHOLDERS: Record<string, string> = {
  STATUS: 'code',
  RESPONSE_TIME: 'duration',
  CERTIFICATE_EXPIRATION: 'cert_end_in',
  DNS_RCODE: 'rcode',
};
const FUNCTIONS: Record<string, number> = { previous: 1, rate: 1, percentage: 2, len: 1, abs: 1 };
const COMPARISONS = ['==', '!=', '<', '<=', '>', '>='];
const RESERVED = ['if', 'else', 'return', 'new', 'regex', 'nregex'];

/**
 * Recursive-descent parser of the alarm language. Recursion is bounded by {@link MAX_ALARM_NESTING},
 * the height of what it builds by {@link MAX_ALARM_EXPR_HEIGHT}.
 *
 * @example
 * ```ts
 * const program = new AlarmParser(src, alarmTokens(src)).parseProgram();
 * ```
 */
export class AlarmParser {
  #i = 0;
  #depth = 0;
  readonly #src: string;
  /** Tokens read so far (the token stream is lazy: parsing stops at the first error). */
  readonly #toks: Tok[] = [];
  readonly #tokens: Iterator<Tok, void>;
  readonly #eof: Tok;
  /** The rule's regexes, and the characters each reads: they share one work budget (set at the end). */
  readonly #regexes: SafeRegex[] = [];
  readonly #matchLimit = { chars: 0 };

  constructor(src: string, tokens: Iterator<Tok, void>) {
    this.#src = src;
    this.#tokens = tokens;
    this.#eof = { kind: 'eof', text: '', pos: src.length };
  }

  get #t(): Tok {
    while (this.#toks.length <= this.#i) {
      const next = this.#tokens.next();
      this.#toks.push(next.done ? this.#eof : next.value);
    }
    return this.#toks[this.#i]!;
  }
  #err(msg: string, tok: Tok = this.#t): FleetwatchError {
    return alarmSyntaxError(
      this.#src,
      `${msg}${tok.kind === 'eof' ? ' (end of input)' : ` near ${tok.text}`}`,
      tok.pos,
    );
  }
  #atEnd(): boolean {
    return this.#t.kind === 'eof';
  }
  #isOp(text: string): boolean {
    return this.#t.kind === 'op' && this.#t.text === text;
  }
  #isWord(text: string): boolean {
    return this.#t.kind === 'ident' && this.#t.text === text;
  }
  #expectOp(text: string): Tok {
    if (!this.#isOp(text)) throw this.#err(`expected "${text}"`);
    return this.#toks[this.#i++]!;
  }
  /** Run `fn` one nesting level deeper. */
  #nested<T>(fn: () => T): T {
    if (++this.#depth > MAX_ALARM_NESTING) throw this.#err('rule nested too deeply');
    try {
      return fn();
    } finally {
      this.#depth--;
    }
  }
  /** The height a node over `children` has, checked against the bound (reported at `tok`). */
  #height(tok: Tok, ...children: Expr[]): number {
    let h = 0;
    for (const c of children) h = Math.max(h, heightOf(c));
    if (h + 1 > MAX_ALARM_EXPR_HEIGHT)
      throw this.#err(`expression deeper than ${MAX_ALARM_EXPR_HEIGHT} operators`, tok);
    return h + 1;
  }
  #bin(tok: Tok, l: Expr, r: Expr): Expr {
    return { k: 'bin', op: tok.text, l, r, h: this.#height(tok, l, r) };
  }

  /** Parse the whole rule. */
  parseProgram(): Program {
    const program = this.#parseRule();
    this.#matchLimit.chars = sharedMatchChars(this.#regexes);
    return program;
  }

  #parseRule(): Program {
    const decls: Record<string, string | number> = {};
    while (this.#isOp(':')) this.#parseDecl(decls);
    if (this.#isWord('if') || this.#isWord('return')) {
      const stmts: Stmt[] = [];
      while (!this.#atEnd()) {
        if (this.#isOp(':')) {
          this.#parseDecl(decls);
          continue;
        }
        stmts.push(this.#parseStmt());
      }
      return { stmts, decls };
    }
    const conditions: { e: Expr; text: string }[] = [];
    while (!this.#atEnd()) {
      const start = this.#t.pos;
      const e = this.#parseExpr();
      conditions.push({ e, text: this.#src.slice(start, this.#t.pos).trim() });
      if (this.#isOp(';')) this.#i++;
      else if (!this.#atEnd()) throw this.#err('expected ";" or end of rule');
    }
    if (conditions.length === 0) throw this.#err('empty rule');
    return { conditions, decls };
  }

  #parseDecl(decls: Record<string, string | number>): void {
    this.#expectOp(':');
    if (!this.#isWord('set')) throw this.#err('expected "set"');
    this.#i++;
    const nameTok = this.#t;
    if (nameTok.kind !== 'ident') throw this.#err('expected a setting name');
    this.#i++;
    this.#expectOp('=');
    const v = this.#t;
    if (v.kind === 'eof') throw this.#err('expected a setting value');
    this.#i++;
    const name = nameTok.text;
    if (name === 'consecutiveCount' || name === 'recoveryCount') {
      if (v.kind !== 'num' || !Number.isInteger(v.num) || v.num! < 1 || v.num! > 10)
        throw this.#err(`${name} must be an integer 1..10`, v);
      decls[name] = v.num!;
    } else if (name === 'consistencyLevel') {
      if (v.kind !== 'ident' || !['ONE', 'QUORUM', 'ALL'].includes(v.text))
        throw this.#err('consistencyLevel must be ONE, QUORUM or ALL', v);
      decls[name] = v.text;
    } else throw this.#err(`unknown setting ${name}`, nameTok);
    if (this.#isOp(';')) this.#i++;
  }

  #parseBlock(): Stmt[] {
    if (!this.#isOp('{')) return [this.#parseStmt()];
    this.#i++;
    const out: Stmt[] = [];
    while (!this.#isOp('}')) {
      if (this.#atEnd()) throw this.#err('expected "}"');
      out.push(this.#parseStmt());
    }
    this.#i++;
    return out;
  }

  #parseStmt(): Stmt {
    return this.#nested(() => {
      if (this.#isWord('if')) {
        this.#i++;
        this.#expectOp('(');
        const cond = this.#parseExpr();
        this.#expectOp(')');
        const then = this.#parseBlock();
        if (this.#isWord('else')) {
          this.#i++;
          return { k: 'if', cond, then, else: this.#parseBlock() };
        }
        return { k: 'if', cond, then };
      }
      if (this.#isWord('return')) {
        this.#i++;
        const stmt = this.#parseStatus();
        if (this.#isOp(';')) this.#i++;
        return stmt;
      }
      throw this.#err('expected "if" or "return"');
    });
  }

  #parseState(): AlarmState {
    const t = this.#t;
    if (t.kind !== 'ident' || !(ALARM_STATES as readonly string[]).includes(t.text))
      throw this.#err('expected OK, WARNING, CRITICAL or UNKNOWN');
    this.#i++;
    return t.text as AlarmState;
  }

  #parseMessage(): string {
    if (this.#t.kind !== 'str') throw this.#err('expected a message string');
    return this.#toks[this.#i++]!.str!;
  }

  #parseStatus(): Stmt {
    const wrapped = this.#isWord('new');
    if (wrapped) {
      this.#i++;
      if (!this.#isWord('AlarmStatus')) throw this.#err('expected AlarmStatus');
      this.#i++;
      this.#expectOp('(');
    }
    const state = this.#parseState();
    let message: string | undefined;
    if (this.#isOp(',')) {
      this.#i++;
      message = this.#parseMessage();
    }
    if (wrapped) this.#expectOp(')');
    return message === undefined ? { k: 'return', state } : { k: 'return', state, message };
  }

  #parseExpr(): Expr {
    return this.#nested(() => this.#parseOr());
  }
  /** A left-associative chain of `operand`s joined by any of `ops`. */
  #chain(ops: readonly string[], operand: () => Expr): Expr {
    let l = operand();
    while (ops.some((op) => this.#isOp(op))) {
      const tok = this.#toks[this.#i++]!;
      l = this.#bin(tok, l, operand());
    }
    return l;
  }
  /** A prefix operator `op` (node kind `k`) applied any number of times to `operand`. */
  #prefix(op: string, k: 'not' | 'neg', operand: () => Expr): Expr {
    if (!this.#isOp(op)) return operand();
    const tok = this.#toks[this.#i++]!;
    const e = this.#nested(() => this.#prefix(op, k, operand));
    return { k, e, h: this.#height(tok, e) };
  }
  #parseOr(): Expr {
    return this.#chain(['||'], () => this.#parseAnd());
  }
  #parseAnd(): Expr {
    return this.#chain(['&&'], () => this.#parseNot());
  }
  #parseNot(): Expr {
    return this.#prefix('!', 'not', () => this.#parseCmp());
  }
  #parseCmp(): Expr {
    const l = this.#parseAdd();
    const t = this.#t;
    if (t.kind === 'op' && COMPARISONS.includes(t.text)) {
      this.#i++;
      return this.#bin(t, l, this.#parseAdd());
    }
    if (t.kind === 'ident' && (t.text === 'regex' || t.text === 'nregex')) {
      this.#i++;
      const p = this.#t;
      if (p.kind !== 'str') throw this.#err('expected a regular expression string');
      this.#i++;
      const re = compileSafeRegex(p.str!, 'alarm', p.pos + 1);
      this.#regexes.push(re);
      return { k: 're', neg: t.text === 'nregex', l, re, limit: this.#matchLimit, h: this.#height(t, l) };
    }
    return l;
  }
  #parseAdd(): Expr {
    return this.#chain(['+', '-'], () => this.#parseMul());
  }
  #parseMul(): Expr {
    return this.#chain(['*', '/', '%'], () => this.#parseUnary());
  }
  #parseUnary(): Expr {
    return this.#prefix('-', 'neg', () => this.#parsePrimary());
  }
  #parsePrimary(): Expr {
    const t = this.#t;
    switch (t.kind) {
      case 'num':
        this.#i++;
        return { k: 'lit', v: t.num! };
      case 'dur':
        this.#i++;
        return { k: 'dur', ms: t.num! };
      case 'str':
        this.#i++;
        return { k: 'lit', v: t.str! };
      case 'op':
        if (t.text === '(') {
          this.#i++;
          const e = this.#parseExpr();
          this.#expectOp(')');
          return e;
        }
        if (t.text === '[') return this.#parsePlaceholder();
        throw this.#err('expected a value');
      case 'ident':
        return this.#parseIdent();
      default:
        throw this.#err('expected a value');
    }
  }
  /** Gatus placeholders: [STATUS], [RESPONSE_TIME], [CERTIFICATE_EXPIRATION], [DNS_RCODE]. */
  #parsePlaceholder(): Expr {
    this.#i++;
    const name = this.#t;
    const metric =
      name.kind === 'ident' && Object.hasOwn(GATUS_PLACEHOLDERS, name.text)
        ? GATUS_PLACEHOLDERS[name.text]
        : undefined;
    if (metric === undefined)
      throw this.#err(`expected one of ${Object.keys(GATUS_PLACEHOLDERS).join(', ')}`);
    this.#i++;
    this.#expectOp(']');
    return { k: 'metric', name: metric };
  }
  #parseIdent(): Expr {
    const t = this.#t;
    this.#i++;
    if (t.text === 'true' || t.text === 'false') return { k: 'lit', v: t.text === 'true' };
    if (t.text === 'metric') {
      this.#expectOp('[');
      if (this.#t.kind !== 'str') throw this.#err('expected a metric name string');
      const name = this.#t.str!;
      this.#i++;
      this.#expectOp(']');
      return { k: 'metric', name };
    }
    if (t.text.startsWith('metric.') && t.text.length > 7) return { k: 'metric', name: t.text.slice(7) };
    if (this.#isOp('(')) return this.#parseCall(t);
    if (RESERVED.includes(t.text)) throw this.#err('expected a value', t);
    return { k: 'ident', name: t.text };
  }
  #parseCall(t: Tok): Expr {
    const arity = Object.hasOwn(FUNCTIONS, t.text) ? FUNCTIONS[t.text] : undefined;
    if (arity === undefined) throw this.#err(`unknown function ${t.text}`, t);
    this.#i++;
    const args: Expr[] = [];
    while (!this.#isOp(')')) {
      if (args.length >= arity) throw this.#err(`${t.text}() takes ${arity} argument(s)`, t);
      if (args.length > 0) this.#expectOp(',');
      args.push(this.#parseExpr());
    }
    this.#i++;
    if (args.length !== arity) throw this.#err(`${t.text}() takes ${arity} argument(s)`, t);
    if ((t.text === 'previous' || t.text === 'rate') && metricName(args[0]!) === undefined)
      throw this.#err(`${t.text}() takes a metric`, t);
    return { k: 'call', fn: t.text, args, h: this.#height(t, ...args) };
  }
}
