import fc from 'fast-check';
import { expect } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';

/** Pieces of query syntax and nonsense that random query text is glued from. */
export const QUERY_WORDS = [
  '(',
  ')',
  '"',
  '\\',
  ' ',
  ':',
  '=',
  '*',
  '/',
  'a',
  'and',
  'or',
  'not',
  'tag',
  'name',
  'state',
  'ip',
  '10.0.0.0/8',
  '::',
  'é',
  '1',
  '.',
  '\u0000',
];

/** Random query text: any short string, or words of {@link QUERY_WORDS} glued together. */
export function querySoup(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength }),
    fc
      .array(fc.constantFrom(...QUERY_WORDS), { maxLength: Math.ceil(maxLength * 0.7) })
      .map((a) => a.join('')),
  );
}

/** Run `fn`; when it throws, the error must be an `E_VALIDATION` FleetwatchError (with a `position`, if asked). */
export function onlyValidationErrors(fn: () => void, opts: { position?: boolean } = {}): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code).toBe('E_VALIDATION');
    if (opts.position) expect(typeof (err as FleetwatchError).position).toBe('number');
  }
}
