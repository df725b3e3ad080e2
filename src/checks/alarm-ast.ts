import type { SafeRegex } from './safe-regex.js';

/** The states an alarm (and a check target) can be in. */
export type AlarmState = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

/** Every alarm state. */
export const ALARM_STATES: readonly AlarmState[] = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'];

/** An alarm expression node. `h` is the height of the subtree (1 for a leaf). */
export type Expr =
  | { k: 'lit'; v: number | string | boolean }
  | { k: 'dur'; ms: number }
  | { k: 'metric'; name: string }
  | { k: 'ident'; name: string }
  | { k: 'call'; fn: string; args: Expr[]; h: number }
  | { k: 'not'; e: Expr; h: number }
  | { k: 'neg'; e: Expr; h: number }
  | { k: 'bin'; op: string; l: Expr; r: Expr; h: number }
  | { k: 're'; neg: boolean; l: Expr; re: SafeRegex; limit: { readonly chars: number }; h: number };

/** An alarm statement (the Rackspace form). */
export type Stmt =
  | { k: 'if'; cond: Expr; then: Stmt[]; else?: Stmt[] }
  | { k: 'return'; state: AlarmState; message?: string };

/** A parsed alarm. */
export interface Program {
  /** Statements (Rackspace form) or undefined for the one-liner form. */
  stmts?: Stmt[];
  /** One-liner conditions (all must hold), with their source text. */
  conditions?: { e: Expr; text: string }[];
  decls: Record<string, string | number>;
}

/** Height of an expression tree (1 for a leaf). */
export function heightOf(e: Expr): number {
  return 'h' in e ? e.h : 1;
}

/** The metric an argument of `previous()`/`rate()` names, if it names one. */
export function metricName(e: Expr): string | undefined {
  if (e.k === 'metric' || e.k === 'ident') return e.name;
  if (e.k === 'lit' && typeof e.v === 'string') return e.v;
  return undefined;
}
