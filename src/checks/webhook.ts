/**
 * An optional webhook notifier for check state changes: POSTs the 'state' event as JSON through got,
 * with retries. Failures reject with `E_NETWORK` (the URL, which may hold a token, is never included).
 */
import got from 'got';
import type { AbortOptions } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import { abortedError, configObject, optInt, optString, optStringRecord } from './config.js';

/** The payload of a state change, as the scheduler emits it. */
export interface CheckStateEvent {
  /** The `id` of the check. */
  checkId: string;
  /** Target key: node uid for inventory targets, else the host/URL as written. */
  target: string;
  /** The state before the change. */
  previous: import('./alarm.js').AlarmState;
  /** The new committed state. */
  state: import('./alarm.js').AlarmState;
  /** The message of the evaluation that entered `state` (the alarm's, or the run's error). */
  message: string;
  /** The metrics of the run that caused the change. */
  metrics: import('./types.js').CheckMetrics;
  /** Epoch ms of the run that caused the change. */
  ts: number;
  /** Node uid when the target is an inventory node. */
  node?: string;
}

/** Something told about state changes (not called for suppressed ones). */
export type StateNotifier = (event: CheckStateEvent, opts?: AbortOptions) => Promise<void>;

/** Options of {@link webhookNotifier}. */
export interface WebhookNotifierOptions {
  /** The http(s) URL each state change is POSTed to as JSON ({@link CheckStateEvent}). */
  url: string;
  /** Extra request headers (e.g. `authorization`). @default none */
  headers?: Record<string, string>;
  /** Retries after the first attempt (on network errors and 408/429/5xx). @default 3 */
  retries?: number;
  /** Per-attempt timeout, ms. @default 10000 */
  timeoutMs?: number;
}

/**
 * A notifier POSTing each state change to `url` as JSON (a {@link CheckStateEvent}), retrying network
 * errors and 408/429/5xx responses with backoff (`retries` times, each attempt within `timeoutMs`).
 *
 * @example
 * ```ts
 * const scheduler = new CheckScheduler({
 *   inventory,
 *   notifiers: [
 *     webhookNotifier({ url: 'https://hooks.example.com/fleetwatch', headers: { authorization: `Bearer ${token}` } }),
 *   ],
 * });
 * ```
 */
export function webhookNotifier(options: WebhookNotifierOptions): StateNotifier {
  const o = configObject(options, 'webhook', ['url', 'headers', 'retries', 'timeoutMs']);
  const url = optString(o.url, 'webhook.url');
  if (url === undefined) throw validationError('webhook.url', 'an http(s) URL', undefined);
  const headers = optStringRecord(o.headers, 'webhook.headers') ?? {};
  const retries = optInt(o.retries, 'webhook.retries', 3, 0, 10);
  const timeoutMs = optInt(o.timeoutMs, 'webhook.timeoutMs', 10_000, 1, 600_000);
  return async (event, opts = {}) => {
    try {
      await got.post(url, {
        json: event,
        headers,
        timeout: { request: timeoutMs },
        retry: { limit: retries, methods: ['POST'], backoffLimit: 2000 },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw abortedError(opts.signal);
      const status = (err as { response?: { statusCode?: number } }).response?.statusCode;
      throw new FleetwatchError('E_NETWORK', `webhook delivery failed${status ? ` (HTTP ${status})` : ''}`, {
        ...(status ? { status } : {}),
        details: { code: (err as { code?: string }).code },
      });
    }
  };
}
