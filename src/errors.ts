/**
 * The one error type fleetwatch throws. `code` is the contract: match on it, never on `message`.
 */

/** Every stable error code fleetwatch uses. New codes are added, never renamed. */
export const ERROR_CODES = [
  /** Input failed validation at a public boundary; `path` names the field. */
  'E_VALIDATION',
  /** The provider rejected the credentials (HTTP 401/403 without a throttle signal). */
  'E_AUTH',
  /** The provider throttled us and retries were exhausted; `retryAfterMs` says when to try again. */
  'E_RATE_LIMIT',
  /** A provider returned an error of its own; `providerCode` holds the provider's code. */
  'E_PROVIDER',
  /** The requested resource does not exist. */
  'E_NOT_FOUND',
  /** An operation did not finish in time. */
  'E_TIMEOUT',
  /** The operation was aborted through its `AbortSignal`. */
  'E_ABORTED',
  /** A provider or peer answered with a body we cannot parse. */
  'E_MALFORMED_RESPONSE',
  /** The metrics or inventory store cannot accept or serve data right now. */
  'E_STORE_UNAVAILABLE',
  /** A network-level failure (connection refused, reset, DNS). */
  'E_NETWORK',
  /** The object was used after `close()`/`stop()`. */
  'E_CLOSED',
  /** The operation is not supported by this implementation or provider. */
  'E_UNSUPPORTED',
  /** A configuration problem found at start-up (missing credentials, bad file). */
  'E_CONFIG',
  /** An internal invariant broke; please report it. */
  'E_INTERNAL',
  /** A query would read more than its cost guard allows; `details.limit` names the limit exceeded. */
  'E_QUERY_TOO_LARGE',
  /** An optional peer dependency is not installed; the message names the install command. */
  'E_DEPENDENCY',
  /** A binary frame of the broker protocol is malformed (bad magic, version, length or body). */
  'E_MALFORMED_FRAME',
  /** A text input line (a StatsD line) is malformed. */
  'E_MALFORMED_LINE',
  /** An HTTP request body (OTLP, the dashboard API) is malformed or too large. */
  'E_MALFORMED_REQUEST',
  /** The resource already exists (a key pair name that is taken); `providerCode` has the provider's code. */
  'E_CONFLICT',
  /** Stored data failed an integrity check on read (a corrupt points block); `path` names where. */
  'E_CORRUPT_DATA',
] as const;

/** A stable fleetwatch error code. */
export type FleetwatchErrorCode = (typeof ERROR_CODES)[number];

/** Context carried by a {@link FleetwatchError}. Every field is optional. */
export interface FleetwatchErrorContext {
  /** The underlying error, if any. */
  cause?: unknown;
  /** The id of the provider the error concerns. */
  provider?: string;
  /** The HTTP status code the provider returned. */
  status?: number;
  /** The provider's own error code (e.g. `InvalidInstanceID.NotFound`). */
  providerCode?: string;
  /** How long to wait before retrying, in milliseconds (for `E_RATE_LIMIT`). */
  retryAfterMs?: number;
  /** The field at fault, as a path (`points[3].value`, `options.timeoutMs`). */
  path?: string;
  /** What was expected at `path`, in words. */
  expected?: string;
  /** A short, secret-free description of what was received at `path`. */
  received?: string;
  /** Character position in a parsed text (queries, alarm rules), 0-based. */
  position?: number;
  /** Any further secret-free details. */
  details?: Record<string, unknown>;
}

/**
 * The error class for everything fleetwatch reports.
 *
 * @example
 * ```ts
 * try { await store.write(points); }
 * catch (err) {
 *   if (err instanceof FleetwatchError && err.code === 'E_VALIDATION') console.log(err.path);
 * }
 * ```
 */
export class FleetwatchError extends Error {
  /** Always `'FleetwatchError'`. */
  override readonly name = 'FleetwatchError';
  /** Stable code, the contract (the message may change); one of {@link FleetwatchErrorCode}. */
  readonly code: FleetwatchErrorCode;
  /** The provider id the error concerns, if any. */
  declare readonly provider?: string;
  /** The HTTP status, if the error came from an HTTP response. */
  declare readonly status?: number;
  /** The provider's own error code, if it gave one. */
  declare readonly providerCode?: string;
  /** Suggested wait before a retry, in milliseconds. */
  declare readonly retryAfterMs?: number;
  /** The field at fault. */
  declare readonly path?: string;
  /** What was expected at `path`. */
  declare readonly expected?: string;
  /** What was received at `path` (never a secret). */
  declare readonly received?: string;
  /** 0-based character position in a parsed text. */
  declare readonly position?: number;
  /** Further secret-free details. */
  declare readonly details?: Record<string, unknown>;

  constructor(code: FleetwatchErrorCode, message: string, context: FleetwatchErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    const { cause: _cause, ...rest } = context;
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) Object.defineProperty(this, key, { value, enumerable: true });
    }
  }

  /** A plain, secret-free object for logs and JSON responses. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const key of Object.keys(this)) out[key] = (this as unknown as Record<string, unknown>)[key];
    return out;
  }
}

/** True when `err` is a {@link FleetwatchError}, optionally with the given code. */
export function isFleetwatchError(err: unknown, code?: FleetwatchErrorCode): err is FleetwatchError {
  return err instanceof FleetwatchError && (code === undefined || err.code === code);
}

/** Describe a received value briefly, for `received` (type and, for primitives, the value). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `string(${value.length})` : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'undefined';
    default:
      return typeof value;
  }
}

/**
 * Build an `E_VALIDATION` error for a field. The message names the field, what was expected and
 * what was received.
 */
export function validationError(
  path: string,
  expected: string,
  value: unknown,
  extra: FleetwatchErrorContext = {},
) {
  const received = describeValue(value);
  if (typeof path !== 'string') path = describeValue(path);
  if (typeof expected !== 'string') expected = describeValue(expected);
  return new FleetwatchError('E_VALIDATION', `${path}: expected ${expected}, received ${received}`, {
    ...extra,
    path,
    expected,
    received,
  });
}

/** Throw `signal.reason` as an `E_ABORTED` FleetwatchError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** The `E_ABORTED` error for a fired signal (its reason kept as `cause`). */
export function abortError(signal: AbortSignal): FleetwatchError {
  return new FleetwatchError('E_ABORTED', 'operation aborted', { cause: signal?.reason });
}
