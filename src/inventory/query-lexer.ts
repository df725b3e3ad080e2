import { queryError } from './query-types.js';

/** A run of a word: quoted (taken literally) or not. */
export interface Piece {
  text: string;
  quoted: boolean;
  pos: number;
}

/** A query token. */
export type Token =
  | { kind: '(' | ')'; pos: number }
  | { kind: 'and' | 'or' | 'not'; pos: number }
  | { kind: 'word'; pos: number; pieces: Piece[] };

const WS = /\s/u;

/**
 * Split query text into tokens in one linear pass: parentheses, `and`/`or`/`not`, and words made of
 * quoted and unquoted pieces.
 *
 * @throws FleetwatchError `E_VALIDATION` for an unterminated quoted string.
 * @example
 * ```ts
 * lexQuery('tag:role=web and not state:stopped').map((t) => t.kind); // ['word', 'and', 'not', 'word']
 * ```
 */
export function lexQuery(src: string): Token[] {
  const tokens: Token[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src[i]!;
    if (WS.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: c, pos: i });
      i++;
      continue;
    }
    const start = i;
    const pieces: Piece[] = [];
    while (i < n) {
      const ch = src[i]!;
      if (ch === '(' || ch === ')' || WS.test(ch)) break;
      if (ch === '"') {
        const qpos = i;
        const chars: string[] = [];
        i++;
        for (;;) {
          if (i >= n) throw queryError('unterminated quoted string', qpos, 'a closing "');
          const q = src[i]!;
          if (q === '"') break;
          if (q === '\\') {
            if (i + 1 >= n) throw queryError('unterminated quoted string', qpos, 'a closing "');
            chars.push(src[i + 1]!);
            i += 2;
          } else {
            chars.push(q);
            i++;
          }
        }
        i++;
        pieces.push({ text: chars.join(''), quoted: true, pos: qpos });
      } else {
        const ppos = i;
        while (i < n) {
          const u = src[i]!;
          if (u === '"' || u === '(' || u === ')' || WS.test(u)) break;
          i++;
        }
        pieces.push({ text: src.slice(ppos, i), quoted: false, pos: ppos });
      }
    }
    const only = pieces.length === 1 && !pieces[0]!.quoted ? pieces[0]!.text.toLowerCase() : undefined;
    if (only === 'and' || only === 'or' || only === 'not') tokens.push({ kind: only, pos: start });
    else tokens.push({ kind: 'word', pos: start, pieces });
  }
  return tokens;
}
