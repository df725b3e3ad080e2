import { describe, expect, it } from 'vitest';
import {
  CheckStateMachine,
  MemoryCheckStateStore,
  normalizeSuppression,
  suppressionActive,
} from '../../src/checks/state.js';

const ids = { checkId: 'c', target: 't' };
const counts = { enter: 2, recover: 3 };

describe('CheckStateMachine.observe()', () => {
  it('enters OK at once, needs `enter` bad results in a row and `recover` good ones to come back', () => {
    const m = new CheckStateMachine();
    const seq = ['OK', 'CRITICAL', 'OK', 'CRITICAL', 'CRITICAL', 'OK', 'OK', 'WARNING', 'OK'] as const;
    const out = seq.map((state, i) => m.observe(ids, { state, message: `m${i}` }, counts, i, {}).transition);
    expect(out.map((t) => (t ? `${t.previous}>${t.state}:${t.message}` : '-'))).toEqual([
      'UNKNOWN>OK:m0',
      '-',
      '-',
      '-',
      'OK>CRITICAL:m4',
      '-',
      '-',
      '-',
      '-',
    ]);
    // the WARNING in the middle reset the recovery count: still CRITICAL
    expect(m.get('c\u0000t')?.state).toBe('CRITICAL');
  });

  it('a first bad result needs the full count too', () => {
    const m = new CheckStateMachine();
    expect(m.observe(ids, { state: 'CRITICAL', message: '' }, counts, 1, {}).transition).toBeUndefined();
    expect(m.observe(ids, { state: 'CRITICAL', message: '' }, counts, 2, {}).transition?.state).toBe(
      'CRITICAL',
    );
  });
});

describe('MemoryCheckStateStore', () => {
  it('saves copies, loads them back and deletes', async () => {
    const s = new MemoryCheckStateStore();
    const rec = {
      key: 'k',
      checkId: 'c',
      target: 't',
      state: 'OK' as const,
      since: 1,
      message: '',
      count: 0,
    };
    await s.save(rec);
    rec.state = 'CRITICAL' as never;
    expect((await s.load()).map((r) => r.state)).toEqual(['OK']);
    await s.delete('k');
    expect(await s.load()).toEqual([]);
  });
});

describe('suppression windows', () => {
  const mon10 = Date.UTC(2026, 0, 5, 10, 0); // a Monday
  it('one-off: [start, end)', () => {
    const w = normalizeSuppression({ id: 'a', start: mon10, end: mon10 + 60_000 });
    expect(suppressionActive(w, mon10 - 1)).toBe(false);
    expect(suppressionActive(w, mon10)).toBe(true);
    expect(suppressionActive(w, mon10 + 60_000)).toBe(false);
  });
  it('recurring: weekdays at HH:MM UTC, windows crossing midnight', () => {
    const w = normalizeSuppression({ id: 'r', recurring: { days: [1], at: '23:30', durationMs: 3_600_000 } });
    const mon2330 = Date.UTC(2026, 0, 5, 23, 30);
    expect(suppressionActive(w, mon2330 - 1)).toBe(false);
    expect(suppressionActive(w, mon2330)).toBe(true);
    expect(suppressionActive(w, mon2330 + 45 * 60_000)).toBe(true); // Tuesday 00:15, still Monday's window
    expect(suppressionActive(w, mon2330 + 60 * 60_000)).toBe(false);
    expect(suppressionActive(w, mon2330 + 7 * 86_400_000 - 86_400_000)).toBe(false); // Sunday
  });
  it('normalizeSuppression() - rejects bad windows with the field path', () => {
    expect(() => normalizeSuppression({ id: '' })).toThrow(
      expect.objectContaining({ path: 'suppression.id' }),
    );
    expect(() => normalizeSuppression({ id: 'x', recurring: { at: '25:00', durationMs: 1 } })).toThrow(
      expect.objectContaining({ path: 'suppression.recurring.at' }),
    );
    expect(() => normalizeSuppression({ id: 'x', start: 10, end: 5 })).toThrow(
      expect.objectContaining({ path: 'suppression.end' }),
    );
  });
});
