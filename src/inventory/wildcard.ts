/**
 * `*` wildcards (any run of characters, including none) matched without a regular expression, in
 * time linear in the subject for a given pattern: the pattern is split at its stars, the first piece
 * must be a prefix, the last a suffix, and each piece between is found left to right with `indexOf`.
 * Taking the leftmost place for each middle piece is always right for star-only patterns (a later
 * place can only leave less room for the rest), so there is no backtracking. Consecutive stars are one.
 *
 * Used by the inventory query language and by series selection in the metrics stores.
 */

/** A compiled wildcard test. `undefined` (a missing value) never matches. */
export type WildcardTest = (value: string | undefined) => boolean;

/**
 * Compiles a pattern with `*` wildcards into a test.
 *
 * @example
 * ```ts
 * const isUs = compileWildcard('us-*');
 * isUs('us-east-1'); // true
 * isUs('eu-west-1'); // false
 * ```
 */
export function compileWildcard(pattern: string): WildcardTest {
  if (!pattern.includes('*')) return (v) => v === pattern;
  const pieces = pattern.split('*');
  const head = pieces[0] as string;
  const tail = pieces[pieces.length - 1] as string;
  const middle = pieces.slice(1, -1).filter((p) => p.length > 0);
  const minLength = head.length + tail.length + middle.reduce((n, p) => n + p.length, 0);
  if (head === '' && tail === '' && middle.length === 0) return (v) => v !== undefined;
  return (v) => {
    if (v === undefined || v.length < minLength) return false;
    if (!v.startsWith(head) || !v.endsWith(tail)) return false;
    let at = head.length;
    const end = v.length - tail.length;
    for (const piece of middle) {
      const found = v.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}
