/**
 * The tag query language: `tag:role=web and state:running`, `not (provider:ec2 or zone:us-east-1*)`,
 * `ip:10.0.0.0/8`. {@link parseQuery} turns text into an AST, {@link printQuery} turns it back,
 * {@link compileQuery} builds a reusable predicate (cached by text). Grammar, precedence
 * (not > and > or) and errors are described in docs/query-language.md.
 */

import { FleetwatchError } from '../errors.js';
import { NODE_STATES, type Node, PROVIDER_KINDS } from '../providers/types.js';
import { cidrContains, ipEquals, ipv4ToInt, parseCidr, parseIp } from './ip.js';
import { compileWildcard } from './wildcard.js';

/** Node fields a term can test (besides tags). */
export type QueryField =
  | 'provider'
  | 'kind'
  | 'state'
  | 'region'
  | 'zone'
  | 'name'
  | 'id'
  | 'ip'
  | 'size'
  | 'image';

/** Which tags a tag term reads: merged view (`tag:`), local only (`localtag:`), provider only (`providertag:`). */
export type QueryTagScope = 'tag' | 'localtag' | 'providertag';

/** Every field term name, in a stable order. */
export const QUERY_FIELDS: readonly QueryField[] = [
  'provider',
  'kind',
  'state',
  'region',
  'zone',
  'name',
  'id',
  'ip',
  'size',
  'image',
];

/** Every tag scope. */
export const QUERY_TAG_SCOPES: readonly QueryTagScope[] = ['tag', 'localtag', 'providertag'];

/**
 * A parsed query. Values may hold `*` wildcards (any run of characters, including none). `and`
 * and `or` are binary and left-associative; `all` is the empty query (it matches every node).
 */
export type QueryAst =
  | { type: 'all' }
  | { type: 'field'; field: QueryField; value: string }
  | { type: 'tag'; scope: QueryTagScope; key: string; value?: string }
  | { type: 'not'; operand: QueryAst }
  | { type: 'and'; left: QueryAst; right: QueryAst }
  | { type: 'or'; left: QueryAst; right: QueryAst };

/** What a compiled query reads: a provider {@link Node}, optionally with the inventory's tag views. */
export type QueryTarget = Node & {
  readonly localTags?: Readonly<Record<string, string>>;
  readonly mergedTags?: Readonly<Record<string, string>>;
};

/** A compiled, reusable query predicate. */
export interface CompiledQuery {
  /** The canonical text of the query (`printQuery(ast)`). */
  readonly text: string;
  /** The parsed query. */
  readonly ast: QueryAst;
  /** True when the node matches. */
  readonly matches: (node: QueryTarget) => boolean;
}

/** Longest accepted query text. */
export const MAX_QUERY_LENGTH = 10_000;
/** Deepest accepted nesting of parentheses and `not`. */
export const MAX_QUERY_DEPTH = 64;

function queryError(message: string, position: number, expected?: string): FleetwatchError {
  return new FleetwatchError('E_VALIDATION', `query: ${message} at position ${position}`, {
    path: 'query',
    position,
    ...(expected === undefined ? {} : { expected }),
  });
}

// ------------------------------------------------------------------------------------------ lexing

interface Piece {
  text: string;
  quoted: boolean;
  pos: number;
}

type Token =
  | { kind: '(' | ')'; pos: number }
  | { kind: 'and' | 'or' | 'not'; pos: number }
  | { kind: 'word'; pos: number; pieces: Piece[] };

const WS = /\s/u;

function lex(src: string): Token[] {
  const tokens: Token[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src[i]!;
    if (WS.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: c, pos: i });
      i++;
      continue;
    }
    const start = i;
    const pieces: Piece[] = [];
    while (i < n) {
      const ch = src[i]!;
      if (ch === '(' || ch === ')' || WS.test(ch)) break;
      if (ch === '"') {
        const qpos = i;
        let text = '';
        i++;
        for (;;) {
          if (i >= n) throw queryError('unterminated quoted string', qpos, 'a closing "');
          const q = src[i]!;
          if (q === '"') break;
          if (q === '\\') {
            if (i + 1 >= n) throw queryError('unterminated quoted string', qpos, 'a closing "');
            text += src[i + 1]!;
            i += 2;
          } else {
            text += q;
            i++;
          }
        }
        i++;
        pieces.push({ text, quoted: true, pos: qpos });
      } else {
        const ppos = i;
        while (i < n) {
          const u = src[i]!;
          if (u === '"' || u === '(' || u === ')' || WS.test(u)) break;
          i++;
        }
        pieces.push({ text: src.slice(ppos, i), quoted: false, pos: ppos });
      }
    }
    const only = pieces.length === 1 && !pieces[0]!.quoted ? pieces[0]!.text.toLowerCase() : undefined;
    if (only === 'and' || only === 'or' || only === 'not') tokens.push({ kind: only, pos: start });
    else tokens.push({ kind: 'word', pos: start, pieces });
  }
  return tokens;
}

// ------------------------------------------------------------------------------------------ terms

const FIELD_SET = new Set<string>(QUERY_FIELDS);
const SCOPE_SET = new Set<string>(QUERY_TAG_SCOPES);
const STATE_SET = new Set<string>(NODE_STATES);
const KIND_SET = new Set<string>(PROVIDER_KINDS);

/** Split pieces at the first unquoted occurrence of `sep`; `undefined` when there is none. */
function splitPieces(pieces: Piece[], sep: string): [Piece[], Piece[]] | undefined {
  for (let p = 0; p < pieces.length; p++) {
    const piece = pieces[p]!;
    if (piece.quoted) continue;
    const k = piece.text.indexOf(sep);
    if (k < 0) continue;
    const before = pieces.slice(0, p);
    const after = pieces.slice(p + 1);
    if (k > 0) before.push({ text: piece.text.slice(0, k), quoted: false, pos: piece.pos });
    if (k + 1 < piece.text.length)
      after.unshift({ text: piece.text.slice(k + 1), quoted: false, pos: piece.pos + k + 1 });
    return [before, after];
  }
  return undefined;
}

const join = (pieces: Piece[]): string => pieces.map((p) => p.text).join('');

function parseTerm(tok: { pos: number; pieces: Piece[] }): QueryAst {
  const first = tok.pieces[0]!;
  const colon = first.quoted ? -1 : first.text.indexOf(':');
  if (colon < 0) return { type: 'field', field: 'name', value: join(tok.pieces) };
  const name = first.text.slice(0, colon).toLowerCase();
  const [, rest] = splitPieces(tok.pieces, ':')!;
  const valuePos = first.pos + colon + 1;
  if (SCOPE_SET.has(name)) {
    const scope = name as QueryTagScope;
    const split = splitPieces(rest, '=');
    const keyPieces = split === undefined ? rest : split[0];
    const key = join(keyPieces);
    if (key === '') throw queryError(`expected a tag key after '${name}:'`, valuePos, 'a tag key');
    if (split === undefined) return { type: 'tag', scope, key };
    if (split[1].length === 0)
      throw queryError(`expected a value after '='`, valuePos + key.length + 1, 'a tag value');
    return { type: 'tag', scope, key, value: join(split[1]) };
  }
  if (!FIELD_SET.has(name))
    throw queryError(
      name === '' ? `expected a field name before ':'` : `unknown field '${name}'`,
      tok.pos,
      `one of ${[...QUERY_TAG_SCOPES, ...QUERY_FIELDS].join(', ')}`,
    );
  const field = name as QueryField;
  if (rest.length === 0) throw queryError(`expected a value after '${name}:'`, valuePos, 'a value');
  const value = join(rest);
  if (!value.includes('*')) {
    if (field === 'state' && !STATE_SET.has(value))
      throw queryError(`unknown state '${value}'`, valuePos, `one of ${NODE_STATES.join(', ')}`);
    if (field === 'kind' && !KIND_SET.has(value))
      throw queryError(`unknown provider kind '${value}'`, valuePos, `one of ${PROVIDER_KINDS.join(', ')}`);
    if (field === 'ip' && value.includes('/') && parseCidr(value) === undefined)
      throw queryError(`invalid CIDR block '${value}'`, valuePos, 'an IPv4 or IPv6 CIDR block');
  }
  return { type: 'field', field, value };
}

// ------------------------------------------------------------------------------------------ parsing

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private posHere(): number {
    return this.peek()?.pos ?? this.length;
  }

  parse(): QueryAst {
    if (this.tokens.length === 0) return { type: 'all' };
    const ast = this.parseOr();
    const extra = this.peek();
    if (extra !== undefined)
      throw queryError(`unexpected '${extra.kind === 'word' ? 'term' : extra.kind}'`, extra.pos);
    return ast;
  }

  private parseOr(): QueryAst {
    let left = this.parseAnd();
    while (this.peek()?.kind === 'or') {
      this.i++;
      left = { type: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): QueryAst {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (t === undefined) return left;
      if (t.kind === 'and') this.i++;
      else if (t.kind !== 'word' && t.kind !== 'not' && t.kind !== '(') return left;
      left = { type: 'and', left, right: this.parseUnary() };
    }
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_QUERY_DEPTH)
      throw queryError(`nesting deeper than ${MAX_QUERY_DEPTH}`, pos, 'a shallower query');
  }

  private parseUnary(): QueryAst {
    const t = this.peek();
    if (t === undefined) throw queryError('unexpected end of query', this.length, 'a term, not or (');
    if (t.kind === 'not') {
      this.i++;
      this.enter(t.pos);
      const operand = this.parseUnary();
      this.depth--;
      return { type: 'not', operand };
    }
    if (t.kind === '(') {
      this.i++;
      this.enter(t.pos);
      if (this.peek()?.kind === ')') throw queryError('empty parentheses', t.pos, 'a query inside ( )');
      const inner = this.parseOr();
      const close = this.peek();
      if (close?.kind !== ')')
        throw queryError(`missing ')' for the '(' opened at ${t.pos}`, this.posHere(), "')'");
      this.i++;
      this.depth--;
      return inner;
    }
    if (t.kind === 'word') {
      this.i++;
      return parseTerm(t);
    }
    throw queryError(`unexpected '${t.kind}'`, t.pos, 'a term, not or (');
  }
}

/**
 * Parse query text into an AST. The empty (or all-whitespace) query is `{ type: 'all' }`.
 *
 * @throws FleetwatchError `E_VALIDATION` with `path: 'query'` and the 0-based `position` of the error.
 */
export function parseQuery(text: string): QueryAst {
  if (typeof text !== 'string')
    throw new FleetwatchError('E_VALIDATION', 'query: expected a string', { path: 'query', position: 0 });
  if (text.length > MAX_QUERY_LENGTH)
    throw queryError(`longer than ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH, 'a shorter query');
  return new Parser(lex(text), text.length).parse();
}

// ------------------------------------------------------------------------------------------ printing

const SAFE = /^[A-Za-z0-9_.\-*/:@+,]+$/;

function printText(text: string): string {
  return SAFE.test(text) ? text : `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

const PREC = { or: 1, and: 2, not: 3, all: 4, field: 4, tag: 4 } as const;

function print(ast: QueryAst, minPrec: number): string {
  let out: string;
  switch (ast.type) {
    case 'all':
      return '';
    case 'field':
      out = `${ast.field}:${printText(ast.value)}`;
      break;
    case 'tag':
      out = `${ast.scope}:${printText(ast.key)}${ast.value === undefined ? '' : `=${printText(ast.value)}`}`;
      break;
    case 'not':
      out = `not ${print(ast.operand, PREC.not)}`;
      break;
    case 'and':
      out = `${print(ast.left, PREC.and)} and ${print(ast.right, PREC.and + 1)}`;
      break;
    case 'or':
      out = `${print(ast.left, PREC.or)} or ${print(ast.right, PREC.or + 1)}`;
      break;
  }
  return PREC[ast.type] < minPrec ? `(${out})` : out;
}

/** Print an AST as canonical query text; `parseQuery(printQuery(ast))` gives `ast` back. */
export function printQuery(ast: QueryAst): string {
  return print(ast, 0);
}

// ------------------------------------------------------------------------------------------ compiling

type Pred = (node: QueryTarget) => boolean;
type StringTest = (value: string | undefined) => boolean;

/** A matcher for one value pattern: exact, or `*` wildcards without backtracking (see wildcard.ts). */
function valueTest(pattern: string): StringTest {
  return compileWildcard(pattern);
}

function tagsOf(scope: QueryTagScope): (n: QueryTarget) => Readonly<Record<string, string>> {
  if (scope === 'providertag') return (n) => n.tags;
  if (scope === 'localtag') return (n) => n.localTags ?? EMPTY;
  return (n) => n.mergedTags ?? n.tags;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const hasOwn = Object.prototype.hasOwnProperty;

function compileTag(ast: Extract<QueryAst, { type: 'tag' }>): Pred {
  const get = tagsOf(ast.scope);
  const key = ast.key;
  const valueOk = ast.value === undefined ? undefined : valueTest(ast.value);
  if (key.includes('*')) {
    const keyOk = valueTest(key);
    return (n) => {
      const tags = get(n);
      for (const k in tags)
        if (hasOwn.call(tags, k) && keyOk(k) && (valueOk === undefined || valueOk(tags[k]))) return true;
      return false;
    };
  }
  if (valueOk === undefined) return (n) => hasOwn.call(get(n), key);
  if (ast.value !== undefined && !ast.value.includes('*')) {
    // Equality with a string needs no own-property check: inherited Object.prototype members are
    // never strings. The merged-tag case is written out: it is the hot one.
    const want = ast.value;
    if (ast.scope === 'tag') return (n) => (n.mergedTags ?? n.tags)[key] === want;
    return (n) => get(n)[key] === want;
  }
  return (n) => {
    const tags = get(n);
    return hasOwn.call(tags, key) && valueOk(tags[key]);
  };
}

/** Parsed addresses per IP list: node IP arrays are not mutated, so parse each list once. */
const parsedIps = new WeakMap<readonly string[], Array<Uint8Array | undefined>>();

function parsedList(ips: readonly string[]): Array<Uint8Array | undefined> {
  let out = parsedIps.get(ips);
  if (out === undefined) {
    out = ips.map(parseIp);
    parsedIps.set(ips, out);
  }
  return out;
}

function compileIp(value: string): Pred {
  if (value.includes('*')) {
    const t = valueTest(value);
    return (n) => n.publicIps.some(t) || n.privateIps.some(t);
  }
  const cidr = value.includes('/') ? parseCidr(value) : undefined;
  const want = cidr === undefined ? parseIp(value) : undefined;
  if (cidr === undefined && want === undefined)
    return (n) => n.publicIps.includes(value) || n.privateIps.includes(value);
  if (cidr !== undefined && cidr.bytes.length === 4) {
    const b = cidr.bytes;
    const net = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const divisor = 2 ** (32 - cidr.prefix);
    const top = Math.floor(net / divisor);
    const inV4 = (ip: string) => {
      const v = ipv4ToInt(ip);
      return v >= 0 && Math.floor(v / divisor) === top;
    };
    return (n) => n.publicIps.some(inV4) || n.privateIps.some(inV4);
  }
  const test =
    cidr !== undefined
      ? (b: Uint8Array | undefined) => b !== undefined && cidrContains(cidr, b)
      : (b: Uint8Array | undefined) => b !== undefined && ipEquals(b, want!);
  return (n) => parsedList(n.publicIps).some(test) || parsedList(n.privateIps).some(test);
}

/** Exact-value field terms, written out so each is one property read and one comparison. */
function compileFieldEquals(field: Exclude<QueryField, 'ip'>, v: string): Pred {
  switch (field) {
    case 'provider':
      return (n) => n.provider === v;
    case 'kind':
      return (n) => n.kind === v;
    case 'state':
      return (n) => n.state === v;
    case 'region':
      return (n) => n.region === v;
    case 'zone':
      return (n) => n.zone === v;
    case 'name':
      return (n) => n.name === v;
    case 'id':
      return (n) => n.id === v;
    case 'size':
      return (n) => n.size === v;
    case 'image':
      return (n) => n.image === v;
  }
}

function compileField(field: QueryField, value: string): Pred {
  if (field === 'ip') return compileIp(value);
  if (!value.includes('*')) return compileFieldEquals(field, value);
  const t = valueTest(value);
  switch (field) {
    case 'provider':
      return (n) => t(n.provider);
    case 'kind':
      return (n) => t(n.kind);
    case 'state':
      return (n) => t(n.state);
    case 'region':
      return (n) => t(n.region);
    case 'zone':
      return (n) => t(n.zone);
    case 'name':
      return (n) => t(n.name);
    case 'id':
      return (n) => t(n.id);
    case 'size':
      return (n) => t(n.size);
    case 'image':
      return (n) => t(n.image);
  }
}

function compile(ast: QueryAst): Pred {
  switch (ast.type) {
    case 'all':
      return () => true;
    case 'field':
      return compileField(ast.field, ast.value);
    case 'tag':
      return compileTag(ast);
    case 'not': {
      const p = compile(ast.operand);
      return (n) => !p(n);
    }
    case 'and': {
      const a = compile(ast.left);
      const b = compile(ast.right);
      return (n) => a(n) && b(n);
    }
    case 'or': {
      const a = compile(ast.left);
      const b = compile(ast.right);
      return (n) => a(n) || b(n);
    }
  }
}

const CACHE_SIZE = 512;
const cache = new Map<string, CompiledQuery>();

/**
 * Compile a query (text or AST) into a reusable predicate. Texts are cached (the 512 most recently
 * used), so calling this on every request is cheap.
 *
 * @throws FleetwatchError `E_VALIDATION` (with `position`) for invalid text.
 */
export function compileQuery(query: string | QueryAst): CompiledQuery {
  if (typeof query !== 'string') {
    const text = printQuery(query);
    return Object.freeze({ text, ast: query, matches: compile(query) });
  }
  const hit = cache.get(query);
  if (hit !== undefined) {
    cache.delete(query);
    cache.set(query, hit);
    return hit;
  }
  const ast = parseQuery(query);
  const compiled: CompiledQuery = Object.freeze({ text: printQuery(ast), ast, matches: compile(ast) });
  cache.set(query, compiled);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return compiled;
}
