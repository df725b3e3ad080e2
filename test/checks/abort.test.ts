import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCheck } from '../../src/checks/http.js';
import { CheckScheduler, testCheck } from '../../src/checks/scheduler.js';
import { tcpCheck } from '../../src/checks/tcp.js';
import type { CheckTarget, CheckType } from '../../src/checks/types.js';
import { FleetwatchError } from '../../src/errors.js';
import { httpServer, type TestServer, tcpServer } from './servers.js';

const local: CheckTarget = { key: '127.0.0.1', host: '127.0.0.1', ip: '127.0.0.1', name: 'local' };

async function rejection(p: Promise<unknown>): Promise<FleetwatchError> {
  const err = await p.then(
    () => expect.unreachable('resolved'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FleetwatchError);
  return err as FleetwatchError;
}

let hangHttp: TestServer;
let hangTcp: TestServer;
beforeAll(async () => {
  hangHttp = await httpServer({ '/hang': () => {} });
  hangTcp = await tcpServer(() => {});
});
afterAll(async () => {
  await hangHttp?.close();
  await hangTcp?.close();
});

describe('aborting check calls', () => {
  it('testCheck(def, { signal }) rejects with E_ABORTED, not a DOMException, when aborted mid-run', async () => {
    const ac = new AbortController();
    const p = testCheck(
      {
        id: 'h',
        type: 'http',
        targets: `http://127.0.0.1:${hangHttp.port}/hang`,
        timeoutMs: 30_000,
        periodMs: 60_000,
      },
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 50);
    const err = await rejection(p);
    expect(err.code).toBe('E_ABORTED');
    expect((err.cause as Error).name).toBe('AbortError');
  });

  it('testCheck() with a signal already aborted rejects with E_ABORTED at once', async () => {
    const err = await rejection(
      testCheck(
        { id: 't', type: 'tcp', targets: `127.0.0.1:${hangTcp.port}` },
        { signal: AbortSignal.abort() },
      ),
    );
    expect(err.code).toBe('E_ABORTED');
  });

  it('scheduler.testCheck() on a tcp target reading a banner rejects with E_ABORTED', async () => {
    const ac = new AbortController();
    const s = new CheckScheduler();
    const p = s.testCheck(
      { id: 't', type: 'tcp', targets: `127.0.0.1:${hangTcp.port}`, tcp: { expect: 'x' }, timeoutMs: 30_000 },
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(new Error('user gave up')), 50);
    const err = await rejection(p);
    expect(err.code).toBe('E_ABORTED');
    expect((err.cause as Error).message).toBe('user gave up');
  });

  it('a check type run with a plain aborted signal rejects with E_ABORTED', async () => {
    for (const run of [
      () =>
        httpCheck.run(httpCheck.normalize({ url: `http://127.0.0.1:${hangHttp.port}/hang` }, 'http'), local, {
          signal: AbortSignal.timeout(50),
          timeoutMs: 30_000,
        }),
      () =>
        tcpCheck.run(tcpCheck.normalize({ port: hangTcp.port, expect: 'x' }, 'tcp'), local, {
          signal: AbortSignal.timeout(50),
          timeoutMs: 30_000,
        }),
    ]) {
      expect((await rejection(run())).code).toBe('E_ABORTED');
    }
  });

  it('a custom type whose normalize throws a TypeError is E_VALIDATION at add() naming the block', () => {
    const picky: CheckType<unknown> = {
      type: 'picky',
      normalize: () => {
        throw new TypeError('nope');
      },
      run: async () => ({ metrics: {} }),
    };
    const s = new CheckScheduler({ types: [picky] });
    try {
      s.add({ id: 'p', type: 'picky', targets: 'h', periodMs: 1000, picky: { x: 1 } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FleetwatchError);
      expect(err).toMatchObject({ code: 'E_VALIDATION', path: 'picky' });
    }
  });
});

describe('webhookNotifier', () => {
  it('rejects with E_ABORTED when its signal fires, and needs a url', async () => {
    const { webhookNotifier } = await import('../../src/checks/webhook.js');
    const notify = webhookNotifier({ url: `http://127.0.0.1:${hangHttp.port}/hang`, retries: 0 });
    const event = {
      checkId: 'c',
      target: 't',
      previous: 'OK',
      state: 'CRITICAL',
      message: '',
      metrics: {},
      ts: 0,
    } as const;
    const err = await rejection(notify(event, { signal: AbortSignal.timeout(50) }));
    expect(err.code).toBe('E_ABORTED');
    expect(() => webhookNotifier({} as never)).toThrow(/webhook\.url/);
  });
});
