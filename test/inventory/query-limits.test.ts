import { describe, expect, it } from 'vitest';
import {
  compileQuery,
  MAX_QUERY_AST_DEPTH,
  parseQuery,
  printQuery,
  type QueryAst,
} from '../../src/inventory/query.js';
import type { Node } from '../../src/providers/types.js';
import { thrown } from '../helpers/errors.js';
import { withinTimeBound } from '../helpers/fuzz.js';

const node = (name: string): Node =>
  ({
    uid: 'ec2:r:i',
    provider: 'ec2',
    kind: 'ec2',
    id: 'i',
    name,
    state: 'running',
    region: 'r',
    tags: {},
    publicIps: [],
    privateIps: [],
  }) as unknown as Node;

describe('query language - time bounds on long input', () => {
  it('`name:w********y` on a 41-char name stays within the bound', () => {
    const q = compileQuery('name:w********y');
    expect(withinTimeBound(() => q.matches(node(`w${'x'.repeat(40)}`)))).toBe(false);
    expect(q.matches(node(`w${'x'.repeat(39)}y`))).toBe(true);
  });

  it('`name:w********y` on a 1 MiB name stays within the bound', () => {
    const q = compileQuery('name:w********y');
    expect(withinTimeBound(() => q.matches(node(`w${'x'.repeat((1 << 20) - 1)}`)))).toBe(false);
    expect(withinTimeBound(() => q.matches(node(`w${'x'.repeat((1 << 20) - 2)}y`)))).toBe(true);
  });

  it('a pattern of thousands of stars and pieces on a 1 MiB name stays within the bound', () => {
    const q = withinTimeBound(() => compileQuery(`name:${'*a'.repeat(4000)}*b`));
    expect(withinTimeBound(() => q.matches(node('a'.repeat(1 << 20))))).toBe(false);
    const long = withinTimeBound(() => compileQuery(`name:*${'a'.repeat(5000)}b*`));
    expect(withinTimeBound(() => long.matches(node('a'.repeat(1 << 20))))).toBe(false);
  });

  it('a 1 MiB query is rejected at once with E_VALIDATION at the length limit', () => {
    const err = thrown(() => withinTimeBound(() => parseQuery(`name:${'x'.repeat(1 << 20)}`)));
    expect(err).toMatchObject({ code: 'E_VALIDATION', path: 'query', position: 10_000 });
  });

  it('long CIDR-looking values and quoted runs are handled in linear time', () => {
    for (const q of [`ip:${'1'.repeat(9990)}/8`, `ip:${':'.repeat(9990)}/8`, `ip:${'1.'.repeat(4990)}/8`]) {
      expect(thrown(() => withinTimeBound(() => parseQuery(q))).code).toBe('E_VALIDATION');
    }
    const quoted = `tag:${'"a\\""'.repeat(1990)}`;
    expect(withinTimeBound(() => parseQuery(quoted))).toMatchObject({ type: 'tag' });
  });

  it('a chain of 5,000 terms parses, prints, compiles and matches without deep recursion', () => {
    const text = Array(5000).fill('a').join(' ');
    const ast = withinTimeBound(() => parseQuery(text));
    const printed = withinTimeBound(() => printQuery(ast));
    expect(printed === Array(5000).fill('name:a').join(' and ')).toBe(true);
    const q = withinTimeBound(() => compileQuery(text));
    expect(q.matches(node('a'))).toBe(true);
    expect(q.matches(node('b'))).toBe(false);
  });
});

describe('query language - hand-built ASTs', () => {
  it('a 100,000-deep AST is rejected with E_VALIDATION, not a stack overflow', () => {
    let deep: QueryAst = { type: 'field', field: 'name', value: 'a' };
    for (let i = 0; i < 100_000; i++) deep = { type: 'not', operand: deep };
    expect(thrown(() => printQuery(deep))).toMatchObject({ code: 'E_VALIDATION', path: 'query' });
    expect(thrown(() => compileQuery(deep)).message).toMatch(`deeper than ${MAX_QUERY_AST_DEPTH}`);
    let right: QueryAst = { type: 'field', field: 'name', value: 'a' };
    for (let i = 0; i < 100_000; i++) right = { type: 'and', left: { type: 'all' }, right };
    expect(thrown(() => compileQuery(right)).code).toBe('E_VALIDATION');
  });

  it('a malformed node is rejected with E_VALIDATION naming it', () => {
    const bad = { type: 'and', left: { type: 'field', field: 'name', value: 'a' }, right: { type: 'nope' } };
    expect(thrown(() => compileQuery(bad as unknown as QueryAst)).message).toMatch(/unknown node type nope/);
  });
});
