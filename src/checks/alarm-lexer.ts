import { FleetwatchError } from '../errors.js';

/** Kinds of alarm tokens. */
export type TokKind = 'num' | 'dur' | 'str' | 'ident' | 'op' | 'eof';

/** One alarm token. */
export interface Tok {
  kind: TokKind;
  text: string;
  pos: number;
  /** numeric value for num/dur (dur in ms) */
  num?: number;
  /** decoded value for str */
  str?: string;
}

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '{', '}', '[', ']', ',', ';', '='];
const ARITH = ['+', '-', '*', '/', '%', ':'];
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isIdentStart = (c: string | undefined) =>
  c !== undefined && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c === '_');
const isIdentPart = (c: string | undefined) => isIdentStart(c) || isDigit(c) || c === '.';

/**
 * The `E_VALIDATION` error for a fault in an alarm's text: the message gives line:column, `position`
 * the 0-based offset.
 *
 * @example
 * ```ts
 * throw alarmSyntaxError(source, 'unterminated string', 12);
 * ```
 */
export function alarmSyntaxError(source: string, message: string, pos: number): FleetwatchError {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return new FleetwatchError('E_VALIDATION', `alarm: ${message} at ${line}:${col}`, {
    path: 'alarm',
    position: pos,
    expected: 'a valid alarm rule',
  });
}

/** Read a duration unit (`ms`, `s`, `m`, `h`, `d`) at `i` that is not followed by a word character. */
function durationUnit(src: string, i: number): string | undefined {
  for (const unit of ['ms', 's', 'm', 'h', 'd']) {
    if (src.startsWith(unit, i) && !isIdentStart(src[i + unit.length]) && !isDigit(src[i + unit.length]))
      return unit;
  }
  return undefined;
}

/**
 * Split an alarm's text into tokens, in one linear pass, lazily: a parser that stops at the first
 * error has read only the text up to it.
 *
 * @throws FleetwatchError `E_VALIDATION` with `position` for an unknown character, a bad number or an
 *   unterminated string or comment.
 * @example
 * ```ts
 * [...alarmTokens('code == 200')].map((t) => t.text); // ['code', '==', '200', '']
 * ```
 */
export function* alarmTokens(src: string): Generator<Tok, void, undefined> {
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw alarmSyntaxError(src, 'unterminated comment', i);
      i = end + 2;
      continue;
    }
    const start = i;
    if (isDigit(c)) {
      while (isDigit(src[i])) i++;
      if (src[i] === '.' && isDigit(src[i + 1])) {
        i++;
        while (isDigit(src[i])) i++;
      }
      const value = Number(src.slice(start, i));
      const unit = durationUnit(src, i);
      if (unit !== undefined) {
        i += unit.length;
        yield { kind: 'dur', text: src.slice(start, i), pos: start, num: value * DURATION_MS[unit]! };
      } else {
        if (isIdentStart(src[i])) throw alarmSyntaxError(src, 'bad number', start);
        yield { kind: 'num', text: src.slice(start, i), pos: start, num: value };
      }
      continue;
    }
    if (c === "'" || c === '"') {
      const parts: string[] = [];
      i++;
      for (;;) {
        if (i >= n) throw alarmSyntaxError(src, 'unterminated string', start);
        const d = src[i]!;
        if (d === c) break;
        if (d === '\\') {
          const e = src[i + 1];
          if (e === undefined) throw alarmSyntaxError(src, 'unterminated string', start);
          parts.push(e === 'n' ? '\n' : e === 't' ? '\t' : e);
          i += 2;
          continue;
        }
        parts.push(d);
        i++;
      }
      i++;
      yield { kind: 'str', text: src.slice(start, i), pos: start, str: parts.join('') };
      continue;
    }
    if (isIdentStart(c)) {
      while (isIdentPart(src[i])) i++;
      yield { kind: 'ident', text: src.slice(start, i), pos: start };
      continue;
    }
    const two = src.slice(i, i + 2);
    const op = OPS.includes(two) ? two : OPS.includes(c) || ARITH.includes(c) ? c : undefined;
    if (op === undefined) throw alarmSyntaxError(src, `unexpected character ${JSON.stringify(c)}`, i);
    i += op.length;
    yield { kind: 'op', text: op, pos: start };
  }
  yield { kind: 'eof', text: '', pos: n };
}
