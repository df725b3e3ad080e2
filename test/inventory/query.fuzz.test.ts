import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileQuery,
  MAX_QUERY_LENGTH,
  parseQuery,
  printQuery,
  QUERY_FIELDS,
  type QueryAst,
  validateQueryAst,
} from '../../src/inventory/query.js';
import type { Node } from '../../src/providers/types.js';
import { fuzzParams, repeatedPiece, withinTimeBound } from '../helpers/fuzz.js';
import { onlyValidationErrors, QUERY_WORDS, querySoup } from '../helpers/query.js';

const node = (name: string, tags: Record<string, string> = {}): Node =>
  ({
    uid: `ec2:us-east-1:${name.slice(0, 8)}`,
    provider: 'ec2',
    kind: 'ec2',
    id: name.slice(0, 8),
    name,
    state: 'running',
    region: 'us-east-1',
    tags,
    publicIps: ['1.2.3.4'],
    privateIps: ['10.0.0.1'],
  }) as unknown as Node;

/** Short soups and long ones: a piece repeated up to past the length limit. */
const queryText = fc.oneof(
  querySoup(60),
  repeatedPiece(QUERY_WORDS, { maxWords: 6, maxRepeat: 1 << 18, maxLength: 1 << 20 }),
);

const term: fc.Arbitrary<QueryAst> = fc.oneof(
  fc.record({
    type: fc.constant('field' as const),
    field: fc.constantFrom(...QUERY_FIELDS.filter((f) => f !== 'state' && f !== 'kind' && f !== 'ip')),
    value: fc.string({ minLength: 1, maxLength: 12 }),
  }),
  fc.record(
    {
      type: fc.constant('tag' as const),
      scope: fc.constantFrom('tag' as const, 'localtag' as const, 'providertag' as const),
      key: fc.string({ minLength: 1, maxLength: 8 }),
      value: fc.string({ minLength: 1, maxLength: 8 }),
    },
    { requiredKeys: ['type', 'scope', 'key'] },
  ),
);
/** ASTs as the parser builds them: chains of any length, nesting within the parser's bound. */
const ast: fc.Arbitrary<QueryAst> = fc.letrec<{ node: QueryAst }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 8 },
    term,
    fc.record({ type: fc.constant('not' as const), operand: tie('node') }),
    fc
      .tuple(
        fc.constantFrom('and' as const, 'or' as const),
        fc.array(tie('node'), { minLength: 2, maxLength: 6 }),
      )
      .map(([type, ops]) => ops.slice(1).reduce<QueryAst>((left, right) => ({ type, left, right }), ops[0]!)),
  ),
})).node;

describe('query language - fuzz', () => {
  it('parseQuery/compileQuery throw nothing but E_VALIDATION, each input within the time bound', () => {
    const n = node('web-1', { role: 'web' });
    fc.assert(
      fc.property(queryText, (q) => {
        withinTimeBound(() =>
          onlyValidationErrors(() => {
            compileQuery(q).matches(n);
          }),
        );
      }),
      fuzzParams(400),
    );
  });

  it('parseQuery(printQuery(ast)) gives the AST back, each within the time bound', () => {
    fc.assert(
      fc.property(ast, (a) => {
        const text = withinTimeBound(() => printQuery(a));
        if (text.length > MAX_QUERY_LENGTH) return;
        expect(withinTimeBound(() => parseQuery(text))).toEqual(a);
      }),
      fuzzParams(400),
    );
  });

  it('hand-built values that are not ASTs are rejected with E_VALIDATION, never a TypeError', () => {
    const junk = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', maxDepth: 5 },
        fc.constantFrom(null, undefined, 1, 'x', {}),
        fc.record(
          {
            type: fc.constantFrom('and', 'or', 'not', 'field', 'tag', 'all', 'bogus'),
            left: tie('v'),
            right: tie('v'),
            operand: tie('v'),
            field: fc.constantFrom('name', 'nope', 3),
            value: fc.constantFrom('x', 3, undefined),
            scope: fc.constantFrom('tag', 'x'),
            key: fc.constantFrom('k', '', 1),
          },
          { requiredKeys: ['type'] },
        ),
      ),
    })).v;
    fc.assert(
      fc.property(junk, (v) => {
        onlyValidationErrors(() => {
          validateQueryAst(v as QueryAst);
          compileQuery(v as QueryAst).matches(node('x'));
        });
      }),
      fuzzParams(400),
    );
  });

  it('many-star wildcards on long names stay within the time bound and agree with a regex on short ones', () => {
    const pattern = fc
      .array(fc.constantFrom('*', '*', 'a', 'b', 'ab'), { minLength: 1, maxLength: 40 })
      .map((p) => p.join(''));
    const subject = fc
      .tuple(fc.array(fc.constantFrom('a', 'b'), { maxLength: 8 }), fc.integer({ min: 1, max: 1 << 17 }))
      .map(([s, n]) =>
        s
          .join('')
          .repeat(n)
          .slice(0, 1 << 20),
      );
    fc.assert(
      fc.property(pattern, subject, (p, s) => {
        const got = withinTimeBound(() => compileQuery(`name:${p}`).matches(node(s)));
        // against the backtracking meaning, where that is cheap: short subjects, few star groups
        if (s.length <= 64 && (p.match(/\*+/g) ?? []).length <= 4) {
          const re = new RegExp(`^${p.replace(/\*+/g, '.*')}$`, 's');
          expect(got).toBe(re.test(s));
        }
      }),
      fuzzParams(300),
    );
  });
});
