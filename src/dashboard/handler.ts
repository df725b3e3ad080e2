/**
 * The request handler behind `createDashboard()`: routing, authentication, the JSON routes and the
 * event stream, wired to the inventory, scheduler and broker events.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CheckStateEvent } from '../checks/webhook.js';
import { definedFields } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import type { InventoryChange, SyncReport } from '../inventory/types.js';
import { loadAssets, serveAsset } from './assets.js';
import { type AuthResult, CSRF_HEADER, csrfOk, DashboardAuthenticator, SESSION_COOKIE } from './auth.js';
import { CheckBook, isAlarmState } from './check-book.js';
import { EventHub } from './events.js';
import { intParam, listNodes, nodeView, summarize } from './nodes.js';
import type { NormalizedDashboardOptions } from './options.js';
import {
  aggregateParam,
  groupByParam,
  metricParam,
  quantileParams,
  rangeParams,
  resolutionParam,
  stepParam,
  tagParams,
  topParams,
  whereParam,
} from './params.js';
import { readJsonBody, securityHeaders, sendError, sendJson } from './respond.js';
import { MAX_SERIES, readLatency, readPercentiles, readSeries } from './store-access.js';
import type { DashboardStats, SessionResponse } from './types.js';

/** `tag=k:v` and `where=` of a store route. */
function selectionParams(p: URLSearchParams): { tags: Record<string, string>; where?: string } {
  const where = whereParam(p); // read first: a bad `where=` is the error reported
  return { tags: tagParams(p), ...definedFields({ where }) };
}

/** What every store route reads first. */
type StoreQueryHead = ReturnType<typeof selectionParams> & { metric: string; from: number; to: number };

/** Longest `q` the node listing accepts. */
export const MAX_API_QUERY_LENGTH = 2000;

type Route = (ctx: Ctx) => unknown;
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: URLSearchParams;
  auth: AuthResult;
  signal: AbortSignal;
}

/** The parts of the handler `createDashboard()` exposes. */
export interface DashboardCore {
  handle(req: IncomingMessage, res: ServerResponse): void;
  stats(): DashboardStats;
  close(): void;
}

/** Build the handler. `assetsDir` is the `assets/` folder beside the entry module. */
export function createCore(o: NormalizedDashboardOptions, assetsDir: URL): DashboardCore {
  const assets = loadAssets(assetsDir);
  const auth = new DashboardAuthenticator({
    token: o.token,
    authorize: o.authorize,
    clock: o.clock,
    ttlS: o.sessionTtlS,
  });
  const hub = new EventHub(o);
  const book = new CheckBook(o.scheduler, o.inventory);
  let lastSync: SyncReport | undefined;
  let unauthorized = 0;
  let closed = false;

  const onNode = (e: InventoryChange) => {
    const data: { type: typeof e.type; node: ReturnType<typeof nodeView>; fields?: string[] } = {
      type: e.type,
      node: nodeView(e.node),
    };
    if (e.type === 'changed') data.fields = e.changes.map((c) => c.field).slice(0, 50);
    hub.publish('node', data);
  };
  const onSynced = (r: SyncReport) => {
    lastSync = r;
    hub.publish('synced', {
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      ok: r.ok,
      providers: r.providers.map((p) => ({
        provider: p.provider,
        nodes: p.nodes,
        ...(p.error ? { error: p.error.code } : {}),
      })),
    });
  };
  const onState = (s: CheckStateEvent) =>
    hub.publish('check', {
      checkId: s.checkId,
      target: s.target,
      ...(s.node !== undefined ? { node: s.node } : {}),
      previous: s.previous,
      state: s.state,
      message: s.message.slice(0, 500),
      ts: s.ts,
    });
  const onFlush = (w: { windowStart: number; points: number; sketches: number; durationMs: number }) =>
    hub.publish('window', {
      windowStart: w.windowStart,
      points: w.points,
      sketches: w.sketches,
      durationMs: w.durationMs,
    });
  for (const ev of ['added', 'removed', 'changed'] as const) o.inventory.on(ev, onNode);
  o.inventory.on('synced', onSynced);
  o.scheduler.on('state', onState);
  o.broker?.on('flush', onFlush);

  const limits = { maxRangeMs: o.maxRangeMs, timeoutMs: o.queryTimeoutMs };
  /**
   * A store route: `metric=`, the selection and the range are read first (in that order), then `build`
   * adds the route's own parameters, and `read` runs the query under the limits.
   */
  const storeRoute =
    <Q, R>(
      read: (store: typeof o.store, q: Q, l: typeof limits, signal: AbortSignal) => Promise<R>,
      build: (p: URLSearchParams, head: StoreQueryHead) => Q,
    ): Route =>
    ({ params, signal }) => {
      const head = {
        metric: metricParam(params),
        ...selectionParams(params),
        ...rangeParams(params, o.clock.now()),
      };
      return read(o.store, build(params, head), limits, signal);
    };

  const get: Record<string, Route> = {
    '/api/v1/nodes': ({ params }) => {
      const q = params.get('q') ?? '';
      if (q.length > MAX_API_QUERY_LENGTH)
        throw new FleetwatchError('E_QUERY_TOO_LARGE', `q longer than ${MAX_API_QUERY_LENGTH} characters`, {
          path: 'q',
          details: { limit: 'q', max: MAX_API_QUERY_LENGTH },
        });
      return listNodes(o.inventory, params, o.maxPageSize);
    },
    '/api/v1/summary': () => summarize(o.inventory, lastSync, book.counts(), o.readOnly, o.clock.now()),
    '/api/v1/checks': ({ params }) => {
      const state = params.get('state') ?? undefined;
      if (state !== undefined && !isAlarmState(state))
        throw validationError('state', 'OK, WARNING, CRITICAL or UNKNOWN', state);
      const check = params.get('check') ?? undefined;
      return book.list({
        ...(check ? { check } : {}),
        ...(state ? { state } : {}),
        limit: intParam(params, 'limit', 500, 1, 5000),
      });
    },
    '/api/v1/latency': ({ params, signal }) => {
      const checkId = params.get('check');
      if (checkId === null || checkId === '' || checkId.length > 200)
        throw validationError('check', 'a check id', checkId ?? undefined);
      const target = params.get('target') ?? undefined;
      return readLatency(
        o.store,
        {
          checkId,
          ...(target ? { target } : {}),
          ...definedFields({ where: whereParam(params), groupBy: groupByParam(params) }),
          ...rangeParams(params, o.clock.now()),
          metric: o.latencyMetric,
          sketchMetric: o.latencySketchMetric,
        },
        limits,
        signal,
      );
    },
    '/api/v1/series': storeRoute(readSeries, (p, head) => ({
      ...head,
      resolution: resolutionParam(p),
      ...definedFields({ aggregate: aggregateParam(p), groupBy: groupByParam(p) }),
      ...topParams(p, MAX_SERIES),
    })),
    '/api/v1/percentiles': storeRoute(readPercentiles, (p, head) => ({
      ...head,
      quantiles: quantileParams(p),
      ...definedFields({ groupBy: groupByParam(p), step: stepParam(p) }),
      ...topParams(p, MAX_SERIES),
    })),
  };

  const setTags: Route = async ({ req, auth: a }) => {
    if (o.readOnly) throw new FleetwatchError('E_UNSUPPORTED', 'the dashboard is read-only (readOnly: true)');
    if (!csrfOk(req, a))
      throw new FleetwatchError(
        'E_AUTH',
        `a same-origin request with the ${CSRF_HEADER} header is required`,
        { path: CSRF_HEADER },
      );
    const body = (await readJsonBody(req)) as { uid?: unknown; set?: unknown; remove?: unknown };
    if (typeof body !== 'object' || body === null) throw validationError('body', 'an object', body);
    if (typeof body.uid !== 'string' || o.inventory.get(body.uid) === undefined)
      throw new FleetwatchError('E_NOT_FOUND', 'no such node', { path: 'uid' });
    if (body.set !== undefined) {
      if (typeof body.set !== 'object' || body.set === null || Array.isArray(body.set))
        throw validationError('set', 'an object of tag → value', body.set);
      for (const [k, v] of Object.entries(body.set))
        if (typeof v !== 'string') throw validationError(`set.${k}`, 'a string', v);
      await o.inventory.setTags(body.uid, body.set as Record<string, string>);
    }
    if (body.remove !== undefined) {
      if (!Array.isArray(body.remove) || body.remove.some((k) => typeof k !== 'string'))
        throw validationError('remove', 'an array of tag keys', body.remove);
      await o.inventory.removeTags(body.uid, body.remove as string[]);
    }
    return { node: nodeView(o.inventory.get(body.uid)!) };
  };

  /** Path of the request below the mount point, and the mount point as the browser sees it. */
  function locate(req: IncomingMessage): { path: string; mount: string; url: URL } {
    const url = new URL(req.url ?? '/', 'http://x');
    let path = url.pathname;
    if (o.basePath !== '' && (path === o.basePath || path.startsWith(`${o.basePath}/`)))
      path = path.slice(o.basePath.length);
    const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl;
    let mount = o.basePath;
    if (typeof original === 'string') {
      const op = new URL(original, 'http://x').pathname;
      if (op.endsWith(path)) mount = op.slice(0, op.length - path.length);
      if (path === '/' && !op.endsWith('/')) return { path: '', mount: op, url };
    }
    return { path, mount, url };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res);
    if (closed) throw new FleetwatchError('E_CLOSED', 'dashboard is closed');
    const { path, mount, url } = locate(req);
    const method = req.method ?? 'GET';
    if (path === '') {
      res.statusCode = 308;
      res.setHeader('location', `${mount}/${url.search}`);
      res.end();
      return;
    }
    const asset = assets.get(path);
    if (asset !== undefined) {
      if (method !== 'GET' && method !== 'HEAD')
        throw new FleetwatchError('E_UNSUPPORTED', `${method} not allowed here`);
      serveAsset(req, res, asset);
      return;
    }
    if (!path.startsWith('/api/v1/')) throw new FleetwatchError('E_NOT_FOUND', 'no such page');
    const a = await auth.check(req);
    if (!a.ok) {
      unauthorized++;
      throw new FleetwatchError('E_AUTH', 'authentication required');
    }
    if (path === '/api/v1/session') {
      if (method === 'POST') {
        // a session is opened only from the token itself (or the app's hook), never from a session
        if (a.via === 'session') auth.end(req);
        const s = auth.open();
        res.setHeader(
          'set-cookie',
          `${SESSION_COOKIE}=${s.sid}; Path=${mount || ''}/; HttpOnly; SameSite=Strict; Max-Age=${s.ttlS}`,
        );
        const body: SessionResponse = { csrf: s.csrf, expiresIn: s.ttlS, readOnly: o.readOnly };
        sendJson(res, 200, body);
        return;
      }
      if (method === 'DELETE') {
        auth.end(req);
        res.setHeader(
          'set-cookie',
          `${SESSION_COOKIE}=; Path=${mount || ''}/; HttpOnly; SameSite=Strict; Max-Age=0`,
        );
        sendJson(res, 200, { ok: true });
        return;
      }
      throw new FleetwatchError('E_UNSUPPORTED', `${method} not allowed here`);
    }
    if (path === '/api/v1/events') {
      if (method !== 'GET') throw new FleetwatchError('E_UNSUPPORTED', `${method} not allowed here`);
      if (!hub.attach(req, res)) throw new FleetwatchError('E_RATE_LIMIT', 'too many event-stream clients');
      return;
    }
    const ac = new AbortController();
    const timer = setTimeout(
      () => ac.abort(new FleetwatchError('E_TIMEOUT', 'query took too long')),
      o.queryTimeoutMs,
    );
    res.on('close', () => ac.abort());
    try {
      const ctx: Ctx = { req, res, params: url.searchParams, auth: a, signal: ac.signal };
      let fn: Route | undefined;
      if (path === '/api/v1/tags') {
        if (method !== 'POST') throw new FleetwatchError('E_UNSUPPORTED', `${method} not allowed here`);
        fn = setTags;
      } else {
        fn = get[path];
        if (fn === undefined) throw new FleetwatchError('E_NOT_FOUND', 'no such API route');
        if (method !== 'GET' && method !== 'HEAD')
          throw new FleetwatchError('E_UNSUPPORTED', `${method} not allowed here`);
      }
      const body = await fn(ctx);
      if (!res.writableEnded) sendJson(res, 200, body);
    } catch (err) {
      // a timed-out store query rejects with E_ABORTED: report the deadline instead
      if (ac.signal.reason instanceof FleetwatchError) throw ac.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    handle(req, res) {
      route(req, res).catch((err: unknown) => {
        if (!(err instanceof FleetwatchError)) o.logger.error({ err }, 'dashboard: request failed');
        sendError(res, err);
      });
    },
    stats: () => ({
      clients: hub.clients,
      droppedSlowClients: hub.dropped,
      refusedClients: hub.refused,
      events: hub.lastId,
      lastEventId: hub.lastId,
      unauthorized,
    }),
    close() {
      if (closed) return;
      closed = true;
      for (const ev of ['added', 'removed', 'changed'] as const) o.inventory.off(ev, onNode);
      o.inventory.off('synced', onSynced);
      o.scheduler.off('state', onState);
      o.broker?.off('flush', onFlush);
      book.close();
      hub.close();
    },
  };
}
