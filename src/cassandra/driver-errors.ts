/**
 * Translation of cassandra-driver errors into {@link FleetwatchError}s, and a small abortable sleep
 * used by the retry loops of the Cassandra stores.
 */

import { FleetwatchError, isFleetwatchError } from '../errors.js';
import { loadDriver } from './driver.js';

/** Server response codes (`types.responseErrorCodes`) that mean "try again later": the data may or may not be written. */
const TRANSIENT_CODE_NAMES = [
  'unavailableException',
  'overloaded',
  'isBootstrapping',
  'writeTimeout',
  'readTimeout',
  'truncateError',
  'writeFailure',
  'readFailure',
  'serverError',
] as const;
let transientCodes: ReadonlySet<number> | undefined;

/**
 * True when `err` is a driver error that a retry can cure: no host reachable, a client or server
 * timeout, an unavailable/overloaded replica set, a connection dropped mid-request.
 */
export function isTransientDriverError(err: unknown): boolean {
  if (isFleetwatchError(err)) return err.code === 'E_STORE_UNAVAILABLE';
  const cassandra = loadDriver();
  const e = cassandra.errors;
  if (
    err instanceof e.NoHostAvailableError ||
    err instanceof e.OperationTimedOutError ||
    err instanceof e.BusyConnectionError
  ) {
    return true;
  }
  if (err instanceof e.ResponseError) {
    const codes = cassandra.types.responseErrorCodes;
    transientCodes ??= new Set(TRANSIENT_CODE_NAMES.map((name) => codes[name]));
    return transientCodes.has(err.code);
  }
  // a connection closed under pending requests (node stopping), or none open yet (node restarting)
  if ((err as { isSocketError?: unknown } | null)?.isSocketError === true) return true;
  if (err instanceof e.DriverInternalError && /connection/i.test(err.message)) return true;
  if (err instanceof Error) {
    // Socket-level failures surface as plain Errors with a system code.
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && /^E(CONNRESET|CONNREFUSED|PIPE|TIMEDOUT|HOSTUNREACH)$/.test(code);
  }
  return false;
}

/**
 * The {@link FleetwatchError} for a driver failure during `what`: `E_STORE_UNAVAILABLE` for
 * transient failures, `E_INTERNAL` for the rest (bad CQL, schema mismatch). FleetwatchErrors pass
 * through. The message never includes bound values.
 */
export function toStoreError(err: unknown, what: string): FleetwatchError {
  if (isFleetwatchError(err)) return err;
  const name = err instanceof Error ? err.name : typeof err;
  const message = err instanceof Error ? err.message : String(err);
  if (isTransientDriverError(err)) {
    return new FleetwatchError(
      'E_STORE_UNAVAILABLE',
      `Cassandra unavailable during ${what}: ${name}: ${message}`,
      {
        cause: err,
      },
    );
  }
  return new FleetwatchError('E_INTERNAL', `Cassandra error during ${what}: ${name}: ${message}`, {
    cause: err,
  });
}

/** Resolve after `ms` (timer unref'd); reject with `E_ABORTED` when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new FleetwatchError('E_ABORTED', 'operation aborted', { cause: signal.reason }));
      return;
    }
    const t = setTimeout(done, ms);
    t.unref?.();
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(new FleetwatchError('E_ABORTED', 'operation aborted', { cause: signal?.reason }));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
