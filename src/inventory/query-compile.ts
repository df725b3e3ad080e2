import { ipMatcher } from './ip.js';
import { parseQuery } from './query-parser.js';
import { printNode, printQuery } from './query-print.js';
import type { CompiledQuery, QueryAst, QueryField, QueryTagScope, QueryTarget } from './query-types.js';
import { chainOperands } from './query-walk.js';
import { compileWildcard } from './wildcard.js';

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

function compileIp(value: string): Pred {
  if (value.includes('*')) {
    const t = valueTest(value);
    return (n) => n.publicIps.some(t) || n.privateIps.some(t);
  }
  const m = ipMatcher(value);
  if (m === undefined) return (n) => n.publicIps.includes(value) || n.privateIps.includes(value);
  return (n) => n.publicIps.some(m) || n.privateIps.some(m);
}

/** How each plain field is read from a node. */
const FIELD_VALUE: { [F in Exclude<QueryField, 'ip'>]: (n: QueryTarget) => string | undefined } = {
  provider: (n) => n.provider,
  kind: (n) => n.kind,
  state: (n) => n.state,
  region: (n) => n.region,
  zone: (n) => n.zone,
  name: (n) => n.name,
  id: (n) => n.id,
  size: (n) => n.size,
  image: (n) => n.image,
};

function compileField(field: QueryField, value: string): Pred {
  if (field === 'ip') return compileIp(value);
  const get = FIELD_VALUE[field];
  if (!value.includes('*')) return (n) => get(n) === value;
  const t = valueTest(value);
  return (n) => t(get(n));
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
    case 'and':
    case 'or': {
      const preds = chainOperands(ast).map(compile);
      if (preds.length === 2) {
        const [a, b] = preds as [Pred, Pred];
        return ast.type === 'and' ? (n) => a(n) && b(n) : (n) => a(n) || b(n);
      }
      return ast.type === 'and' ? (n) => preds.every((p) => p(n)) : (n) => preds.some((p) => p(n));
    }
  }
}

const CACHE_SIZE = 512;
const cache = new Map<string, CompiledQuery>();

/**
 * Compile a query (text or AST) into a reusable predicate. Texts are cached (the 512 most recently
 * used), so calling this on every request is cheap. Wildcards match in linear time (`compileWildcard`).
 *
 * @throws FleetwatchError `E_VALIDATION` (with `position`) for invalid text or an invalid AST.
 * @example
 * ```ts
 * const web = compileQuery('tag:role=web and not state:stopped');
 * nodes.filter(web.matches);
 * ```
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
  const compiled: CompiledQuery = Object.freeze({ text: printNode(ast, 0), ast, matches: compile(ast) });
  cache.set(query, compiled);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return compiled;
}
