/**
 * The typed JSON responses of the dashboard API (`/api/v1/…`) and the payloads of its event stream.
 * Every string in them that came from a provider, a target or a user is untrusted: render it as text.
 */
import type { AlarmState } from '../checks/alarm.js';
import type { Node, NodeState, ProviderKind } from '../providers/types.js';

/**
 * A node as the API shows it: the provider's {@link Node} without `extra` (provider fields may hold
 * secrets), dates as epoch ms, with the inventory's local tags and staleness.
 */
export interface NodeView extends Omit<Node, 'extra' | 'createdAt'> {
  /** Epoch ms. */
  createdAt?: number;
  /** Provider tags with local tags overriding (what `tag:` queries see). */
  tags: Record<string, string>;
  /** Tags set locally (`inv.setTags`). */
  localTags: Record<string, string>;
  /** True while the node's provider fails to list it: this is its last known state. */
  stale: boolean;
  /** Epoch ms when the node became stale, while `stale`. */
  staleSince?: number;
  /** The error code and message of the failed listing, while `stale`. */
  staleReason?: string;
}

/** `GET /api/v1/nodes`. */
export interface NodesResponse {
  /** The query as applied (`''` for every node). */
  q: string;
  /** Nodes matching the query, before paging. */
  total: number;
  /** Index of the first node returned (`?offset=`). */
  offset: number;
  /** Most nodes returned (`?limit=`). */
  limit: number;
  /** The field the nodes are sorted by. */
  sort: NodeSortField;
  /** The sort order. */
  order: 'asc' | 'desc';
  /** This page of the matching nodes. */
  nodes: NodeView[];
}

/** Fields `GET /api/v1/nodes?sort=` accepts. */
export type NodeSortField = 'name' | 'provider' | 'state' | 'region' | 'createdAt' | 'uid';

/** One provider in `GET /api/v1/summary`. */
export interface ProviderSummary {
  /** The provider id. */
  id: string;
  /** The provider kind (from its nodes; `undefined` while it has none). */
  kind?: ProviderKind;
  /** Nodes held for the provider. */
  nodes: number;
  /** Node counts by normalised state. */
  byState: Partial<Record<NodeState, number>>;
  /** Node counts by region (`''` for nodes without one). */
  byRegion: Record<string, number>;
  /** Nodes kept from an earlier listing because the latest one failed. */
  staleNodes: number;
  /** Epoch ms of the last successful listing. */
  lastSuccessAt?: number;
  /** The latest listing's error (code and message only). */
  lastError?: { code: string; message: string };
}

/** `GET /api/v1/summary`. */
export interface SummaryResponse {
  /** Epoch ms when the summary was built. */
  now: number;
  /** Nodes held, every provider. */
  nodes: number;
  /** Node counts by normalised state, every provider. */
  byState: Partial<Record<NodeState, number>>;
  /** One entry per configured provider, in configuration order. */
  providers: ProviderSummary[];
  /** The last finished sync, if any was seen since the dashboard started. */
  lastSync?: { startedAt: number; finishedAt: number; ok: boolean };
  /** Check targets by current state. */
  checks: Partial<Record<AlarmState, number>>;
  /** Whether tag edits are allowed. */
  readOnly: boolean;
}

/** The last run of a check on a target. */
export interface CheckRunView {
  /** Whether the run succeeded. */
  ok: boolean;
  /** Epoch ms when the run started. */
  ts: number;
  /** How long the run took, in ms. */
  durationMs: number;
  /** The run's error message, when it failed. */
  error?: string;
}

/** One state change in a target's history. */
export interface CheckTransitionView {
  /** Epoch ms of the change. */
  ts: number;
  /** The state before. */
  previous: AlarmState;
  /** The state after. */
  state: AlarmState;
  /** Why the state changed (the alarm's message). */
  message: string;
}

/** A check on one target. */
export interface CheckTargetView {
  /** The check's id. */
  checkId: string;
  /** The target: a node uid or an address. */
  target: string;
  /** Node uid when the target is an inventory node. */
  node?: string;
  /** The node's name, when known. */
  name?: string;
  /** The alarm state now. */
  state: AlarmState;
  /** Epoch ms the state was entered (as seen by the dashboard). */
  since?: number;
  /** The message of the latest state. */
  message: string;
  /** The latest run, once one has finished. */
  lastRun?: CheckRunView;
  /** The latest state changes, newest last (bounded). */
  history: CheckTransitionView[];
}

/** `GET /api/v1/checks`. */
export interface ChecksResponse {
  /** Ids of every check the scheduler runs. */
  checks: string[];
  /** Targets matching the filter, before `limit`. */
  total: number;
  /** The targets matching the filter, at most `limit` of them. */
  targets: CheckTargetView[];
}

/** A chart point: a 5m (or coarser) rollup slot with its sketch percentiles when stored. */
export interface LatencyPoint {
  /** Slot start, epoch ms. */
  ts: number;
  /** Runs in the slot. */
  count: number;
  /** Mean latency in the slot, ms. */
  mean: number;
  /** Lowest latency in the slot, ms. */
  min: number;
  /** Highest latency in the slot, ms. */
  max: number;
  /** Median latency, ms, when sketches are stored. */
  p50?: number;
  /** 99th percentile latency, ms, when sketches are stored. */
  p99?: number;
}

/** One group of a latency chart split with `groupBy` (e.g. one target). */
export interface LatencyGroup {
  /** The group's values of the `groupBy` keys (a key its series lack is left out). */
  tags: Record<string, string>;
  /** Number of series merged into the group. */
  series: number;
  /** The group's chart points, in time order. */
  points: LatencyPoint[];
}

/**
 * `GET /api/v1/latency?check=&target=&where=&groupBy=`: without `groupBy`, `points` merges every
 * selected target per slot; with `groupBy=target`, `points` is empty and `groups` has one entry per
 * target.
 */
export interface LatencyResponse {
  /** The check asked for (`?check=`). */
  checkId: string;
  /** The target asked for (`?target=`), if any. */
  target?: string;
  /** The stored metric the chart reads. */
  metric: string;
  /** The resolution the store answered with. */
  resolution: string;
  /** Start of the range, epoch ms. */
  from: number;
  /** End of the range, epoch ms. */
  to: number;
  /** Without `groupBy`: the merged chart points, in time order. */
  points: LatencyPoint[];
  /** Without `groupBy`: how many series were merged into `points`. */
  series?: number;
  /** The `groupBy` keys asked for. */
  groupBy?: string[];
  /** With `groupBy`: one entry per group, in group-key order. */
  groups?: LatencyGroup[];
}

/** `GET /api/v1/series`: the store's series, as stored. */
export interface SeriesResponse {
  /** The metric asked for. */
  metric: string;
  /** Start of the range, epoch ms. */
  from: number;
  /** End of the range, epoch ms. */
  to: number;
  /** The matching series, with their points. */
  series: {
    metric: string;
    tags: Record<string, string>;
    resolution: string;
    /** With `aggregate=`: how the group's series were combined. */
    aggregate?: string;
    /** With `aggregate=`: number of series in the group. */
    seriesCount?: number;
    points: Array<{ ts: number; value?: number; count?: number; mean?: number; min?: number; max?: number }>;
  }[];
}

/** `GET /api/v1/percentiles`. */
export interface PercentilesResponse {
  /** The metric asked for. */
  metric: string;
  /** Start of the range, epoch ms. */
  from: number;
  /** End of the range, epoch ms. */
  to: number;
  /** One result per series or group, with the quantiles asked for. */
  results: {
    tags: Record<string, string>;
    count: number;
    min: number;
    max: number;
    quantiles: Record<string, number>;
    /** With `groupBy=`: number of series whose sketches were merged. */
    seriesCount?: number;
    /** With `step=`: the steps with data, in time order. */
    steps?: Array<{ ts: number; count: number; min: number; max: number; quantiles: Record<string, number> }>;
  }[];
}

/** Every error response: HTTP status plus a FleetwatchError code. */
export interface ErrorResponse {
  /** The error: its stable `code`, a message, and the field or position at fault when known. */
  error: {
    code: string;
    message: string;
    path?: string;
    expected?: string;
    position?: number;
    /** With `E_QUERY_TOO_LARGE`: the limit exceeded (`limit`, `max`, `requested`). */
    details?: Record<string, string | number>;
  };
}

/** `POST /api/v1/session`: the CSRF token to send as `x-fleetwatch-csrf` on writes. */
export interface SessionResponse {
  /** The token to send in the `x-fleetwatch-csrf` header with every tag edit. */
  csrf: string;
  /** Seconds until the session cookie expires. */
  expiresIn: number;
  /** Whether tag edits are refused. */
  readOnly: boolean;
}

/** The payloads of the event stream, by SSE `event:` name. */
export interface DashboardEventMap {
  /** A node was added, removed or changed (`node` is the node after, or as last known when removed). */
  node: { type: 'added' | 'removed' | 'changed'; node: NodeView; fields?: string[] };
  /** A sync finished. */
  synced: {
    startedAt: number;
    finishedAt: number;
    ok: boolean;
    providers: { provider: string; nodes: number; error?: string }[];
  };
  /** A check target changed state. */
  check: {
    checkId: string;
    target: string;
    node?: string;
    previous: AlarmState;
    state: AlarmState;
    message: string;
    ts: number;
  };
  /** The broker wrote a window. */
  window: { windowStart: number; points: number; sketches: number; durationMs: number };
  /** The requested `Last-Event-ID` is older than the replay buffer: refetch everything. */
  reset: { oldest: number };
}

/** One event of the stream. */
export type DashboardEventName = keyof DashboardEventMap;

/** Counters of the dashboard (`dash.stats()`). */
export interface DashboardStats {
  /** Event-stream clients connected now. */
  clients: number;
  /** Clients dropped because they read too slowly (their buffer passed `maxClientBufferBytes`). */
  droppedSlowClients: number;
  /** Clients refused because `maxClients` were connected. */
  refusedClients: number;
  /** Events published since start. */
  events: number;
  /** The id of the newest event. */
  lastEventId: number;
  /** Requests refused with 401. */
  unauthorized: number;
}
