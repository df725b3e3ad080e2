/**
 * HTTP checks with an alarm: an unexpected status is the alarm's to judge (it sees `code`), while
 * transport failures stay failed runs; without an alarm an unexpected status is CRITICAL `status N`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckResultEvent, CheckScheduler, testCheck } from '../../src/checks/scheduler.js';
import type { CheckStateEvent } from '../../src/checks/webhook.js';
import { closedPort, httpServer, type TestServer } from './servers.js';

const CONTRACT = "if (metric['code'] != '200') return CRITICAL; return OK";
const WARN_404 = "if (metric['code'] == 404) return WARNING, 'gone: #{code}'; return OK";

let server: TestServer;
let refused: number;
beforeAll(async () => {
  server = await httpServer({
    '/ok': (_q, res) => res.end('UP'),
    '/boom': (_q, res) => {
      res.statusCode = 500;
      res.end('down');
    },
  });
  refused = await closedPort();
});
afterAll(() => server.close());

const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

describe('http check - unexpected status with an alarm', () => {
  it('scheduler - a rule returning WARNING for 404 gives WARNING (the run is not failed)', async () => {
    const s = new CheckScheduler();
    const results: CheckResultEvent[] = [];
    s.on('result', (r) => results.push(r));
    const state = new Promise<CheckStateEvent>((resolve) => s.once('state', resolve));
    s.add({ id: 'web', type: 'http', targets: url('/missing'), periodMs: 1000, alarm: WARN_404 });
    s.start();
    const e = await state;
    await s.stop();
    expect(e).toMatchObject({ state: 'WARNING', message: 'gone: 404', metrics: { code: '404' } });
    expect(results[0]).toMatchObject({ ok: true, metrics: { code: '404' } });
    expect(results[0]!.error).toBeUndefined();
    expect(typeof results[0]!.metrics.duration).toBe('number');
  });

  it("scheduler - the contract alarm (code != '200') fires on a 500 with the alarm's verdict", async () => {
    const s = new CheckScheduler();
    const state = new Promise<CheckStateEvent>((resolve) => s.once('state', resolve));
    s.add({
      id: 'web',
      type: 'http',
      targets: url('/boom'),
      periodMs: 1000,
      alarm: "if (metric['code'] != '200') return CRITICAL, 'HTTP #{code}'; return OK",
    });
    s.start();
    const e = await state;
    await s.stop();
    // the alarm's message, not the run error `status 500`
    expect(e).toMatchObject({ state: 'CRITICAL', message: 'HTTP 500' });
  });

  it("testCheck() - code != 200 (number) and != '200' (string) both judge 200 OK and 500 CRITICAL", async () => {
    for (const alarm of [CONTRACT, "if (metric['code'] != 200) return CRITICAL; return OK", 'code == 200']) {
      const [good] = await testCheck({ id: 'a', type: 'http', targets: url('/ok'), alarm });
      const [bad] = await testCheck({ id: 'b', type: 'http', targets: url('/boom'), alarm });
      expect([alarm, good!.alarm.state, bad!.alarm.state, bad!.ok]).toEqual([alarm, 'OK', 'CRITICAL', true]);
    }
  });

  it('testCheck() - an alarm that accepts the status makes the run OK', async () => {
    const [r] = await testCheck({
      id: 'a',
      type: 'http',
      targets: url('/boom'),
      alarm: "if (metric['code'] >= 501) return CRITICAL; return OK",
    });
    expect(r).toMatchObject({ ok: true, alarm: { state: 'OK' }, metrics: { code: '500' } });
  });

  it('testCheck() - other assertions still fail the run with an alarm, without the status part', async () => {
    const [r] = await testCheck({
      id: 'a',
      type: 'http',
      targets: url('/boom'),
      http: { bodyRegex: 'UP' },
      alarm: WARN_404,
    });
    expect(r).toMatchObject({ ok: false, error: 'body did not match UP', alarm: { state: 'CRITICAL' } });
  });

  it('testCheck() - without an alarm an unexpected status is still CRITICAL `status 500`', async () => {
    const [r] = await testCheck({ id: 'a', type: 'http', targets: url('/boom') });
    expect(r).toMatchObject({
      ok: false,
      error: 'status 500',
      alarm: { state: 'CRITICAL', message: 'status 500' },
    });
  });

  it('testCheck() - a refused connection stays a failed run (CRITICAL) whatever the alarm says', async () => {
    const [r] = await testCheck({
      id: 'a',
      type: 'http',
      targets: `http://127.0.0.1:${refused}/`,
      alarm: 'return OK',
    });
    expect(r!.ok).toBe(false);
    expect(r!.alarm.state).toBe('CRITICAL');
    expect(r!.alarm.message).toMatch(/ECONNREFUSED/);
  });
});
