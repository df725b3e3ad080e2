/**
 * Writing responses: security headers on everything, JSON bodies, errors as JSON with a
 * FleetwatchError code, and bounded request bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FleetwatchError, type FleetwatchErrorCode, isFleetwatchError } from '../errors.js';
import type { ErrorResponse } from './types.js';

/** The page's Content-Security-Policy: no inline script or style, nothing from elsewhere. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers sent with every response of the handler. */
export function securityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
}

/** Send a JSON body (never cached). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

const STATUS: Partial<Record<FleetwatchErrorCode, number>> = {
  E_VALIDATION: 400,
  E_MALFORMED_REQUEST: 400,
  E_QUERY_TOO_LARGE: 400,
  E_AUTH: 401,
  E_NOT_FOUND: 404,
  E_UNSUPPORTED: 405,
  E_RATE_LIMIT: 429,
  E_CLOSED: 503,
  E_STORE_UNAVAILABLE: 503,
  E_TIMEOUT: 504,
  E_ABORTED: 499,
};

/** The HTTP status for an error code. */
export function statusOf(code: FleetwatchErrorCode): number {
  return STATUS[code] ?? 500;
}

/** The numbers and limit name of a cost-guard error (nothing else from `details`). */
function costDetails(d: Record<string, unknown>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const k of ['limit', 'max', 'requested'])
    if (typeof d[k] === 'string' || typeof d[k] === 'number') out[k] = d[k] as string | number;
  return out;
}

/**
 * Send an error as `{ error: { code, message, path? } }`. Anything that is not a FleetwatchError is
 * reported as `E_INTERNAL` with a generic message (its text may hold internals); log it yourself.
 */
export function sendError(res: ServerResponse, err: unknown, status?: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = isFleetwatchError(err) ? err : new FleetwatchError('E_INTERNAL', 'internal error');
  const body: ErrorResponse = { error: { code: e.code, message: e.message } };
  if (e.path !== undefined) body.error.path = e.path;
  if (e.expected !== undefined) body.error.expected = e.expected;
  if (e.position !== undefined) body.error.position = e.position;
  if (e.code === 'E_QUERY_TOO_LARGE' && e.details !== undefined) body.error.details = costDetails(e.details);
  if (e.code === 'E_AUTH' && e.path === undefined)
    res.setHeader('www-authenticate', 'Bearer realm="fleetwatch"');
  // a refused write (CSRF) is forbidden, not unauthenticated
  const forbidden = e.code === 'E_AUTH' && e.path === 'x-fleetwatch-csrf';
  sendJson(res, status ?? (forbidden ? 403 : statusOf(e.code)), body);
}

/** A request body as parsed JSON, at most `max` bytes; a body a framework already parsed is used as is. */
export function readJsonBody(req: IncomingMessage, max = 65_536): Promise<unknown> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== undefined && typeof parsed === 'object' && parsed !== null && !Buffer.isBuffer(parsed))
    return Promise.resolve(parsed);
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type))
    return Promise.reject(
      new FleetwatchError('E_MALFORMED_REQUEST', 'expected a JSON body (content-type: application/json)', {
        path: 'content-type',
      }),
    );
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        // stop keeping it, read the rest away so the error response reaches the client
        req.off('data', onData);
        req.resume();
        chunks.length = 0;
        reject(new FleetwatchError('E_MALFORMED_REQUEST', `body larger than ${max} bytes`, { path: 'body' }));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('error', reject);
    req.on('end', () => {
      if (size > max) return;
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new FleetwatchError('E_MALFORMED_REQUEST', 'body is not valid JSON', { path: 'body' }));
      }
    });
  });
}
