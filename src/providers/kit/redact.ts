/**
 * Redaction for everything the provider layer reports: URLs, headers, JSON fields, free text and
 * whole error chains. A secret is anything a request carried in a secret-named header, form field
 * or JSON field, plus what each provider registers (passwords, client secrets, issued tokens).
 */

const SECRET_KEY = /token|secret|password|passwd|key|signature|credential|auth|sig$|assertion|session/i;
const REDACTED = '[REDACTED]';

/** True for a header, query or body field name that may carry a secret. */
export function isSecretFieldName(name: string): boolean {
  return SECRET_KEY.test(name);
}

/** A URL with credentials removed and secret-looking query values replaced by `[REDACTED]`. */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return String(url)
      .replace(/\/\/[^/@\s]*@/, '//')
      .replace(/([?&][^=&]*(?:token|key|secret|sig)[^=&]*=)[^&]*/gi, `$1${REDACTED}`);
  }
  u.username = '';
  u.password = '';
  for (const name of [...u.searchParams.keys()]) {
    if (isSecretFieldName(name)) u.searchParams.set(name, REDACTED);
  }
  return u.toString();
}

/** Headers with `Authorization`, cookies and secret-looking names replaced by `[REDACTED]`. */
export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers))
    out[k] = isSecretFieldName(k) || /cookie/i.test(k) ? REDACTED : v;
  return out;
}

/** A deep copy of a JSON-like value with secret-looking fields replaced by `[REDACTED]`. */
export function redactFields(value: unknown, depth = 0): unknown {
  if (depth > 20) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactFields(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = isSecretFieldName(k) ? REDACTED : redactFields(v, depth + 1);
    return out;
  }
  return value;
}

/** The spellings a secret may come back in: as sent, URL-encoded, form-encoded, JSON-escaped. */
function spellings(secret: string): string[] {
  const form = new URLSearchParams({ s: secret }).toString().slice(2);
  return [secret, encodeURIComponent(secret), form, JSON.stringify(secret).slice(1, -1)];
}

/**
 * Replace every known secret (4+ chars, in any of its encodings) and any `Bearer …`/`Basic …`
 * value in `text` with `[REDACTED]`.
 *
 * @example
 * ```ts
 * scrubSecrets('denied for s3cr3t-value', ['s3cr3t-value']); // 'denied for [REDACTED]'
 * ```
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  const all = secrets
    .filter((s) => s.length >= 4)
    .flatMap(spellings)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of all) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out.replace(/(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`);
}

/** Pieces of a credential header (`AWS4-HMAC-SHA256 Credential=…, Signature=…`) long enough to matter. */
function headerPieces(value: string): string[] {
  return [value, ...value.split(/[\s,;=/]+/).filter((p) => p.length >= 12)];
}

/**
 * The secret values one request carries: secret-named headers (and the pieces of an
 * `Authorization` value), secret-named form fields and secret-named fields of a JSON body, at any
 * depth. They are scrubbed from whatever is reported about that request.
 *
 * @example
 * ```ts
 * requestSecrets({ authorization: 'Bearer t0k3n-value' }, { assertion: 'eyJ…' }); // ['Bearer t0k3n-value', 't0k3n-value', 'eyJ…']
 * ```
 */
export function requestSecrets(
  headers: Record<string, string | undefined>,
  form?: Record<string, string>,
  json?: unknown,
): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers))
    if (typeof v === 'string' && (isSecretFieldName(k) || /cookie/i.test(k))) out.push(...headerPieces(v));
  if (form) for (const [k, v] of Object.entries(form)) if (isSecretFieldName(k)) out.push(v);
  const walk = (value: unknown, depth: number): void => {
    if (depth > 20 || !value || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' && isSecretFieldName(k)) out.push(v);
      else walk(v, depth + 1);
    }
  };
  walk(json, 0);
  return out;
}

/** A JSON parser's message with the quoted body snippet removed (V8 quotes up to ~10 characters of it). */
function withoutQuotedBody(message: string): string {
  return message.replace(
    /,\s*(?:\.\.\.)?".*"(?:\.\.\.)?\s+is not valid JSON/s,
    ' (body not shown) is not valid JSON',
  );
}

/**
 * A safe copy of an error chain to keep as `cause`: each link becomes a plain `Error` with the same
 * `name` and string `code`, its message cut to the first line, stripped of quoted body snippets and
 * scrubbed; nothing else (request options, headers, responses, bodies) is kept.
 *
 * @example
 * ```ts
 * const cause = safeCause(err, (s) => scrubSecrets(s, [token]));
 * ```
 */
export function safeCause(err: unknown, scrub: (text: string) => string, depth = 0): Error | undefined {
  if (err === undefined || err === null || depth > 8) return undefined;
  const source = err instanceof Error ? err : undefined;
  const raw = source ? source.message : String(err);
  const message = scrub(withoutQuotedBody(raw.split(/\r?\n/)[0] ?? ''));
  const copy = new Error(
    message,
    source?.cause === undefined
      ? undefined
      : {
          cause: safeCause(source.cause, scrub, depth + 1),
        },
  );
  if (source) {
    Object.defineProperty(copy, 'name', { value: source.name, enumerable: false, configurable: true });
    const code = (source as { code?: unknown }).code;
    if (typeof code === 'string') Object.defineProperty(copy, 'code', { value: code, enumerable: true });
  }
  copy.stack = `${copy.name}: ${message}`;
  return copy;
}
