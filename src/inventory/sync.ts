/**
 * One sync of an {@link Inventory}: every provider listed (bounded concurrency, each within its
 * deadline), each successful listing diffed, persisted and applied, each failure reported and its
 * nodes marked stale after the grace period.
 */
import type { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import { FleetwatchError, isFleetwatchError, throwIfAborted } from '../errors.js';
import type { Node, Provider } from '../providers/types.js';
import { toStored } from './inventory-node.js';
import type { NormalizedInventoryOptions } from './inventory-options.js';
import { listWithDeadline, providerError } from './list.js';
import type { Applied, NodeTable } from './node-table.js';
import { newProviderReport, type ProviderStatuses } from './provider-status.js';
import type { InventoryEvents, ProviderSyncReport, SyncReport } from './types.js';

/** What a sync works on: the inventory's options, held nodes and provider status, and its events. */
export interface SyncContext {
  readonly opts: NormalizedInventoryOptions;
  readonly table: NodeTable;
  readonly status: ProviderStatuses;
  /** Where `progress` and `error` are emitted (the inventory itself). */
  readonly events: Pick<EventEmitter<InventoryEvents>, 'emit'>;
  /** Emit one applied change and hand it to the watchers. */
  publish(ev: Applied): void;
}

/**
 * List every provider (at most `concurrency` at once) and apply what each listing changed; the
 * report has one entry per provider, in the order of the options.
 *
 * @example
 * ```ts
 * const report = await syncProviders({ opts, table, status, events: inventory, publish }, signal);
 * ```
 */
export async function syncProviders(ctx: SyncContext, signal: AbortSignal | undefined): Promise<SyncReport> {
  const { clock, providers } = ctx.opts;
  const startedAt = clock.now();
  const queue = new PQueue({ concurrency: ctx.opts.concurrency });
  const reports: ProviderSyncReport[] = new Array(providers.length);
  const counter = { done: 0 };
  await Promise.all(
    providers.map((p, i) =>
      queue.add(async () => {
        reports[i] = await syncProvider(ctx, p, signal, counter);
      }),
    ),
  );
  throwIfAborted(signal);
  return {
    startedAt,
    finishedAt: clock.now(),
    providers: reports,
    ok: reports.every((r) => r.error === undefined),
  };
}

async function syncProvider(
  ctx: SyncContext,
  p: Provider,
  signal: AbortSignal | undefined,
  counter: { done: number },
): Promise<ProviderSyncReport> {
  const { clock, logger } = ctx.opts;
  const t0 = clock.now();
  const report = newProviderReport(p.id);
  const listed = new Map<string, Node>();
  const progress = (nodes: number) =>
    ctx.events.emit('progress', {
      provider: p.id,
      pages: report.pages,
      nodes,
      providersDone: counter.done,
      providersTotal: ctx.opts.providers.length,
    });
  let listedOk = false;
  try {
    await listWithDeadline(p, {
      signal,
      timeoutMs: ctx.opts.timeouts.get(p.id)!,
      onPage: (info) => {
        report.pages = Math.max(report.pages + 1, info.page);
        progress(listed.size);
      },
      onNode: (node) => listed.set(node.uid, node),
    });
    listedOk = true;
    report.nodes = listed.size;
    await applyListing(ctx, p, listed, report);
    ctx.status.succeeded(p.id, clock.now());
  } catch (err) {
    if (listedOk) {
      // The listing was fine but the store refused it: report, change nothing, retry next sync.
      const error = providerError(p, err);
      report.error = error;
      logger.warn({ provider: p.id, code: error.code, err: error.message }, 'could not store a listing');
      ctx.events.emit('error', error);
    } else if (signal?.aborted) {
      report.nodes = 0;
      report.error = new FleetwatchError('E_ABORTED', 'sync aborted', {
        cause: signal.reason,
        provider: p.id,
      });
    } else {
      report.nodes = 0;
      const error = providerError(p, err);
      report.error = error;
      await markFailed(ctx, p, error);
    }
  } finally {
    counter.done++;
    report.durationMs = clock.now() - t0;
  }
  progress(report.nodes);
  return report;
}

/** Diff one successful listing against what is held, persist it, then apply it and emit. */
async function applyListing(
  ctx: SyncContext,
  p: Provider,
  listed: Map<string, Node>,
  report: ProviderSyncReport,
): Promise<void> {
  const { store, tenant } = ctx.opts;
  const plan = ctx.table.plan(p.id, listed);
  try {
    if (plan.puts.length > 0) await store.putNodes(tenant, plan.puts.map(toStored));
    if (plan.removedUids.length > 0) await store.removeNodes(tenant, plan.removedUids);
  } catch (err) {
    throw isFleetwatchError(err)
      ? err
      : new FleetwatchError('E_STORE_UNAVAILABLE', 'inventory store write failed', { cause: err });
  }
  ctx.table.commit(p.id, plan, report);
  for (const ev of plan.events) ctx.publish(ev);
}

/** Mark a failed provider's nodes stale (after the grace period), keeping them. */
async function markFailed(ctx: SyncContext, p: Provider, error: FleetwatchError): Promise<void> {
  const lastSuccessAt = ctx.status.failed(p.id, error);
  const { clock, logger, store, tenant } = ctx.opts;
  logger.warn({ provider: p.id, code: error.code, err: error.message }, 'provider listing failed');
  ctx.events.emit('error', error);
  const now = clock.now();
  if (lastSuccessAt !== undefined && now - lastSuccessAt < ctx.opts.staleAfterMs) return;
  const updated = ctx.table.markStale(p.id, `${error.code}: ${error.message}`, now);
  if (updated.length === 0) return;
  try {
    await store.putNodes(tenant, updated.map(toStored));
  } catch (err) {
    logger.warn({ provider: p.id, err: String(err) }, 'could not persist stale flags');
  }
}
