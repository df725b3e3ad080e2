import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseSeriesKey,
  seriesId,
  seriesKey,
  sortedTags,
  tagsMatch,
} from '../../src/metrics-store/series-key.js';

describe('series keys', () => {
  it('seriesKey() - independent of tag order, and parseSeriesKey() reads it back', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.dictionary(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), { maxKeys: 8 }),
        (metric, tags) => {
          fc.pre(!Object.hasOwn(tags, '__proto__'));
          const reversed = Object.fromEntries(Object.entries(tags).reverse());
          const key = seriesKey(metric, tags);
          expect(seriesKey(metric, reversed)).toBe(key);
          expect(parseSeriesKey(key)).toEqual({ metric, tags: sortedTags(tags) });
        },
      ),
    );
  });

  it('seriesKey() - distinct tag sets never collide, even with separator-like characters', () => {
    expect(seriesKey('m', { a: 'b,c=d' })).not.toBe(seriesKey('m', { a: 'b', c: 'd' }));
    expect(seriesKey('m', {})).toBe(seriesKey('m', undefined));
  });

  it('seriesId() - 32 hex digits, stable', () => {
    const id = seriesId(seriesKey('cpu', { host: 'a' }));
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(seriesId(seriesKey('cpu', { host: 'a' }))).toBe(id);
    expect(seriesId(seriesKey('cpu', { host: 'b' }))).not.toBe(id);
  });

  it('tagsMatch() - subset match', () => {
    expect(tagsMatch({ a: '1', b: '2' }, { a: '1' })).toBe(true);
    expect(tagsMatch({ a: '1' }, { a: '1', b: '2' })).toBe(false);
    expect(tagsMatch({ a: '1' }, undefined)).toBe(true);
    expect(tagsMatch({ a: '1' }, {})).toBe(true);
    expect(tagsMatch({}, { constructor: 'x' })).toBe(false);
  });
});
