/** Plain-text rendering of the demo's live view and summary. */
import type { PercentileResult, Series } from '@fleetwatch/sdk';

/** One check on one node, as last seen. */
export interface ViewRow {
  node: string;
  check: string;
  state: string;
  message: string;
  durationMs: number;
}

const pad = (s: string | number, n: number) => String(s).padEnd(n).slice(0, n);
const num = (v: number | undefined, digits = 1) =>
  v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);

/** The live table: nodes and checks with state, request latency per target, a progress line. */
export function renderView(input: {
  rows: ViewRow[];
  latency: Map<string, { p50: number; p99: number; count: number }>;
  progress: {
    elapsedS: number;
    durationS: number;
    nodes: number;
    checkRuns: number;
    windows: number;
    frames: number;
  };
}): string {
  const rows = [...input.rows].sort((a, b) => a.node.localeCompare(b.node) || a.check.localeCompare(b.check));
  const lines = [
    'fleetwatch demo — live view',
    '',
    `${pad('node', 8)} ${pad('check', 10)} ${pad('state', 9)} ${pad('last run', 9)} ${pad('req p50', 8)} ${pad('req p99', 8)} message`,
  ];
  for (const r of rows) {
    const lat = input.latency.get(r.node);
    lines.push(
      `${pad(r.node, 8)} ${pad(r.check, 10)} ${pad(r.state, 9)} ${pad(`${r.durationMs.toFixed(0)} ms`, 9)} ${pad(num(lat?.p50), 8)} ${pad(num(lat?.p99), 8)} ${r.message}`,
    );
  }
  const p = input.progress;
  const done = Math.min(20, Math.round((p.elapsedS / p.durationS) * 20));
  lines.push(
    '',
    `[${'#'.repeat(done)}${'.'.repeat(20 - done)}] ${p.elapsedS}/${p.durationS} s · ${p.nodes} nodes · ${p.checkRuns} check runs · ${p.frames} worker frames · ${p.windows} broker windows stored`,
  );
  return lines.join('\n');
}

/** The closing summary, read back from the store at 5m resolution, and the verdict of each part. */
export function renderSummary(input: {
  checkDurations: Series[];
  requestCounts: Series[];
  merged: PercentileResult[];
  verdicts: Array<[string, boolean]>;
  stateChanges: number;
  store: string;
}): string {
  const lines = ['', `summary from the ${input.store} store at 5m resolution`, ''];
  lines.push(
    `${pad('check.duration series', 48)} ${pad('runs', 6)} ${pad('mean ms', 8)} ${pad('max ms', 8)}`,
  );
  for (const s of input.checkDurations) {
    for (const pt of s.points) {
      if (!('count' in pt)) continue;
      const label = `${s.tags.check ?? ''} ${s.tags.node ?? s.tags.target ?? ''}`;
      lines.push(`${pad(label, 48)} ${pad(pt.count, 6)} ${pad(num(pt.mean), 8)} ${pad(num(pt.max), 8)}`);
    }
  }
  let requests = 0;
  for (const s of input.requestCounts) for (const pt of s.points) if ('sum' in pt) requests += pt.sum;
  lines.push('', `requests recorded by the workers: ${requests}`);
  for (const m of input.merged) {
    lines.push(
      `web-2 latency merged across workers: n=${m.count} p50=${num(m.quantiles['0.5'])} ms p99=${num(m.quantiles['0.99'])} ms (max ${num(m.max)} ms)`,
    );
  }
  lines.push(`state changes: ${input.stateChanges}`, '');
  for (const [what, ok] of input.verdicts) lines.push(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  return lines.join('\n');
}
