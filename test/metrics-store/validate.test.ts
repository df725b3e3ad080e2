import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import { DEFAULT_RETENTION } from '../../src/metrics-store/types.js';
import {
  MAX_FUTURE_MS,
  normalizeRetention,
  normalizeWriteOptions,
  validatePercentileQuery,
  validatePoints,
  validateQuery,
  validateTags,
} from '../../src/metrics-store/validate.js';

const NOW = Date.UTC(2025, 5, 15);
const W = { now: NOW, rawRetentionMs: DEFAULT_RETENTION.raw };

function pathOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code).toBe('E_VALIDATION');
    return (err as FleetwatchError).path;
  }
  return undefined;
}

describe('validatePoints()', () => {
  it('accepts good points at the window edges', () => {
    expect(
      pathOf(() =>
        validatePoints(
          [
            { metric: 'a', ts: NOW - DEFAULT_RETENTION.raw, value: 0 },
            {
              metric: '_x.y:z/w-1',
              tags: { 'k.1/2:3-_': 'any printable — ünïcode ✓ =,{}' },
              ts: NOW + MAX_FUTURE_MS,
              value: -1,
            },
          ],
          W,
        ),
      ),
    ).toBeUndefined();
  });

  it('names the first bad field and carries expected/received', () => {
    try {
      validatePoints(
        [
          { metric: 'a', ts: NOW, value: 1 },
          { metric: 'a', ts: NOW, value: Number.NaN },
        ],
        W,
      );
      expect.unreachable();
    } catch (err) {
      expect((err as FleetwatchError).toJSON()).toMatchObject({
        code: 'E_VALIDATION',
        path: 'points[1].value',
        expected: 'a finite number',
        received: 'NaN',
      });
    }
  });

  it('tag rules: count, key chars, value printability, __proto__', () => {
    expect(pathOf(() => validateTags({ ok: 'a\u0007' }, 't'))).toBe('t.ok');
    expect(pathOf(() => validateTags({ ok: '\ud800' }, 't'))).toBe('t.ok'); // lone surrogate
    expect(pathOf(() => validateTags({ ok: '😀' }, 't'))).toBeUndefined();
    expect(pathOf(() => validateTags(JSON.parse('{"__proto__":"x"}'), 't'))).toBe('t.__proto__');
    expect(pathOf(() => validateTags({ 'a=b': 'x' }, 't'))).toBe('t["a=b"]');
    expect(pathOf(() => validateTags([], 't'))).toBe('t');
    expect(pathOf(() => validateTags(new Map(), 't'))).toBe('t');
  });

  it('metric names are 1-200 chars', () => {
    expect(pathOf(() => validatePoints([{ metric: 'a'.repeat(200), ts: NOW, value: 1 }], W))).toBeUndefined();
    expect(pathOf(() => validatePoints([{ metric: 'a'.repeat(201), ts: NOW, value: 1 }], W))).toBe(
      'points[0].metric',
    );
  });
});

describe('normalizeWriteOptions()', () => {
  it('applies defaults and rejects unknown keys', () => {
    expect(normalizeWriteOptions(undefined)).toEqual({ source: '', combine: 'last', signal: undefined });
    expect(normalizeWriteOptions({ source: 'h1', combine: 'sum' })).toMatchObject({
      source: 'h1',
      combine: 'sum',
    });
    expect(pathOf(() => normalizeWriteOptions({ sorce: 'x' }))).toBe('opts.sorce');
    expect(pathOf(() => normalizeWriteOptions({ source: 'x'.repeat(201) }))).toBe('opts.source');
    expect(pathOf(() => normalizeWriteOptions({ signal: {} }))).toBe('opts.signal');
  });
});

describe('validateQuery() and validatePercentileQuery()', () => {
  it('check every field', () => {
    const q = { metric: 'm', from: 0, to: 1 };
    expect(pathOf(() => validateQuery(q))).toBeUndefined();
    expect(pathOf(() => validateQuery({ ...q, resolution: 'auto', points: 10, tags: {} }))).toBeUndefined();
    expect(pathOf(() => validateQuery({ ...q, extra: 1 }))).toBe('query.extra');
    expect(pathOf(() => validateQuery({ ...q, points: 1.5 }))).toBe('query.points');
    expect(pathOf(() => validatePercentileQuery({ ...q, quantiles: [0.5, Number.NaN] }))).toBe(
      'query.quantiles[1]',
    );
    expect(pathOf(() => validatePercentileQuery({ ...q, quantiles: [0.5], resolution: 'raw' }))).toBe(
      'query.resolution',
    );
  });
});

describe('normalizeRetention()', () => {
  it('merges over defaults, freezes, and keeps coarser levels at least as long as finer ones', () => {
    const r = normalizeRetention({ raw: 1000 }, DEFAULT_RETENTION);
    expect(r).toEqual({ ...DEFAULT_RETENTION, raw: 1000 });
    expect(Object.isFrozen(r)).toBe(true);
    expect(pathOf(() => normalizeRetention({ '1h': 1000 }, DEFAULT_RETENTION))).toBe(
      'options.retention["1h"]',
    );
    expect(pathOf(() => normalizeRetention({ '2h': 1000 }, DEFAULT_RETENTION))).toBe(
      'options.retention["2h"]',
    );
    expect(pathOf(() => normalizeRetention({ raw: 0 }, DEFAULT_RETENTION))).toBe('options.retention.raw');
  });
});
