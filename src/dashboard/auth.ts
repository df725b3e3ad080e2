/**
 * Authentication and CSRF: a bearer token (constant-time compare) or the app's `authorize(req)`;
 * browser sessions as an HttpOnly SameSite=Strict cookie, since EventSource cannot send headers; writes
 * need a same-origin request carrying the session's CSRF token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../core.js';

/** The cookie name of a dashboard session. */
export const SESSION_COOKIE = 'fw_sid';
/** The header carrying the CSRF token on writes. */
export const CSRF_HEADER = 'x-fleetwatch-csrf';
const MAX_SESSIONS = 10_000;

interface Session {
  csrf: string;
  expires: number;
}

/** How a request proved who it is. */
export type AuthResult =
  | { ok: false }
  | { ok: true; via: 'bearer' | 'authorize' }
  | { ok: true; via: 'session'; csrf: string };

const digest = (s: string) => createHash('sha256').update(s).digest();

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Bearer tokens, the `authorize` hook and browser sessions. */
export class DashboardAuthenticator {
  readonly #token: Buffer | undefined;
  readonly #authorize: ((req: IncomingMessage) => boolean | Promise<boolean>) | undefined;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #sessions = new Map<string, Session>();

  constructor(o: {
    token: string | undefined;
    authorize: ((req: IncomingMessage) => boolean | Promise<boolean>) | undefined;
    clock: Clock;
    ttlS: number;
  }) {
    this.#token = o.token === undefined ? undefined : digest(o.token);
    this.#authorize = o.authorize;
    this.#clock = o.clock;
    this.#ttlMs = o.ttlS * 1000;
  }

  /** True when `Authorization: Bearer` carries the configured token. */
  bearer(req: IncomingMessage): boolean {
    const h = req.headers.authorization;
    if (this.#token === undefined || typeof h !== 'string' || h.length > 4096) return false;
    const m = /^Bearer ([\x21-\x7e]+)$/.exec(h);
    return m !== null && timingSafeEqual(digest(m[1]!), this.#token);
  }

  /** Who the request is: bearer header, a live session cookie, or the app's hook. */
  async check(req: IncomingMessage): Promise<AuthResult> {
    if (this.bearer(req)) return { ok: true, via: 'bearer' };
    const sid = cookie(req, SESSION_COOKIE);
    if (sid !== undefined) {
      const s = this.#sessions.get(sid);
      if (s !== undefined) {
        if (s.expires > this.#clock.now()) return { ok: true, via: 'session', csrf: s.csrf };
        this.#sessions.delete(sid);
      }
    }
    if (this.#authorize !== undefined) {
      try {
        if ((await this.#authorize(req)) === true) return { ok: true, via: 'authorize' };
      } catch {
        return { ok: false };
      }
    }
    return { ok: false };
  }

  /** Open a session: its id (the cookie value) and CSRF token. The oldest is dropped past the cap. */
  open(): { sid: string; csrf: string; ttlS: number } {
    const now = this.#clock.now();
    if (this.#sessions.size >= MAX_SESSIONS) {
      for (const [k, s] of this.#sessions) if (s.expires <= now) this.#sessions.delete(k);
      if (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    }
    const sid = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    this.#sessions.set(sid, { csrf, expires: now + this.#ttlMs });
    return { sid, csrf, ttlS: this.#ttlMs / 1000 };
  }

  /** End the session named by the request's cookie. */
  end(req: IncomingMessage): void {
    const sid = cookie(req, SESSION_COOKIE);
    if (sid !== undefined) this.#sessions.delete(sid);
  }
}

/**
 * Whether a write may proceed. Bearer-header clients are not browsers acting on someone's behalf, so
 * they pass. Others need a request that says it is same-origin (`Sec-Fetch-Site`, else a matching
 * `Origin`) and the CSRF header: the session's token, or (with `authorize`) the header present, which a
 * cross-site form cannot send and cross-site `fetch` cannot send without a CORS preflight we never answer.
 */
export function csrfOk(req: IncomingMessage, auth: AuthResult): boolean {
  if (!auth.ok) return false;
  if (auth.via === 'bearer') return true;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    if (host !== req.headers.host) return false;
  } else if (site === undefined) return false;
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || sent.length === 0 || sent.length > 200) return false;
  if (auth.via !== 'session') return true;
  const a = digest(sent);
  return timingSafeEqual(a, digest(auth.csrf));
}
