import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStatsd, type StatsdMetric } from '../../src/broker/statsd.js';

function parse(text: string) {
  const out: StatsdMetric[] = [];
  const r = parseStatsd(text, (m) => out.push({ ...m, tags: m.tags && { ...m.tags } }));
  return { ...r, out };
}

const base = { delta: false, member: '', rate: 1, tags: undefined };

describe('parseStatsd()', () => {
  it('parses every type', () => {
    const { out, lines, bad } = parse('a:1|c\nb:2.5|g\nc:3|ms\nd:4|h\ne:5|d\nf:u1|s');
    expect(lines).toBe(6);
    expect(bad).toBe(0);
    expect(out).toEqual([
      { ...base, name: 'a', type: 'c', value: 1 },
      { ...base, name: 'b', type: 'g', value: 2.5 },
      { ...base, name: 'c', type: 'ms', value: 3 },
      { ...base, name: 'd', type: 'h', value: 4 },
      { ...base, name: 'e', type: 'd', value: 5 },
      { ...base, name: 'f', type: 's', value: 0, member: 'u1' },
    ]);
  });

  it('marks signed gauges as deltas and unsigned as sets', () => {
    const { out } = parse('g:+3|g\ng:-2|g\ng:7|g\nc:-2|c');
    expect(out.map((m) => [m.value, m.delta])).toEqual([
      [3, true],
      [-2, true],
      [7, false],
      [-2, false],
    ]);
  });

  it('reads sample rates and DogStatsD tags, in either order, ignoring unknown sections', () => {
    const { out, bad } = parse(
      'req:1|c|@0.1|#route:/a,env:prod,canary\nlat:12|ms|#host:x|@0.5|c:abc123|T1700000000',
    );
    expect(bad).toBe(0);
    expect(out).toEqual([
      {
        ...base,
        name: 'req',
        type: 'c',
        value: 1,
        rate: 0.1,
        tags: { route: '/a', env: 'prod', canary: 'true' },
      },
      { ...base, name: 'lat', type: 'ms', value: 12, rate: 0.5, tags: { host: 'x' } },
    ]);
  });

  it('unpacks DogStatsD v1.1 multi-value lines', () => {
    const { out } = parse('lat:1:2:3.5|d|#a:b');
    expect(out.map((m) => m.value)).toEqual([1, 2, 3.5]);
    expect(out.every((m) => m.tags?.a === 'b')).toBe(true);
  });

  it('accepts \\r\\n and skips empty lines without counting them', () => {
    const r = parse('a:1|c\r\n\n\nb:2|c\n');
    expect(r.lines).toBe(2);
    expect(r.out.map((m) => m.name)).toEqual(['a', 'b']);
  });

  it('counts and drops bad lines, keeping the good ones of the packet', () => {
    const badLines = [
      'nocolon|c',
      ':1|c',
      'a:1',
      'a:|c',
      'a:1|x',
      'a:abc|c',
      'a:1|c|@2',
      'a:1|c|@0',
      'a:1|c|@x',
      'a:1|c|#',
      'a:1|c|#,a',
      'a:1|c|#:v',
      'a:1|c|',
      'a:1e999|c',
      'a:1:2|s',
      'a:1|c||#t',
    ];
    const r = parse(['good:1|c', ...badLines, 'good:2|c'].join('\n'));
    expect(r.bad).toBe(badLines.length);
    expect(r.lines).toBe(badLines.length + 2);
    expect(r.out.map((m) => m.value)).toEqual([1, 2]);
  });

  it('reads a Buffer the same as a string', () => {
    const out: string[] = [];
    parseStatsd(Buffer.from('é.x:1|c'), (m) => out.push(m.name));
    expect(out).toEqual(['é.x']);
  });

  it('round-trips generated lines (property)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_.]{0,15}$/);
    const tagKey = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
    const tagVal = fc.stringMatching(/^[a-z0-9_/.]{1,8}$/);
    fc.assert(
      fc.property(
        name,
        fc.constantFrom('c', 'g', 'ms', 'h', 'd'),
        fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 4 }),
        fc.option(
          fc.integer({ min: 1, max: 100 }).map((p) => p / 100),
          { nil: undefined },
        ),
        fc.dictionary(tagKey, tagVal, { maxKeys: 4 }),
        (n, type, values, rate, tags) => {
          const tagText = Object.entries(tags).map(([k, v]) => `${k}:${v}`);
          const line = `${n}:${values.join(':')}|${type}${rate === undefined ? '' : `|@${rate}`}${tagText.length ? `|#${tagText.join(',')}` : ''}`;
          const r = parse(line);
          expect(r.bad).toBe(0);
          expect(r.out.map((m) => m.value)).toEqual(values);
          for (const m of r.out) {
            expect(m.name).toBe(n);
            expect(m.type).toBe(type);
            expect(m.rate).toBe(rate ?? 1);
            expect(m.tags ?? {}).toEqual(tags);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws and accounts for every line on arbitrary input (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'ab:|@#,.1-+\n\r gcms'.split('')), maxLength: 80 }),
        (text) => {
          let good = 0;
          const r = parseStatsd(text, (m) => {
            expect(typeof m.name).toBe('string');
            expect(m.name.length).toBeGreaterThan(0);
            if (m.type !== 's') expect(Number.isFinite(m.value)).toBe(true);
            good++;
          });
          expect(r.bad).toBeLessThanOrEqual(r.lines);
          if (r.lines === r.bad) expect(good).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
