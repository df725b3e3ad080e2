import type { QueryAst } from './query-types.js';
import { chainOperands, validateQueryAst } from './query-walk.js';

const SAFE = /^[A-Za-z0-9_.\-*/:@+,]+$/;

function printText(text: string): string {
  return SAFE.test(text) ? text : `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

const PREC = { or: 1, and: 2, not: 3, all: 4, field: 4, tag: 4 } as const;

/** Print a node; chains are printed with a loop (see chainOperands), so depth stays bounded. */
export function printNode(ast: QueryAst, minPrec: number): string {
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
      out = `not ${printNode(ast.operand, PREC.not)}`;
      break;
    case 'and':
    case 'or': {
      const prec = PREC[ast.type];
      out = chainOperands(ast)
        .map((operand, i) => printNode(operand, i === 0 ? prec : prec + 1))
        .join(` ${ast.type} `);
      break;
    }
  }
  return PREC[ast.type] < minPrec ? `(${out})` : out;
}

/**
 * Print an AST as canonical query text; `parseQuery(printQuery(ast))` gives `ast` back.
 *
 * @throws FleetwatchError `E_VALIDATION` for an AST that is not a valid `QueryAst` (see `validateQueryAst`).
 * @example
 * ```ts
 * printQuery(parseQuery('NOT (provider:ec2 OR zone:us-*)')); // 'not (provider:ec2 or zone:us-*)'
 * ```
 */
export function printQuery(ast: QueryAst): string {
  validateQueryAst(ast);
  return printNode(ast, 0);
}
