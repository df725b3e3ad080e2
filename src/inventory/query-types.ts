import { FleetwatchError } from '../errors.js';
import type { Node } from '../providers/types.js';

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

/**
 * The `E_VALIDATION` error for a fault in query text, at a 0-based position.
 *
 * @example
 * ```ts
 * throw queryError('unexpected end of query', 12, 'a term');
 * ```
 */
export function queryError(message: string, position: number, expected?: string): FleetwatchError {
  return new FleetwatchError('E_VALIDATION', `query: ${message} at position ${position}`, {
    path: 'query',
    position,
    ...(expected === undefined ? {} : { expected }),
  });
}
