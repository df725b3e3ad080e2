/**
 * The tag query language: `tag:role=web and state:running`, `not (provider:ec2 or zone:us-east-1*)`,
 * `ip:10.0.0.0/8`. {@link parseQuery} turns text into an AST, {@link printQuery} turns it back,
 * {@link compileQuery} builds a reusable predicate (cached by text). Grammar, precedence
 * (not > and > or), limits and errors are described in docs/query-language.md.
 */
export { compileQuery } from './query-compile.js';
export { parseQuery } from './query-parser.js';
export { printQuery } from './query-print.js';
export type { CompiledQuery, QueryAst, QueryField, QueryTagScope, QueryTarget } from './query-types.js';
export { MAX_QUERY_DEPTH, MAX_QUERY_LENGTH, QUERY_FIELDS, QUERY_TAG_SCOPES } from './query-types.js';
export { MAX_QUERY_AST_DEPTH, validateQueryAst } from './query-walk.js';
