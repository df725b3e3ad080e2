import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileWildcard } from '../../src/inventory/wildcard.js';
import { fuzzParams, withinTimeBound } from '../helpers/fuzz.js';

/** The obvious (backtracking) meaning of a star pattern, for small inputs only. */
function reference(pattern: string, s: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const k = `${i},${j}`;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === pattern.length) r = j === s.length;
    else if (pattern[i] === '*') r = go(i + 1, j) || (j < s.length && go(i, j + 1));
    else r = j < s.length && pattern[i] === s[j] && go(i + 1, j + 1);
    memo.set(k, r);
    return r;
  };
  return go(0, 0);
}

describe('compileWildcard', () => {
  it('matches exact, prefix, suffix, infix and bare-star patterns', () => {
    expect(compileWildcard('web')('web')).toBe(true);
    expect(compileWildcard('web')('web1')).toBe(false);
    expect(compileWildcard('us-*')('us-east-1')).toBe(true);
    expect(compileWildcard('*-1')('us-east-1')).toBe(true);
    expect(compileWildcard('u*t*1')('us-east-1')).toBe(true);
    expect(compileWildcard('u*x*1')('us-east-1')).toBe(false);
    expect(compileWildcard('*')('')).toBe(true);
    expect(compileWildcard('*')(undefined)).toBe(false);
    expect(compileWildcard('a*a')('a')).toBe(false);
    expect(compileWildcard('ab*ba')('aba')).toBe(false);
  });

  it('agrees with the backtracking definition on random patterns', () => {
    const alpha = fc.constantFrom('a', 'b', '*');
    fc.assert(
      fc.property(
        fc.array(alpha, { maxLength: 8 }),
        fc.array(fc.constantFrom('a', 'b'), { maxLength: 12 }),
        (p, s) => {
          const pattern = p.join('');
          const subject = s.join('');
          expect(compileWildcard(pattern)(subject)).toBe(reference(pattern, subject));
        },
      ),
      fuzzParams(500),
    );
  });

  it('takes linear time on the patterns that made the regex version take seconds', () => {
    const name = `w${'a'.repeat(1 << 20)}x`; // 1 MiB subject
    for (const pattern of ['w********y', `w${'*a'.repeat(2000)}*y`, '*a*a*a*a*a*a*a*a*a*a*y']) {
      expect(withinTimeBound(() => compileWildcard(pattern)(name))).toBe(false);
    }
  });
});
