/**
 * Shared benchmark plumbing: each bench file measures its cases (with a baseline measured in the same
 * run) and calls {@link writeResults}, which writes `bench/results/<name>.json` and `<name>.md`.
 * Compare ratios, not absolute times: the machines are shared and noisy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** One row of results. */
export interface BenchRow {
  /** What was measured. */
  case: string;
  /** The measured value. */
  value: number;
  /** Its unit (`ops/s`, `ns/op`, `ms`, `%`). */
  unit: string;
  /** The goal, in words (`>= 1.5x baseline`), if any. */
  goal?: string;
  /** Whether the goal was met, if there is one. */
  met?: boolean;
  /** Anything else worth reading beside the number. */
  note?: string;
}

const resultsDir = join(import.meta.dirname, 'results');

/** Write `rows` as JSON and as a Markdown table; print the table. */
export function writeResults(name: string, rows: BenchRow[], meta: Record<string, unknown> = {}): void {
  mkdirSync(resultsDir, { recursive: true });
  const system = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
  };
  const doc = { name, date: new Date().toISOString(), system, meta, rows };
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  const fmt = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
  const lines = [
    `# ${name} benchmark`,
    '',
    `${doc.date} · Node ${system.node} · ${system.cpus} cores · ${system.cpuModel ?? ''}`,
    '',
    '| case | value | unit | goal | met | note |',
    '| --- | ---: | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.case} | ${fmt(r.value)} | ${r.unit} | ${r.goal ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} | ${r.note ?? ''} |`,
    ),
    '',
  ];
  writeFileSync(join(resultsDir, `${name}.md`), lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Run `fn` `iterations` times after a warm-up and return nanoseconds per call (best of `rounds`). */
export function nsPerOp(fn: () => void, iterations: number, rounds = 5): number {
  for (let i = 0; i < Math.min(iterations, 100_000); i++) fn();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    const ns = ((performance.now() - t0) * 1e6) / iterations;
    if (ns < best) best = ns;
  }
  return best;
}

/** The q-quantile (0..1) of numbers, by sorting a copy. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Seeded PRNG (mulberry32), shared with the conformance suites. */
export { seededRandom } from '../src/testing/random.js';

/**
 * Series-deltas/s of the broker's binary socket protocol: `frames` (each of `seriesPerFrame` series)
 * written over a Unix socket, at most 32 ahead of the merges, to a fresh broker whose clock reads
 * `now`, until every frame is merged (a `flushDue` queued behind the merges).
 */
export async function socketFramesRate(
  frames: readonly Buffer[],
  seriesPerFrame: number,
  now: number,
): Promise<number> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { createConnection } = await import('node:net');
  const { tmpdir } = await import('node:os');
  const { MetricsBroker } = await import('../src/broker/broker.js');
  const dir = mkdtempSync(join(tmpdir(), 'fw-bench-'));
  const socketPath = join(dir, 'b.sock');
  const broker = await MetricsBroker.start({
    socketPath,
    clock: { now: () => now },
    autoFlush: false,
    selfMetrics: false,
  });
  const c = createConnection(socketPath);
  let failed: Error | undefined;
  c.on('error', (err) => {
    failed = err;
  });
  await new Promise((r) => c.once('connect', r));
  const t0 = performance.now();
  // At most 32 frames sent but not yet merged: a client that floods past the broker's byte budget
  // (maxBufferedBytes, 32 MiB) is cut, by design.
  const ahead = (i: number) => {
    const st = broker.stats();
    return i - st.frames + st.queuedFrames;
  };
  for (let i = 0; i < frames.length; i++) {
    while (ahead(i) >= 32 && failed === undefined) await new Promise((r) => setImmediate(r));
    c.write(frames[i] as Buffer);
  }
  while (broker.stats().frames < frames.length && failed === undefined)
    await new Promise((r) => setTimeout(r, 1));
  if (failed !== undefined)
    throw new Error(`socket ingest bench: the broker cut the connection (${failed.message})`);
  await broker.flushDue(); // every merge queued before it has finished
  const s = (performance.now() - t0) / 1000;
  c.destroy();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
  return (seriesPerFrame * frames.length) / s;
}
