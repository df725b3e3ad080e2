import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';
import { validationError } from '../errors.js';

/** Longest regular expression accepted (alarm `regex`/`nregex`, http `bodyRegex`/`bodyMatches`, tcp `expect`). */
export const MAX_REGEX_LENGTH = 1024;

/**
 * Largest estimated program (instructions after expanding repeats such as `{100}`) accepted. Keeps the
 * compile at `add()` in the low milliseconds: compiling costs a few microseconds per instruction.
 */
export const MAX_REGEX_PROGRAM = 10_000;

/**
 * A regular expression that runs on RE2 semantics (via `re2js`): matching takes time linear in the
 * subject, whatever the pattern, so a pattern a user wrote and a text a target sent cannot combine
 * into catastrophic backtracking. The syntax is RE2's: no backreferences and no lookaround.
 *
 * @example
 * ```ts
 * const re = compileSafeRegex('(a+)+$', 'http.bodyRegex');
 * re.test('a'.repeat(30) + '!'); // false, in microseconds
 * ```
 */
export interface SafeRegex {
  /** The pattern as written. */
  readonly source: string;
  /** True when the pattern matches anywhere in `text`. */
  test(text: string): boolean;
}

/**
 * Compile a user's pattern for linear-time matching.
 *
 * @param pattern the pattern text (RE2 syntax).
 * @param path the field it came from, named in errors (`http.bodyRegex`, `alarm`).
 * @param offset added to positions in errors (where the pattern starts in a larger text).
 * @throws FleetwatchError `E_VALIDATION` naming `path` with the 0-based `position` of the fault, for
 *   a syntax error, an unsupported construct (backreference, lookaround) or a pattern too large.
 * @example
 * ```ts
 * compileSafeRegex('(a)\\1', 'tcp.expect'); // throws E_VALIDATION: invalid escape sequence at position 3
 * ```
 */
export function compileSafeRegex(pattern: string, path: string, offset = 0): SafeRegex {
  if (pattern.length > MAX_REGEX_LENGTH)
    throw validationError(path, `a regular expression of at most ${MAX_REGEX_LENGTH} chars`, pattern, {
      position: offset + MAX_REGEX_LENGTH,
    });
  const size = estimateProgramSize(pattern);
  if (size.total > MAX_REGEX_PROGRAM)
    throw validationError(
      path,
      `a regular expression expanding to at most ${MAX_REGEX_PROGRAM} instructions (repeats multiply)`,
      pattern,
      { position: offset + size.at },
    );
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    const fragment = err instanceof RE2JSSyntaxException ? err.input : null;
    const at = fragment ? pattern.indexOf(fragment) : -1;
    const what = err instanceof RE2JSSyntaxException ? err.error : err.message;
    throw validationError(path, `a valid RE2 regular expression (${what})`, pattern, {
      position: offset + Math.max(0, at),
    });
  }
  return Object.freeze({ source: pattern, test: (text: string) => re.test(text) });
}

/**
 * A conservative estimate of a pattern's compiled size, by one linear scan: each atom counts one,
 * a counted repeat multiplies what it repeats. `at` is where the running total first passed the cap.
 */
function estimateProgramSize(p: string): { total: number; at: number } {
  const stack: number[] = [0];
  let last = 0;
  let at = 0;
  let total = 0;
  const add = (frame: number, counted: number, i: number) => {
    stack[stack.length - 1]! += frame;
    total += counted;
    if (at === 0 && total > MAX_REGEX_PROGRAM) at = i;
  };
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '(') {
      if (stack.length > 1000) return { total: Number.POSITIVE_INFINITY, at: i };
      stack.push(0);
      last = 0;
      continue;
    }
    if (c === ')') {
      const inner = stack.length > 1 ? stack.pop()! : 0;
      last = inner + 1;
      add(last, 1, i);
      continue;
    }
    if (c === '{') {
      let j = i + 1;
      let n = 0;
      let m = -1;
      while (j < p.length && p[j]! >= '0' && p[j]! <= '9' && n < 1e6) n = n * 10 + Number(p[j++]);
      if (j > i + 1 && p[j] === ',') {
        j++;
        const digits = j;
        m = 0;
        while (j < p.length && p[j]! >= '0' && p[j]! <= '9' && m < 1e6) m = m * 10 + Number(p[j++]);
        if (j === digits) m = n + 1;
      }
      if (j > i + 1 && p[j] === '}') {
        const count = Math.max(n, m, 1);
        add(last * (count - 1), last * (count - 1), i);
        last *= count;
        i = j;
        continue;
      }
    }
    if (c === '\\') {
      i++;
      if ((p[i] === 'p' || p[i] === 'P' || p[i] === 'x') && p[i + 1] === '{') {
        const end = p.indexOf('}', i);
        i = end < 0 ? p.length : end;
      }
    } else if (c === '[') {
      i++;
      if (p[i] === '^') i++;
      if (p[i] === ']') i++;
      while (i < p.length && p[i] !== ']') i += p[i] === '\\' ? 2 : 1;
    }
    last = 1;
    add(1, 1, i);
  }
  return { total, at };
}
