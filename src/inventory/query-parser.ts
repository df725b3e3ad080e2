import { FleetwatchError } from '../errors.js';
import { NODE_STATES } from '../providers/types.js';
import { isCidr } from './ip.js';
import { lexQuery, type Piece, type Token } from './query-lexer.js';
import {
  MAX_QUERY_DEPTH,
  MAX_QUERY_LENGTH,
  QUERY_FIELDS,
  QUERY_TAG_SCOPES,
  type QueryAst,
  type QueryField,
  type QueryTagScope,
  queryError,
} from './query-types.js';

const FIELD_SET = new Set<string>(QUERY_FIELDS);
const SCOPE_SET = new Set<string>(QUERY_TAG_SCOPES);
const STATE_SET = new Set<string>(NODE_STATES);

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

/**
 * One term (`tag:k=v`, `field:value`, or a bare name) as an AST node.
 *
 * @throws FleetwatchError `E_VALIDATION` for an unknown field, a missing key or value, an unknown
 *   state, or an invalid CIDR block. A `kind:` value is any value (custom providers bring their own kinds).
 */
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
    if (field === 'ip' && value.includes('/') && !isCidr(value))
      throw queryError(`invalid CIDR block '${value}'`, valuePos, 'an IPv4 or IPv6 CIDR block');
  }
  return { type: 'field', field, value };
}

/**
 * Recursive-descent parser over the tokens: `or` and `and` chains are loops (left-associative), and
 * recursion happens only for `not` and parentheses, bounded by {@link MAX_QUERY_DEPTH}.
 */
class QueryParser {
  #i = 0;
  #depth = 0;
  readonly #tokens: Token[];
  readonly #length: number;

  constructor(tokens: Token[], length: number) {
    this.#tokens = tokens;
    this.#length = length;
  }

  #peek(): Token | undefined {
    return this.#tokens[this.#i];
  }

  #posHere(): number {
    return this.#peek()?.pos ?? this.#length;
  }

  parse(): QueryAst {
    if (this.#tokens.length === 0) return { type: 'all' };
    const ast = this.#parseOr();
    const extra = this.#peek();
    if (extra !== undefined)
      throw queryError(`unexpected '${extra.kind === 'word' ? 'term' : extra.kind}'`, extra.pos);
    return ast;
  }

  #parseOr(): QueryAst {
    let left = this.#parseAnd();
    while (this.#peek()?.kind === 'or') {
      this.#i++;
      left = { type: 'or', left, right: this.#parseAnd() };
    }
    return left;
  }

  #parseAnd(): QueryAst {
    let left = this.#parseUnary();
    for (;;) {
      const t = this.#peek();
      if (t === undefined) return left;
      if (t.kind === 'and') this.#i++;
      else if (t.kind !== 'word' && t.kind !== 'not' && t.kind !== '(') return left;
      left = { type: 'and', left, right: this.#parseUnary() };
    }
  }

  #enter(pos: number): void {
    if (++this.#depth > MAX_QUERY_DEPTH)
      throw queryError(`nesting deeper than ${MAX_QUERY_DEPTH}`, pos, 'a shallower query');
  }

  #parseUnary(): QueryAst {
    const t = this.#peek();
    if (t === undefined) throw queryError('unexpected end of query', this.#length, 'a term, not or (');
    if (t.kind === 'not') {
      this.#i++;
      this.#enter(t.pos);
      const operand = this.#parseUnary();
      this.#depth--;
      return { type: 'not', operand };
    }
    if (t.kind === '(') {
      this.#i++;
      this.#enter(t.pos);
      if (this.#peek()?.kind === ')') throw queryError('empty parentheses', t.pos, 'a query inside ( )');
      const inner = this.#parseOr();
      const close = this.#peek();
      if (close?.kind !== ')')
        throw queryError(`missing ')' for the '(' opened at ${t.pos}`, this.#posHere(), "')'");
      this.#i++;
      this.#depth--;
      return inner;
    }
    if (t.kind === 'word') {
      this.#i++;
      return parseTerm(t);
    }
    throw queryError(`unexpected '${t.kind}'`, t.pos, 'a term, not or (');
  }
}

/**
 * Parse query text into an AST. The empty (or all-whitespace) query is `{ type: 'all' }`. Linear in
 * the text, which may be up to `MAX_QUERY_LENGTH` characters.
 *
 * @throws FleetwatchError `E_VALIDATION` with `path: 'query'` and the 0-based `position` of the error.
 * @example
 * ```ts
 * parseQuery('tag:role=web and state:running');
 * // { type: 'and', left: { type: 'tag', scope: 'tag', key: 'role', value: 'web' },
 * //   right: { type: 'field', field: 'state', value: 'running' } }
 * ```
 */
export function parseQuery(text: string): QueryAst {
  if (typeof text !== 'string')
    throw new FleetwatchError('E_VALIDATION', 'query: expected a string', { path: 'query', position: 0 });
  if (text.length > MAX_QUERY_LENGTH)
    throw queryError(`longer than ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH, 'a shorter query');
  return new QueryParser(lexQuery(text), text.length).parse();
}
