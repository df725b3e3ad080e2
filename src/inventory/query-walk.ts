import { FleetwatchError } from '../errors.js';
import { MAX_QUERY_DEPTH, QUERY_FIELDS, QUERY_TAG_SCOPES, type QueryAst } from './query-types.js';

/**
 * Deepest AST {@link validateQueryAst} accepts, counting one level per `not` and per operand of an
 * `and`/`or` chain (a chain `a and b and …` of any length is one level). Anything `parseQuery` returns
 * is well within it.
 */
export const MAX_QUERY_AST_DEPTH = 4 * MAX_QUERY_DEPTH;

type Chain = Extract<QueryAst, { type: 'and' | 'or' }>;

/**
 * The operands of a left-leaning chain of one operator, in order: `a and b and c` (parsed as
 * `and(and(a, b), c)`) gives `[a, b, c]`. Walks the chain with a loop, so a chain of thousands of
 * terms costs no stack.
 *
 * @example
 * ```ts
 * chainOperands(parseQuery('a and b and c') as Extract<QueryAst, { type: 'and' }>).length; // 3
 * ```
 */
export function chainOperands(ast: Chain): QueryAst[] {
  const rights: QueryAst[] = [];
  let cur: QueryAst = ast;
  while (cur.type === ast.type) {
    rights.push((cur as Chain).right);
    cur = (cur as Chain).left;
  }
  rights.push(cur);
  return rights.reverse();
}

function invalid(message: string): FleetwatchError {
  return new FleetwatchError('E_VALIDATION', `query: ${message}`, { path: 'query', expected: 'a QueryAst' });
}

const FIELDS = new Set<string>(QUERY_FIELDS);
const SCOPES = new Set<string>(QUERY_TAG_SCOPES);

/**
 * Check an AST built by hand (not by `parseQuery`) before printing or compiling it: every node has a
 * known shape, and its depth is at most {@link MAX_QUERY_AST_DEPTH}. Iterative, so a hostile AST
 * cannot overflow the stack here either.
 *
 * @throws FleetwatchError `E_VALIDATION` with `path: 'query'` naming the first bad node.
 * @example
 * ```ts
 * validateQueryAst({ type: 'field', field: 'name', value: 'web-1' }); // ok
 * validateQueryAst({ type: 'nope' } as never); // throws E_VALIDATION
 * ```
 */
export function validateQueryAst(ast: QueryAst): void {
  const stack: Array<[unknown, number]> = [[ast, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_QUERY_AST_DEPTH) throw invalid(`AST deeper than ${MAX_QUERY_AST_DEPTH}`);
    if (typeof node !== 'object' || node === null) throw invalid('an AST node is not an object');
    const n = node as Record<string, unknown>;
    switch (n.type) {
      case 'all':
        break;
      case 'field':
        if (typeof n.field !== 'string' || !FIELDS.has(n.field))
          throw invalid(`unknown field ${String(n.field)}`);
        if (typeof n.value !== 'string') throw invalid(`field ${n.field} has no string value`);
        break;
      case 'tag':
        if (typeof n.scope !== 'string' || !SCOPES.has(n.scope))
          throw invalid(`unknown tag scope ${String(n.scope)}`);
        if (typeof n.key !== 'string' || n.key === '') throw invalid('a tag term has no key');
        if (n.value !== undefined && typeof n.value !== 'string')
          throw invalid(`tag ${n.key} has a non-string value`);
        break;
      case 'not':
        stack.push([n.operand, depth + 1]);
        break;
      case 'and':
      case 'or': {
        // the left spine of a chain is one level (see chainOperands)
        let cur: Record<string, unknown> = n;
        while (cur.type === n.type) {
          stack.push([cur.right, depth + 1]);
          const left = cur.left;
          if (typeof left !== 'object' || left === null) throw invalid('an AST node is not an object');
          cur = left as Record<string, unknown>;
        }
        stack.push([cur, depth + 1]);
        break;
      }
      default:
        throw invalid(`unknown node type ${String(n.type)}`);
    }
  }
}
