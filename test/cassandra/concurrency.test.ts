import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/cassandra/concurrency.js';
import { FleetwatchError } from '../../src/errors.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('mapLimit()', () => {
  it('mapLimit() - results in input order with at most `limit` calls pending', async () => {
    let pending = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 9, 7], 3, async (n, i) => {
      pending++;
      peak = Math.max(peak, pending);
      await tick();
      pending--;
      return n * 10 + i;
    });
    expect(out).toEqual([50, 11, 42, 23, 34, 95, 76]);
    expect(peak).toBe(3);
  });

  it('mapLimit() - the first rejection rejects the call and starts nothing more', async () => {
    const started: number[] = [];
    const err = await mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 1) throw new Error('boom');
      await tick();
      return n;
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('boom');
    expect(started).toEqual([0, 1]);
  });

  it('mapLimit() - an aborted signal rejects with E_ABORTED and leaves the rest unstarted', async () => {
    const ac = new AbortController();
    const started: number[] = [];
    const p = mapLimit(
      [0, 1, 2, 3],
      1,
      async (n) => {
        started.push(n);
        if (n === 0) ac.abort();
        await tick();
        return n;
      },
      ac.signal,
    );
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code).toBe('E_ABORTED');
    expect(started).toEqual([0]);
  });
});
