/**
 * The metrics and checks examples run for real against local servers: a node:cluster app with a
 * broker, a Python StatsD sender, Prometheus scraping, and checks that page a webhook.
 */
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as checksWebhook } from '../../examples/checks-webhook.js';
import { main as clusterBroker } from '../../examples/cluster-broker.js';
import { main as prometheus } from '../../examples/prometheus.js';
import { main as statsdBroker } from '../../examples/statsd/broker.js';
import { describeWithService } from '../helpers/services.js';

/** The exact q-quantile of `values` by the sketch's rank rule (⌊q·(n−1)⌋ in sorted order). */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

/** `actual` within the sketch's 1% relative accuracy of `expected`. */
function expectWithin1Percent(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * 0.01 + 1e-9);
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

describe('examples/cluster-broker.ts', () => {
  it('merges the counters and histograms of two cluster workers in the primary', async () => {
    const requests = 300;
    const result = await clusterBroker({ workers: 2, requests, intervalMs: 500 });
    expect(result.exitCodes).toEqual([0, 0]);
    expect(result.frames).toBeGreaterThanOrEqual(2); // at least the last window of each worker
    // every 10th request of each worker failed
    expect(result.requests).toEqual({ ok: 2 * 270, error: 2 * 30 });
    // request i takes (i % 100) + 1 ms in each worker: the merged distribution of both
    const all = Array.from({ length: 2 * requests }, (_, k) => ((k % requests) % 100) + 1);
    expect(result.latency.count).toBe(all.length);
    expect(result.latency.max).toBe(100);
    expectWithin1Percent(result.latency.p50, exactQuantile(all, 0.5));
    expectWithin1Percent(result.latency.p90, exactQuantile(all, 0.9));
    expectWithin1Percent(result.latency.p99, exactQuantile(all, 0.99));
  });
});

function python3Reason(): string | undefined {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'python3 is not installed (needed to run examples/statsd/sender.py)';
  }
}

describeWithService('examples/statsd (Python sender → broker)', python3Reason(), () => {
  it('stores what sender.py sent: counter sum, timer percentiles, last gauge, set size', async () => {
    const count = 200;
    const running = await statsdBroker({ port: 0, intervalMs: 60_000 });
    try {
      const { stdout } = await promisify(execFile)(
        'python3',
        ['examples/statsd/sender.py', '--port', String(running.port), '--count', String(count)],
        { timeout: 20_000 },
      );
      expect(stdout).toMatch(new RegExp(`^sent ${count * 4} lines in \\d+ datagrams`));
      await until('the broker to read every line', () => running.broker.stats().statsdLines >= count * 4);
    } catch (err) {
      await running.stop();
      throw err;
    }
    const summary = await running.stop();
    expect(running.broker.stats().badStatsdLines).toBe(0);
    expect(summary.requests).toBe(count);
    const latencies = Array.from({ length: count }, (_, i) => (i % 50) + 1);
    expect(summary.latency?.count).toBe(count);
    expect(summary.latency?.max).toBe(50);
    expectWithin1Percent(summary.latency?.p50 ?? Number.NaN, exactQuantile(latencies, 0.5));
    expectWithin1Percent(summary.latency?.p99 ?? Number.NaN, exactQuantile(latencies, 0.99));
    expect(summary.queueDepth).toBe(count - 1);
    expect(summary.users).toBe(7);
  });
});

describe('examples/prometheus.ts', () => {
  let app: Awaited<ReturnType<typeof prometheus>>;
  beforeAll(async () => {
    app = await prometheus({ port: 0, intervalMs: 300 });
  });
  afterAll(() => app.close());

  const get = async (path: string) => {
    const res = await fetch(`${app.url}${path}`);
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  /** Every line is a comment or `name{labels} value` in the text format. */
  const SAMPLE =
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (NaN|[+-]Inf|-?[0-9.]+(e[+-]?\d+)?)$/;

  it('serves the registry at /metrics in the Prometheus text format', async () => {
    for (let i = 0; i < 3; i++) expect((await get('/hello')).status).toBe(200);
    expect((await get('/nope')).status).toBe(404);
    const { status, type, text } = await get('/metrics');
    expect(status).toBe(200);
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = text.trimEnd().split('\n');
    for (const line of lines) if (!line.startsWith('#')) expect(line).toMatch(SAMPLE);
    expect(lines).toContain('# TYPE http_requests_total counter');
    expect(lines).toContain('http_requests_total{route="/hello",service="web",status="200"} 3');
    expect(lines).toContain('http_requests_total{route="other",service="web",status="404"} 1');
    expect(lines).toContain('# TYPE http_request_ms summary');
    expect(lines).toContain('http_request_ms_count{route="/hello",service="web",status="200"} 3');
    const quantiles = lines.filter((l) => l.startsWith('http_request_ms{route="/hello"'));
    expect(quantiles.map((l) => /quantile="([0-9.]+)"/.exec(l)?.[1])).toEqual([
      '0.5',
      '0.9',
      '0.95',
      '0.99',
      '0.999',
    ]);
  });

  it("serves the broker's merged view at /metrics/fleet once a window has closed", async () => {
    const line = 'http_requests_total{route="/hello",service="web",status="200"} 3';
    let text = '';
    await until('the window to reach the broker', async () => {
      text = (await get('/metrics/fleet')).text;
      return text.split('\n').includes(line);
    });
    const lines = text.trimEnd().split('\n');
    for (const l of lines) if (!l.startsWith('#')) expect(l).toMatch(SAMPLE);
    expect(lines).toContain('http_request_ms_count{route="/hello",service="web",status="200"} 3');
    expect(lines.find((l) => l.startsWith('fleetwatch_broker_frames_total{'))).toMatch(/ [1-9]\d*$/);
  });
});

describe('examples/checks-webhook.ts', () => {
  let healthy = false;
  const hooks: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];
  // The service: failing until the webhook has reported it CRITICAL (an operator fixed it).
  const target = createServer((_req, res) => {
    res.writeHead(healthy ? 200 : 500, { 'content-type': 'text/plain' }).end(healthy ? 'up' : 'down');
  });
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      hooks.push({ headers: req.headers, body });
      if (body.checkId === 'web-http' && body.state === 'CRITICAL') healthy = true;
      res.writeHead(204).end();
    });
  });
  let targetUrl: string;
  let hookUrl: string;
  beforeAll(async () => {
    targetUrl = await listen(target);
    hookUrl = await listen(receiver);
  });
  afterAll(async () => {
    await closeServer(target);
    await closeServer(receiver);
  });

  it('posts the CRITICAL and then the OK state change of the HTTP check to the webhook', async () => {
    const result = await checksWebhook({
      url: `${targetUrl}/health`,
      webhookUrl: `${hookUrl}/hooks`,
      webhookHeaders: { authorization: 'Bearer example-token' },
      periodMs: 1000, // timeouts of 800 ms: room for a loaded machine
      stopAfterStates: 3,
      maxRunMs: 20_000,
      log: () => {},
    });
    const http = result.states.filter((s) => s.checkId === 'web-http');
    expect(http.map((s) => [s.target, s.previous, s.state])).toEqual([
      [`${targetUrl}/health`, 'UNKNOWN', 'CRITICAL'],
      [`${targetUrl}/health`, 'CRITICAL', 'OK'],
    ]);
    expect(http[0]?.message).toContain('500'); // the failed run's error
    expect(http[1]?.message).toBe('HTTP 200'); // the alarm's message
    const tcp = result.states.filter((s) => s.checkId === 'web-tcp');
    expect(tcp.map((s) => [s.previous, s.state])).toEqual([['UNKNOWN', 'OK']]);
    expect(tcp[0]?.target).toBe(new URL(targetUrl).host);

    // the webhook got every change, the HTTP ones in order, with the configured header
    expect(result).toMatchObject({ delivered: 3, failedDeliveries: 0 });
    expect(hooks).toHaveLength(3);
    const httpHooks = hooks.filter((h) => h.body.checkId === 'web-http').map((h) => h.body);
    expect(httpHooks.map((b) => [b.previous, b.state])).toEqual([
      ['UNKNOWN', 'CRITICAL'],
      ['CRITICAL', 'OK'],
    ]);
    expect(httpHooks.map((b) => b.message)).toEqual([http[0]?.message, 'HTTP 200']);
    expect(httpHooks[0]?.metrics).toMatchObject({ code: '500' });
    expect(hooks.every((h) => h.headers.authorization === 'Bearer example-token')).toBe(true);
    expect(hooks.every((h) => h.headers['content-type']?.startsWith('application/json'))).toBe(true);
    // each run of the HTTP check was stored as a check.duration point
    expect(result.storedDurations).toBeGreaterThanOrEqual(2);
    expect(result.storedDurations).toBeLessThanOrEqual(result.runs);
  });
});

describe('examples run directly (`npx tsx examples/<file>.ts`)', () => {
  const run = (file: string, env: Record<string, string>) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });

  it('cluster-broker.ts prints the merged numbers of its workers', async () => {
    const { stdout } = await run('examples/cluster-broker.ts', { WORKERS: '2', REQUESTS: '100' });
    expect(stdout).toContain('workers exited with 0, 0;');
    expect(stdout).toContain('requests: 180 ok, 20 failed');
    expect(stdout).toMatch(
      /request_ms over all workers: n=200 p50=\d+\.\d p90=\d+\.\d p99=\d+\.\d max=100\n/,
    );
  });

  it('multi-cloud-inventory.ts without cloud credentials exits 1 naming the variables', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      DIGITALOCEAN_TOKEN: '',
      LINODE_TOKEN: '',
    };
    const err = await run('examples/multi-cloud-inventory.ts', env).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain('no cloud credentials in the environment');
  });
});
