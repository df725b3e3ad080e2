import type { Logger } from '../core.js';
import { validationError } from '../errors.js';
import type { Node } from '../providers/types.js';
import { type NormalizedCheck, normalizeConfig } from './definition.js';
import { fnv1a } from './grid.js';
import type { Job } from './scheduler-types.js';
import { expandPlaceholders, nodeTarget } from './targets.js';
import type { CheckInventory, CheckTarget } from './types.js';

/** What a {@link JobTable} needs from its scheduler. */
export interface JobTableOptions {
  inventory?: CheckInventory;
  ipPreference?: 'public' | 'private';
  logger: Logger;
  report(err: unknown, msg: string): void;
  /** A job was created (schedule it). */
  onAdded(job: Job): void;
  /** A job was dropped (unschedule it, forget its state). */
  onDropped(job: Job): void;
  /** A check's jobs were brought in line with its targets. */
  onSynced(): void;
}

/**
 * The checks added and their jobs (one per check × target), kept in line with the inventory: targets
 * of tag-query checks are resolved again on inventory changes; a target that changed keeps its job
 * (and its state), one that left drops it.
 *
 * @example
 * ```ts
 * const table = new JobTable({ inventory, logger, report, onAdded, onDropped, onSynced });
 * table.add(normalizedCheck);
 * ```
 */
export class JobTable {
  readonly #opts: JobTableOptions;
  readonly #checks = new Map<string, NormalizedCheck>();
  readonly #jobs = new Map<string, Map<string, Job>>();
  #refreshQueued = false;
  #closed = false;

  constructor(opts: JobTableOptions) {
    this.#opts = opts;
  }

  /** Add a check and create its jobs. Throws `E_VALIDATION` for a duplicate id. */
  add(check: NormalizedCheck): void {
    if (this.#checks.has(check.id)) throw validationError('check.id', 'an id not already added', check.id);
    this.#checks.set(check.id, check);
    this.#jobs.set(check.id, new Map());
    this.sync(check);
  }

  /** Remove a check and drop its jobs. Returns whether it existed. */
  remove(id: string): boolean {
    const jobs = this.#jobs.get(id);
    if (!jobs) return false;
    for (const job of jobs.values()) this.#dropJob(job);
    this.#jobs.delete(id);
    this.#checks.delete(id);
    return true;
  }

  /** Ids of the checks added. */
  ids(): string[] {
    return [...this.#checks.keys()];
  }

  /** Target keys a check runs against. */
  targetsOf(id: string): string[] {
    return [...(this.#jobs.get(id)?.keys() ?? [])];
  }

  /** Number of checks. */
  get checkCount(): number {
    return this.#checks.size;
  }

  /** Number of check × target jobs. */
  get jobCount(): number {
    let n = 0;
    for (const j of this.#jobs.values()) n += j.size;
    return n;
  }

  /** Every job. */
  *allJobs(): IterableIterator<Job> {
    for (const jobs of this.#jobs.values()) yield* jobs.values();
  }

  /** Stop refreshing on inventory changes. */
  close(): void {
    this.#closed = true;
  }

  /** The current targets of a check (tag queries asked once per `memo`). */
  resolveTargets(check: NormalizedCheck, memo?: Map<string, Node[]>): Map<string, CheckTarget> {
    const out = new Map<string, CheckTarget>();
    for (const spec of check.specs) {
      if (spec.kind === 'host') out.set(spec.target.key, spec.target);
      else {
        let nodes = memo?.get(spec.query);
        if (!nodes) {
          nodes = this.#opts.inventory!.query(spec.query);
          memo?.set(spec.query, nodes);
        }
        for (const node of nodes) {
          const t = nodeTarget(node, this.#opts.ipPreference);
          if (t) out.set(t.key, t);
          else this.#opts.logger.debug({ checkId: check.id, node: node.uid }, 'node has no IP; not a target');
        }
      }
    }
    return out;
  }

  /** A check's config for one target (placeholders expanded when it has any). */
  configFor(check: NormalizedCheck, target: CheckTarget): unknown {
    return check.templated
      ? normalizeConfig(check.type, expandPlaceholders(check.rawConfig, target))
      : check.config;
  }

  /** Bring a check's jobs in line with its current targets. */
  sync(check: NormalizedCheck, memo?: Map<string, Node[]>): void {
    const jobs = this.#jobs.get(check.id)!;
    let targets: Map<string, CheckTarget>;
    try {
      targets = this.resolveTargets(check, memo);
    } catch (err) {
      this.#opts.report(err, 'target query failed');
      return;
    }
    for (const [key, job] of jobs) {
      if (!targets.has(key)) {
        this.#dropJob(job);
        jobs.delete(key);
      }
    }
    for (const [key, target] of targets) {
      const existing = jobs.get(key);
      if (existing && sameTarget(existing.target, target)) continue;
      let config: unknown;
      try {
        config = this.configFor(check, target);
      } catch (err) {
        this.#opts.report(err, 'config invalid for target');
        continue;
      }
      if (existing) {
        existing.target = target;
        existing.config = config;
        delete existing.tags;
        continue;
      }
      const job: Job = {
        key,
        check,
        target,
        config,
        phase: fnv1a(`${check.id}\u0000${key}`) % check.periodMs,
        inFlight: false,
        removed: false,
        due: 0,
        heapIndex: -1,
      };
      jobs.set(key, job);
      this.#opts.onAdded(job);
    }
    this.#opts.onSynced();
  }

  #dropJob(job: Job): void {
    job.removed = true;
    this.#opts.onDropped(job);
  }

  /** Re-resolve every check with a tag query, once, in a microtask (inventory events come in bursts). */
  queueRefresh(): void {
    if (this.#refreshQueued || this.#closed) return;
    this.#refreshQueued = true;
    queueMicrotask(() => {
      this.#refreshQueued = false;
      if (this.#closed) return;
      // checks sharing a query (the common case) share one inventory query per refresh
      const memo = new Map<string, Node[]>();
      for (const check of this.#checks.values())
        if (check.specs.some((s) => s.kind === 'query')) this.sync(check, memo);
    });
  }
}

/** True when nothing a run or a placeholder depends on differs between two versions of a target. */
function sameTarget(a: CheckTarget, b: CheckTarget): boolean {
  if (a.host !== b.host || a.ip !== b.ip || a.name !== b.name || a.port !== b.port || a.url !== b.url)
    return false;
  if (a.node === b.node) return true;
  if (!a.node || !b.node) return false;
  return (
    a.node.provider === b.node.provider &&
    a.node.region === b.node.region &&
    JSON.stringify(a.node.tags) === JSON.stringify(b.node.tags)
  );
}
