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
 * The work one match may do, in compiled instructions × characters of subject. A pattern built to
 * defeat RE2's cached DFA (`(a|b)*a(a|b){20}$` on random `a`/`b` text) costs about one new DFA state,
 * O(program size), per character. Measured on the project's shared 2-core machine under load (best of
 * 3, re2js 2.10): 0.17 µs per instruction × character at worst (program 68 over 4 KiB: 48 ms), about
 * 0.1 µs for programs of 300–4000 instructions. 300 000 units is therefore ≤ 50 ms for every pattern
 * measured; a simple pattern (a few instructions) still reads {@link DEFAULT_MAX_MATCH_CHARS}.
 */
export const MATCH_WORK_BUDGET = 300_000;

/** Characters of a subject a regex reads unless a check says otherwise (`maxMatchChars`): 64 Ki. */
export const DEFAULT_MAX_MATCH_CHARS = 65_536;

/** Largest `maxMatchChars` a check accepts: 1 Mi (the work budget still applies). */
export const MAX_MATCH_CHARS = 1_048_576;

/**
 * A regular expression that runs on RE2 semantics (via `re2js`): matching takes time linear in the
 * subject, whatever the pattern, so a pattern a user wrote and a text a target sent cannot combine
 * into catastrophic backtracking. The syntax is RE2's: no backreferences and no lookaround.
 *
 * Linear is not free: a match reads at most `min(maxChars, maxSubjectChars)` characters of its subject
 * (the rest is ignored, so `$` means the end of that prefix), which bounds one match to
 * {@link MATCH_WORK_BUDGET} and so the event loop to about 50 ms.
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
  /** Compiled instructions (re2js `programSize()`): what one character of subject costs. */
  readonly programSize: number;
  /** Most characters of a subject this pattern reads: `floor(MATCH_WORK_BUDGET / programSize)`. */
  readonly maxSubjectChars: number;
  /**
   * True when the pattern matches anywhere in the first `min(maxChars, maxSubjectChars)` characters
   * of `text` (`maxChars` defaults to {@link DEFAULT_MAX_MATCH_CHARS}).
   */
  test(text: string, maxChars?: number): boolean;
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
  const programSize = Math.max(1, re.programSize());
  const maxSubjectChars = Math.floor(MATCH_WORK_BUDGET / programSize);
  return Object.freeze({
    source: pattern,
    programSize,
    maxSubjectChars,
    test: (text: string, maxChars = DEFAULT_MAX_MATCH_CHARS) => {
      const limit = Math.min(maxChars, maxSubjectChars);
      return re.test(text.length > limit ? text.slice(0, limit) : text);
    },
  });
}

/**
 * How many characters each of several patterns applied to one input may read so that all of them
 * together stay within {@link MATCH_WORK_BUDGET}: `floor(budget / Σ programSize)`, at most `maxChars`.
 *
 * @example
 * ```ts
 * const limit = sharedMatchChars([bodyRegex, ...Object.values(bodyMatches)], 65_536);
 * const ok = bodyRegex.test(body, limit);
 * ```
 */
export function sharedMatchChars(regexes: readonly SafeRegex[], maxChars = DEFAULT_MAX_MATCH_CHARS): number {
  const total = regexes.reduce((sum, re) => sum + re.programSize, 0);
  return total === 0 ? maxChars : Math.min(maxChars, Math.floor(MATCH_WORK_BUDGET / total));
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
