import { FleetwatchError } from '../errors.js';
import { parseQuery, type QueryAst } from '../inventory/query.js';
import { compileWildcard } from '../inventory/wildcard.js';

/** A term a tag index can answer: series whose tag `key` equals `value` or starts with `prefix`. */
export interface IndexTerm {
  key: string;
  /** Exact value (no wildcard). */
  value?: string;
  /** Value prefix (the pattern was `prefix*`). */
  prefix?: string;
}

/** A compiled series selection (see `compileWhere`). */
export interface SeriesSelector {
  /** The parsed query. */
  readonly ast: QueryAst;
  /** True when a series with these tags is selected. */
  readonly matches: (tags: Readonly<Record<string, string>>) => boolean;
  /**
   * Terms every selected series satisfies (positive `tag:k=v` / `tag:k=prefix*` conjuncts at the
   * top level), so a store can read candidates from a tag index and re-check them with `matches`.
   */
  readonly required: readonly IndexTerm[];
}

type Pred = (tags: Readonly<Record<string, string>>) => boolean;
const hasOwn = Object.prototype.hasOwnProperty;

/** Position of the `n`-th (0-based) `word:` term named `name` in `text`, or 0 when not found. */
function termPosition(text: string, name: string, n: number): number {
  let from = 0;
  let seen = 0;
  for (;;) {
    const at = text.indexOf(`${name}:`, from);
    if (at < 0) return 0;
    const before = at === 0 ? ' ' : (text[at - 1] as string);
    if (/[\s(]/.test(before)) {
      if (seen === n) return at;
      seen++;
    }
    from = at + 1;
  }
}

/**
 * Compile a `where` text for series: the inventory's query language (`parseQuery`), where only
 * `tag:` terms make sense. Keys and values may hold `*` wildcards (matched in linear time by
 * `compileWildcard`); `tag:k` alone selects series that have the key.
 *
 * @throws FleetwatchError `E_VALIDATION` with `path` (e.g. `query.where`) and the 0-based `position`
 *   of a syntax error or of a term that does not apply to series (`state:`, `localtag:`, …).
 * @example
 * ```ts
 * const sel = compileWhere('tag:region=us-* and not tag:env=dev', 'query.where');
 * sel.matches({ region: 'us-east', env: 'prod' }); // true
 * ```
 */
export function compileWhere(text: string, path: string): SeriesSelector {
  let ast: QueryAst;
  try {
    ast = parseQuery(text);
  } catch (err) {
    if (err instanceof FleetwatchError) {
      throw new FleetwatchError('E_VALIDATION', err.message.replace(/^query:/, `${path}:`), {
        path,
        ...(err.position !== undefined ? { position: err.position } : {}),
        ...(err.expected !== undefined ? { expected: err.expected } : {}),
      });
    }
    throw err;
  }
  const seen = new Map<string, number>();
  const reject = (name: string, why: string): never => {
    const n = seen.get(name) ?? 0;
    const position = termPosition(text, name, n);
    throw new FleetwatchError('E_VALIDATION', `${path}: ${why} at position ${position}`, {
      path,
      position,
      expected: 'tag:key=value terms (series have tags only)',
      received: `${name}:`,
    });
  };
  const compile = (a: QueryAst): Pred => {
    switch (a.type) {
      case 'all':
        return () => true;
      case 'field':
        return reject(a.field, `'${a.field}:' applies to nodes, not series; use tag:${a.field}=…`);
      case 'tag': {
        if (a.scope !== 'tag')
          return reject(a.scope, `'${a.scope}:' applies to nodes; series have tag: only`);
        seen.set('tag', (seen.get('tag') ?? 0) + 1);
        const valueOk = a.value === undefined ? undefined : compileWildcard(a.value);
        const key = a.key;
        if (key.includes('*')) {
          const keyOk = compileWildcard(key);
          return (tags) => {
            for (const k in tags)
              if (hasOwn.call(tags, k) && keyOk(k) && (valueOk === undefined || valueOk(tags[k])))
                return true;
            return false;
          };
        }
        if (valueOk === undefined) return (tags) => hasOwn.call(tags, key);
        return (tags) => hasOwn.call(tags, key) && valueOk(tags[key]);
      }
      case 'not': {
        const p = compile(a.operand);
        return (t) => !p(t);
      }
      case 'and': {
        const l = compile(a.left);
        const r = compile(a.right);
        return (t) => l(t) && r(t);
      }
      case 'or': {
        const l = compile(a.left);
        const r = compile(a.right);
        return (t) => l(t) || r(t);
      }
    }
  };
  const matches = compile(ast);
  const required: IndexTerm[] = [];
  const collect = (a: QueryAst): void => {
    if (a.type === 'and') {
      collect(a.left);
      collect(a.right);
    } else if (a.type === 'tag' && a.value !== undefined && !a.key.includes('*')) {
      const star = a.value.indexOf('*');
      if (star < 0) required.push({ key: a.key, value: a.value });
      else if (star === a.value.length - 1 && star > 0)
        required.push({ key: a.key, prefix: a.value.slice(0, -1) });
    }
  };
  collect(ast);
  return Object.freeze({ ast, matches, required: Object.freeze(required) });
}
