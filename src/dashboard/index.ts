/**
 * `@fleetwatch/sdk/dashboard`: the fleet dashboard as a Node request handler: a JSON API, a
 * Server-Sent Events stream and the web page, for `http.createServer`, Express or Fastify.
 *
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createCore } from './handler.js';
import { type DashboardOptions, normalizeDashboardOptions } from './options.js';
import type { DashboardStats } from './types.js';

export { CSRF_HEADER, SESSION_COOKIE } from './auth.js';
export { MAX_API_QUERY_LENGTH } from './handler.js';
export type { DashboardAuth, DashboardBroker, DashboardOptions } from './options.js';
export { CSP } from './respond.js';
export type * from './types.js';

/** The handler `createDashboard()` returns: call it with `(req, res)`; `close()` ends every stream. */
export interface Dashboard {
  /** Serve one request: the page, the JSON API or the event stream (404 for any other path). */
  (req: IncomingMessage, res: ServerResponse): void;
  /** Stop listening to the inventory, scheduler and broker, and end every event stream. Idempotent. */
  close(): void;
  /** Stream clients, drops and refusals, events published, 401s. */
  stats(): DashboardStats;
}

/**
 * Create the dashboard: a `(req, res)` handler serving the page at its mount point, the JSON API under
 * `api/v1/` and the event stream at `api/v1/events`. Authentication is required (`auth`).
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { createDashboard } from '@fleetwatch/sdk/dashboard';
 *
 * const dash = createDashboard({ inventory, scheduler, store, broker, auth: { token: process.env.FW_TOKEN! } });
 * http.createServer(dash).listen(8080, '127.0.0.1');
 * // later: dash.close();
 * ```
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const o = normalizeDashboardOptions(options);
  // resolved here, in the entry module, so it points beside dist/dashboard/index.js once built
  const core = createCore(o, new URL('./assets/', import.meta.url));
  const handler = ((req: IncomingMessage, res: ServerResponse) => core.handle(req, res)) as Dashboard;
  handler.close = () => core.close();
  handler.stats = () => core.stats();
  return handler;
}
