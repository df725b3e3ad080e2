/**
 * WriteBuffer: back-pressure, same-partition batching, retries and timeouts, with a fake sender (no
 * Cassandra needed).
 */

import cassandra from 'cassandra-driver';
import { describe, expect, it } from 'vitest';
import { type BufferedStatement, WriteBuffer } from '../../src/cassandra/write-buffer.js';
import { rejection } from '../helpers/errors.js';

const stmt = (key: string, i: number): BufferedStatement => ({ key, query: 'INSERT', params: [i] });

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const unavailable = () => new cassandra.errors.NoHostAvailableError({});

describe('WriteBuffer', () => {
  it('submit() - resolves once every statement is sent; rows of one partition go out together', async () => {
    const sent: number[][] = [];
    const gate = deferred();
    const buf = new WriteBuffer({
      concurrency: 1,
      maxBatch: 3,
      send: async (s) => {
        sent.push(s.map((x) => x.params[0] as number));
        await gate.promise;
      },
    });
    // the first request holds the only slot, so the rest queue up per partition
    const a = buf.submit([stmt('p1', 1)]);
    const b = buf.submit([stmt('p2', 2), stmt('p1', 3), stmt('p1', 4), stmt('p1', 5), stmt('p1', 6)]);
    gate.resolve();
    await Promise.all([a, b]);
    expect(sent).toEqual([[1], [2], [3, 4, 5], [6]]);
    expect(buf.size).toBe(0);
  });

  it('submit() - waits for room when full (back-pressure), then proceeds', async () => {
    const gate = deferred();
    let sends = 0;
    const buf = new WriteBuffer({
      maxRows: 2,
      concurrency: 1,
      send: async () => {
        sends++;
        await gate.promise;
      },
    });
    const first = buf.submit([stmt('a', 1), stmt('b', 2)]);
    let secondQueued = false;
    const second = buf.submit([stmt('c', 3)]).then(() => {
      secondQueued = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(buf.size).toBe(2); // the third statement is not queued yet
    expect(secondQueued).toBe(false);
    gate.resolve();
    await Promise.all([first, second]);
    expect(sends).toBe(3);
  });

  it('submit() - rejects with E_STORE_UNAVAILABLE when the buffer stays full past timeoutMs', async () => {
    const never = deferred();
    const buf = new WriteBuffer({ maxRows: 1, concurrency: 1, timeoutMs: 50, send: () => never.promise });
    const first = rejection(buf.submit([stmt('a', 1)]));
    const err = await rejection(buf.submit([stmt('b', 2)]));
    expect(err.code).toBe('E_STORE_UNAVAILABLE');
    expect(err.message).toMatch(/buffer stayed full/);
    expect((await first).code).toBe('E_STORE_UNAVAILABLE');
  });

  it('submit() - retries transient failures and resolves when the node is back', async () => {
    let calls = 0;
    const buf = new WriteBuffer({
      send: async () => {
        calls++;
        if (calls <= 3) throw unavailable();
      },
    });
    await buf.submit([stmt('a', 1)]);
    expect(calls).toBe(4);
  });

  it('submit() - a write never acknowledged within timeoutMs is rejected, and its queued rows dropped', async () => {
    let calls = 0;
    const buf = new WriteBuffer({
      timeoutMs: 150,
      send: async () => {
        calls++;
        throw unavailable();
      },
    });
    const err = await rejection(buf.submit([stmt('a', 1), stmt('b', 2)]));
    expect(err.code).toBe('E_STORE_UNAVAILABLE');
    expect(err.message).toMatch(/did not acknowledge/);
    await buf.drain();
    expect(buf.size).toBe(0);
    const after = calls;
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(after); // nothing is retried for a rejected write
  });

  it('submit() - a non-transient error fails the write at once with E_INTERNAL', async () => {
    const buf = new WriteBuffer({
      send: async () => {
        throw new cassandra.errors.ResponseError(cassandra.types.responseErrorCodes.invalid, 'bad');
      },
    });
    expect((await rejection(buf.submit([stmt('a', 1)]))).code).toBe('E_INTERNAL');
  });

  it('submit() - an aborted signal rejects with E_ABORTED before anything is queued', async () => {
    const buf = new WriteBuffer({ send: async () => {} });
    const ac = new AbortController();
    ac.abort();
    expect((await rejection(buf.submit([stmt('a', 1)], ac.signal))).code).toBe('E_ABORTED');
    expect(buf.size).toBe(0);
  });

  it('submit() - a statement replaces a queued, unsent twin (same dedupe id); both resolve on its ack', async () => {
    const sent: number[][] = [];
    const gate = deferred();
    const buf = new WriteBuffer({
      concurrency: 1,
      send: async (s) => {
        sent.push(s.map((x) => x.params[0] as number));
        await gate.promise;
      },
    });
    const mark = (i: number): BufferedStatement => ({ ...stmt('d', i), dedupe: 'm1' });
    const a = buf.submit([stmt('p', 1)]); // holds the only slot
    let bDone = false;
    const b = buf.submit([mark(2)]).then(() => {
      bDone = true;
    });
    const c = buf.submit([mark(3), stmt('p', 4)]);
    expect(buf.size).toBe(3); // the twin was not queued again
    gate.resolve();
    await Promise.all([a, b, c]);
    expect(bDone).toBe(true);
    expect(sent).toEqual([[1], [3], [4]]); // the newer twin is sent, in the older one's place
    expect(buf.size).toBe(0);
  });

  it('submit() - a statement never replaces a twin already sent; it is sent again', async () => {
    const sent: number[][] = [];
    const buf = new WriteBuffer({
      send: async (s) => {
        sent.push(s.map((x) => x.params[0] as number));
      },
    });
    const first = buf.submit([{ ...stmt('d', 1), dedupe: 'm1' }]); // dispatched at once
    await buf.submit([{ ...stmt('d', 2), dedupe: 'm1' }]);
    await first;
    expect(sent).toEqual([[1], [2]]);
  });

  it('submit() - a replaced statement still goes out when the group that queued it has timed out', async () => {
    const sent: number[][] = [];
    const gate = deferred();
    let t = 0;
    const buf = new WriteBuffer({
      concurrency: 1,
      timeoutMs: 100,
      send: async (s) => {
        sent.push(s.map((x) => x.params[0] as number));
        if (t++ === 0) await gate.promise;
      },
    });
    const a = rejection(buf.submit([stmt('p', 1)]));
    const b = rejection(buf.submit([{ ...stmt('d', 2), dedupe: 'm1' }]));
    await new Promise((r) => setTimeout(r, 60));
    const c = buf.submit([{ ...stmt('d', 3), dedupe: 'm1' }]);
    expect((await b).code).toBe('E_STORE_UNAVAILABLE'); // b's own deadline passes while it is queued
    gate.resolve();
    await a;
    await c;
    expect(sent).toEqual([[1], [3]]);
  });

  it('close() - rejects queued writes with E_CLOSED and refuses new ones', async () => {
    const never = deferred();
    const buf = new WriteBuffer({ concurrency: 1, send: () => never.promise });
    void buf.submit([stmt('a', 1)]).catch(() => {});
    const queued = buf.submit([stmt('b', 2)]);
    buf.close();
    expect((await rejection(queued)).code).toBe('E_CLOSED');
    expect((await rejection(buf.submit([stmt('c', 3)]))).code).toBe('E_CLOSED');
  });
});
