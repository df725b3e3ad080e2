/**
 * Broker benchmarks (npx tsx bench/broker.ts; BENCH_QUICK=1 for a short run):
 *  1. merge of 8 workers × 10k series per flush: longest event-loop block (timestamp ticker), chunked
 *     vs unchunked (baseline: chunkSize = ∞).
 *  2. socket ingest of binary frames (series-deltas/s) vs newline-delimited JSON over the same socket.
 *  3. StatsD over UDP: highest paced rate with zero loss, multi-line datagrams vs one line per
 *     datagram (the sender is a forked copy of this file).
 *  4. small frames (one counter each) through the source table: 1 000 known sources, and a flood of
 *     new sources (every frame a new one: eviction on every tenth of the table), vs decoding alone.
 */
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MetricsBroker } from '../src/broker/broker.js';
import { FrameEncoder, readWindowFrame, type WireSeries } from '../src/broker/protocol.js';
import { DDSketch } from '../src/metrics/sketch.js';
import type { MetricsStore } from '../src/metrics-store/types.js';
import { watchLoop } from '../test/helpers/loop-stall.js';
import { type BenchRow, socketFramesRate, writeResults } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const T0 = Math.floor(Date.now() / 10_000) * 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- statsd sender (child mode)
if (process.argv[2] === '--statsd-sender') {
  const [port, rate, seconds, perPacket] = process.argv.slice(3).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  const sock = createSocket('udp4');
  const lines: string[] = [];
  for (let i = 0; i < perPacket; i++) lines.push(`app.req.${i % 50}:1|c|#route:/r${i % 7}`);
  const packet = Buffer.from(lines.join('\n'));
  const total = Math.round(rate * seconds);
  let sent = 0;
  let inflight = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent + perPacket <= due && inflight < 512) {
        inflight++;
        sock.send(packet, port, '127.0.0.1', () => inflight--);
        sent += perPacket;
      }
      if (sent + perPacket > total) resolve();
      else setImmediate(tick);
    };
    tick();
  });
  while (inflight > 0) await sleep(1);
  process.send?.({ sent, seconds: (performance.now() - t0) / 1000 });
  sock.close();
  process.disconnect();
  process.exit(0);
}

const rows: BenchRow[] = [];
const nullStore = {
  write: async (p: readonly unknown[]) => ({ accepted: p.length }),
  writeSketches: async (p: readonly unknown[]) => ({ accepted: p.length }),
} as unknown as MetricsStore;

/** Longest gap between ticks of a 1 ms timer while `fn` runs (the event-loop block), and its time. */
async function maxBlock(fn: () => Promise<void>): Promise<{ maxMs: number; totalMs: number }> {
  const { stallMs, totalMs } = await watchLoop(fn, { tickMs: 1, settleMs: 5 });
  return { maxMs: stallMs, totalMs };
}

// ---------------------------------------------------------------- 1. merge of 8 workers × 10k series
function workerFrames(workers: number, seriesPerWorker: number): Buffer[] {
  const enc = new FrameEncoder();
  const frames: Buffer[] = [];
  for (let w = 0; w < workers; w++) {
    const series: WireSeries[] = [];
    for (let i = 0; i < seriesPerWorker; i++) {
      const key = `app.metric_${i % 500}\0route\0/r${i}`;
      if (i % 10 === 0) {
        const s = new DDSketch();
        for (let k = 1; k <= 50; k++) s.add(k * (w + 1) + i);
        series.push({ key, kind: 'histogram', policy: 'last', value: 0, sketch: s.encode() });
      } else if (i % 10 === 1) series.push({ key, kind: 'gauge', policy: 'max', value: i });
      else series.push({ key, kind: 'counter', policy: 'last', value: w + 1 });
    }
    frames.push(
      enc
        .window({ sourceId: `w${w}`, epoch: 1, seq: 0, windowStart: T0, intervalMs: 10_000 }, series)
        .subarray(4),
    );
  }
  return frames;
}

async function mergeBench(chunkSize: number, frames: Buffer[]) {
  const clock = { now: () => T0 + 1_000 };
  const broker = await MetricsBroker.start({
    store: nullStore,
    clock,
    autoFlush: false,
    selfMetrics: false,
    chunkSize,
    maxSeries: 1_000_000,
  });
  const r = await maxBlock(async () => {
    // all 8 frames arrive in one burst (every process flushes at the same aligned instant)
    for (const f of frames) broker.ingestFrame(f);
    clock.now = () => T0 + 20_000;
    await broker.flushDue();
  });
  await broker.close();
  return r;
}

{
  const frames = workerFrames(8, 10_000);
  await mergeBench(1_000, frames); // warm-up
  const runs = QUICK ? 5 : 11;
  const chunked: number[] = [];
  const unchunked: number[] = [];
  let totals = [0, 0];
  for (let i = 0; i < runs; i++) {
    const a = await mergeBench(1_000, frames);
    const b = await mergeBench(1e9, frames);
    chunked.push(a.maxMs);
    unchunked.push(b.maxMs);
    totals = [totals[0]! + a.totalMs, totals[1]! + b.totalMs];
  }
  const med = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  rows.push({
    case: 'merge 8×10k series (10% histograms, one burst) + flush: max event-loop block, chunked (1000/yield)',
    value: med(chunked),
    unit: 'ms',
    goal: '<= 50 ms',
    met: med(chunked) <= 50,
    note: `median of ${runs}; total ${(totals[0]! / runs).toFixed(0)} ms per flush`,
  });
  rows.push({
    case: 'baseline: same merge unchunked',
    value: med(unchunked),
    unit: 'ms',
    note: `total ${(totals[1]! / runs).toFixed(0)} ms per flush`,
  });
}

// ---------------------------------------------------------------- 2. socket ingest
{
  const dir = mkdtempSync(join(tmpdir(), 'fw-bench-'));
  const seriesPerFrame = 10_000;
  const frameCount = QUICK ? 60 : 200;
  const enc = new FrameEncoder();
  const keys = Array.from({ length: seriesPerFrame }, (_, i) => `app.req\0route\0/r${i}`);
  const series: WireSeries[] = keys.map((key) => ({ key, kind: 'counter', policy: 'last', value: 1 }));
  const frames = Array.from({ length: frameCount }, (_, seq) =>
    enc.window({ sourceId: 'bench', epoch: 1, seq, windowStart: T0, intervalMs: 10_000 }, series),
  );
  const total = seriesPerFrame * frameCount;

  const binary = () => socketFramesRate(frames, seriesPerFrame, T0 + 1_000);

  const json = async () => {
    const socketPath = join(dir, `j${Math.random()}.sock`);
    const merged = new Map<string, number>();
    let seen = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => {
      done = r;
    });
    const server = createServer((sock) => {
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (chunk: string) => {
        buf += chunk;
        let nl = buf.indexOf('\n');
        while (nl !== -1) {
          const msg = JSON.parse(buf.slice(0, nl)) as { series: Array<{ key: string; value: number }> };
          for (const s of msg.series) merged.set(s.key, (merged.get(s.key) ?? 0) + s.value);
          seen++;
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
        if (seen === frameCount) done();
      });
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
    const lines = Array.from(
      { length: frameCount },
      (_, seq) =>
        `${JSON.stringify({ sourceId: 'bench', seq, windowStart: T0, series: series.map((s) => ({ key: s.key, kind: s.kind, value: s.value })) })}\n`,
    );
    const c = createConnection(socketPath);
    await new Promise((r) => c.once('connect', r));
    const t0 = performance.now();
    for (const l of lines) c.write(l);
    await finished;
    const s = (performance.now() - t0) / 1000;
    c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    return total / s;
  };

  await binary();
  await json();
  const bin = Math.max(await binary(), await binary());
  const js = Math.max(await json(), await json());
  rows.push({
    case: 'socket ingest, binary frames (10k counters/frame), decode+merge',
    value: bin,
    unit: 'series-deltas/s',
    goal: '>= 1M/s',
    met: bin >= 1e6,
    note: `${(bin / js).toFixed(1)}x baseline; ${frameCount} frames over a Unix socket`,
  });
  rows.push({
    case: 'baseline: NDJSON over the same socket, parse+Map merge',
    value: js,
    unit: 'series-deltas/s',
  });
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- 3. StatsD UDP
{
  const seconds = QUICK ? 0.5 : 1.5;
  const trial = async (rate: number, perPacket: number) => {
    const broker = await MetricsBroker.start({ statsd: { port: 0 }, autoFlush: false, selfMetrics: false });
    const child = fork(
      import.meta.filename,
      ['--statsd-sender', String(broker.statsdPort), String(rate), String(seconds), String(perPacket)],
      {
        execArgv: ['--import', 'tsx'],
      },
    );
    const { sent } = await new Promise<{ sent: number }>((r) =>
      child.once('message', (m) => r(m as { sent: number })),
    );
    await sleep(300);
    const got = broker.stats().statsdLines;
    await broker.close();
    return { sent, got, lost: sent - got };
  };
  const ladder = QUICK ? [100_000, 300_000, 500_000] : [100_000, 200_000, 300_000, 400_000, 500_000, 700_000];
  const search = async (perPacket: number) => {
    let best = 0;
    let note = '';
    for (const rate of ladder) {
      const r = await trial(rate, perPacket);
      note += `${rate / 1000}k: lost ${r.lost}/${r.sent}; `;
      if (r.lost === 0) best = rate;
      else break;
    }
    return { best, note };
  };
  const multi = await search(25);
  const single = await search(1);
  rows.push({
    case: 'StatsD UDP, 25 lines/datagram: highest paced rate with zero loss',
    value: multi.best,
    unit: 'lines/s',
    goal: '>= 300k lines/s',
    met: multi.best >= 300_000,
    note: multi.note.trim(),
  });
  rows.push({
    case: 'baseline: one line per datagram',
    value: single.best,
    unit: 'lines/s',
    note: single.note.trim(),
  });
}

// ---------------------------------------------------------------- 4. small frames, per-frame table work
{
  const n = QUICK ? 100_000 : 400_000;
  const enc = new FrameEncoder();
  const series: WireSeries[] = [{ key: 'flood', kind: 'counter', policy: 'last', value: 1 }];
  const encode = (source: (i: number) => string, seq: (i: number) => number) =>
    Array.from({ length: n }, (_, i) =>
      enc
        .window({ sourceId: source(i), epoch: 1, seq: seq(i), windowStart: T0, intervalMs: 10_000 }, series)
        .subarray(4),
    );
  const known = encode(
    (i) => `host-${i % 1_000}:1234`,
    (i) => Math.floor(i / 1_000),
  );
  const fresh = encode(
    (i) => `host-${i}:1234`,
    () => 0,
  );
  const through = async (frames: Buffer[]) => {
    const broker = await MetricsBroker.start({
      store: nullStore,
      clock: { now: () => T0 + 1_000 },
      autoFlush: false,
      selfMetrics: false,
    });
    const t0 = performance.now();
    const reply = () => {}; // one connection
    for (const f of frames) broker.ingestFrame(f, reply);
    await broker.close(); // writes the window and acknowledges every frame
    return n / ((performance.now() - t0) / 1000);
  };
  const decodeOnly = () => {
    const t0 = performance.now();
    let sum = 0;
    for (const f of fresh) sum += readWindowFrame(f).header.seq;
    if (sum !== 0) throw new Error('unexpected');
    return n / ((performance.now() - t0) / 1000);
  };
  const best = async (fn: () => number | Promise<number>) => {
    let v = 0;
    for (let i = 0; i < 3; i++) v = Math.max(v, await fn());
    return v;
  };
  const k = await best(() => through(known));
  const f = await best(() => through(fresh));
  const d = await best(decodeOnly);
  rows.push({
    case: 'small frames from 1 000 known sources: admit+merge+ACK',
    value: k,
    unit: 'frames/s',
    note: `${(k / d).toFixed(2)}x decode alone; ${n} frames, best of 3`,
  });
  rows.push({
    case: 'small frames, each from a new source (table full, evicting): admit+merge+ACK',
    value: f,
    unit: 'frames/s',
    note: `${(f / d).toFixed(2)}x decode alone; ${n} frames, best of 3`,
  });
  rows.push({ case: 'baseline: decode alone (readWindowFrame)', value: d, unit: 'frames/s' });
}

writeResults('broker', rows, { quick: QUICK });
