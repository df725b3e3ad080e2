/**
 * stop() and notifiers: the last state change reaches a slow webhook receiver before stop() resolves;
 * a call still pending after stopGraceMs is aborted and reported once on 'error'.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckScheduler } from '../../src/checks/scheduler.js';
import type { CheckType } from '../../src/checks/types.js';
import { webhookNotifier } from '../../src/checks/webhook.js';
import { FleetwatchError } from '../../src/errors.js';
import { httpServer, type TestServer, until } from './servers.js';

/** Every run fails, so the first result is a CRITICAL state change. */
const failing: CheckType<unknown> = {
  type: 'failing',
  normalize: (c) => c ?? {},
  run: async () => ({ metrics: { value: 0 }, error: 'down' }),
};

let server: TestServer;
const delivered: Array<{ state: string }> = [];
const hanging: ServerResponse[] = [];
beforeAll(async () => {
  server = await httpServer({
    // answers 300 ms after the whole body arrived; the event counts as delivered only then
    '/slow': (req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const t = setTimeout(() => {
          delivered.push(JSON.parse(body) as { state: string });
          res.end();
        }, 300);
        t.unref();
      });
    },
    // never answers
    '/hang': (req, res) => {
      req.resume();
      hanging.push(res);
    },
  });
});
afterAll(async () => {
  for (const r of hanging) r.destroy();
  await server.close();
});

function scheduler(path: string, stopGraceMs: number) {
  const s = new CheckScheduler({
    types: [failing],
    stopGraceMs,
    notifiers: [webhookNotifier({ url: `http://127.0.0.1:${server.port}${path}`, retries: 0 })],
  });
  s.add({ id: 'web', type: 'failing', targets: 'h', periodMs: 1000 });
  return s;
}

describe('CheckScheduler.stop() and notifiers', () => {
  it('stop() - waits for an in-flight webhook delivery of the last state change', async () => {
    const s = scheduler('/slow', 5000);
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e));
    const changed = new Promise<void>((resolve) => s.once('state', () => resolve()));
    s.start();
    await changed;
    await s.stop();
    expect(delivered).toEqual([expect.objectContaining({ checkId: 'web', state: 'CRITICAL' })]);
    expect(errors).toEqual([]);
  });

  it('stop() - a call still pending after stopGraceMs is aborted and reported once as E_TIMEOUT', async () => {
    const s = scheduler('/hang', 200);
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e));
    const changed = new Promise<void>((resolve) => s.once('state', () => resolve()));
    s.start();
    await changed;
    await until(() => hanging.length === 1);
    await s.stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(FleetwatchError);
    expect(errors[0]).toMatchObject({ code: 'E_TIMEOUT', details: { pending: 1 } });
    // the request was cancelled: the receiver sees its socket close
    await until(() => server.closed.size >= server.sockets.length);
    // the abort rejection afterwards is not a second report
    await new Promise((r) => setTimeout(r, 50));
    expect(errors).toHaveLength(1);
  });
});
