import { describe, expect, it } from 'vitest';
import { firstFound, mergeConcurrently } from '../../src/providers/kit/merge.js';
import { RegionMemo } from '../../src/providers/kit/region-memo.js';

/** A source that records how it was driven. */
function source(name: string, items: number[], log: string[], failAt?: number) {
  return async function* () {
    log.push(`start ${name}`);
    try {
      for (const [i, item] of items.entries()) {
        await Promise.resolve();
        if (i === failAt) throw new Error(`${name} failed`);
        yield item;
      }
    } finally {
      log.push(`end ${name}`);
    }
  };
}

describe('mergeConcurrently()', () => {
  it('yields every item of every source', async () => {
    const log: string[] = [];
    const out: number[] = [];
    for await (const n of mergeConcurrently(
      [source('a', [1, 2, 3], log), source('b', [10, 20], log), source('c', [], log)],
      2,
    ))
      out.push(n);
    expect(out.sort((x, y) => x - y)).toEqual([1, 2, 3, 10, 20]);
    expect(log.filter((l) => l.startsWith('end')).sort()).toEqual(['end a', 'end b', 'end c']);
  });

  it('runs at most `concurrency` sources at once', async () => {
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const tracked = (name: string) =>
      async function* () {
        running++;
        peak = Math.max(peak, running);
        try {
          yield* source(name, [1, 2], log)();
        } finally {
          running--;
        }
      };
    const out: number[] = [];
    for await (const n of mergeConcurrently(['a', 'b', 'c', 'd', 'e'].map(tracked), 2)) out.push(n);
    expect(out).toHaveLength(10);
    expect(peak).toBe(2);
  });

  it('throws the first failure and closes the other sources', async () => {
    const log: string[] = [];
    const run = async () => {
      for await (const _ of mergeConcurrently(
        [source('a', [1, 2, 3, 4], log, 1), source('b', [5, 6, 7, 8], log)],
        2,
      )) {
        // drain
      }
    };
    await expect(run()).rejects.toThrow('a failed');
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toContain('end b');
  });

  it('closes running sources when the consumer stops early', async () => {
    const log: string[] = [];
    for await (const _ of mergeConcurrently([source('a', [1, 2, 3], log), source('b', [4, 5, 6], log)], 2))
      break;
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(expect.arrayContaining(['end a', 'end b']));
  });
});

describe('firstFound()', () => {
  it('resolves with a defined result, or undefined when none has one', async () => {
    expect(await firstFound([1, 2, 3], async (k) => (k === 2 ? `found ${k}` : undefined), 2)).toBe('found 2');
    expect(await firstFound([1, 2, 3], async () => undefined, 2)).toBeUndefined();
    await expect(firstFound([1], async () => Promise.reject(new Error('boom')), 1)).rejects.toThrow('boom');
  });
});

describe('RegionMemo', () => {
  it('remembers regions and starts over past its bound', () => {
    const memo = new RegionMemo<string | undefined>(3);
    memo.set('a', 'r1');
    memo.set('b', undefined);
    memo.set('c', 'r2');
    expect([memo.get('a'), memo.has('b'), memo.get('b'), memo.size]).toEqual(['r1', true, undefined, 3]);
    memo.set('c', 'r3');
    expect(memo.size).toBe(3);
    memo.set('d', 'r4');
    expect([memo.size, memo.has('a'), memo.get('d')]).toEqual([1, false, 'r4']);
  });
});
