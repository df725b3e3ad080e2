import { describe, expect, it } from 'vitest';
import { CheckResultSink, numericValue } from '../../src/checks/sink.js';
import type { Point } from '../../src/metrics-store/types.js';

describe('CheckResultSink', () => {
  it('record() - drops the oldest points beyond maxBuffered and counts them', async () => {
    const written: Point[] = [];
    const sink = new CheckResultSink({
      store: {
        write: async (p) => {
          written.push(...p);
          return { accepted: p.length };
        },
      },
      maxBuffered: 5,
      maxBatch: 100,
      onError: () => {},
    });
    for (let i = 0; i < 3; i++) sink.record({ v: i, s: 'text' }, true, { check: 'c' }, 1000 + i);
    expect(sink.dropped).toBe(1);
    await sink.flush();
    expect(written.map((p) => `${p.metric}@${p.ts}`)).toEqual([
      'check.v@1000',
      'check.ok@1001',
      'check.v@1001',
      'check.ok@1002',
      'check.v@1002',
    ]);
    expect(sink.written).toBe(5);
  });

  it('flush() - a failing store is reported through onError, never thrown', async () => {
    const errors: unknown[] = [];
    const sink = new CheckResultSink({
      store: {
        write: async () => {
          throw new Error('down');
        },
      },
      onError: (e) => errors.push(e),
    });
    sink.record({ v: 1 }, false, { check: 'c' }, 1);
    await expect(sink.flush()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('tags() - replaces non-printable characters and keeps values within 200 chars', () => {
    const tags = CheckResultSink.tags('c', `t\u0001${'x'.repeat(300)}`, { location: 'dc1' });
    expect(tags.target).toMatch(/^t_x+$/);
    expect(tags.target!.length).toBe(200);
    expect(tags.location).toBe('dc1');
  });

  it('numericValue() - numbers, booleans and numeric strings only', () => {
    expect([
      numericValue(2.5),
      numericValue(true),
      numericValue('200'),
      numericValue('2xx'),
      numericValue(Number.NaN),
    ]).toEqual([2.5, 1, 200, undefined, undefined]);
  });
});
