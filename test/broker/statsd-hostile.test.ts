import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_STATSD_LINE_LENGTH, parseStatsdLines } from '../../src/broker/statsd.js';
import { withinTimeBound } from '../helpers/fuzz.js';
import { useTestBroker } from './helpers.js';

const T0 = Date.UTC(2026, 10, 26, 6, 0, 0);
const KiB = 1024;
const MiB = 1024 * KiB;

const start = useTestBroker(T0);

/** Hostile datagrams: long digit runs (the old quadratic number regex), tag lists, separators. */
const hostile: Array<[string, string]> = [
  ['64 KB of digits ending in x', `a:${'1'.repeat(64 * KiB)}x|c`],
  ['1 MiB of digits ending in x', `a:${'1'.repeat(MiB)}x|c`],
  ['1 MiB of lines just under the limit, digits ending in x', `${`a:${'1'.repeat(4000)}x|c\n`.repeat(250)}`],
  ['1 MiB of lines of bare tags, no colon anywhere', `${`a:1|c|#${'t,'.repeat(2000)}t\n`.repeat(250)}`],
  ['1 MiB of colons', ':'.repeat(MiB)],
  ['1 MiB of pipes', `a:1${'|'.repeat(MiB)}`],
  // The most values one UDP datagram (≤ 64 KB) can carry: linear work, but the most there is.
  ['64 KB of packed values', `a:${'1:'.repeat(2000)}1|ms\n`.repeat(16)],
  ['1 MiB of exponents', `a:${'1e'.repeat(MiB / 2)}|c`],
];

describe('StatsD under hostile input', () => {
  for (const [what, text] of hostile) {
    it(`parses ${what} within the time bound`, () => {
      const r = withinTimeBound(() => parseStatsdLines(text, () => {}));
      expect(r.lines).toBeGreaterThan(0);
      expect(r.bad + (r.lines - r.bad)).toBe(r.lines);
    });
  }

  it('ingestStatsd() takes a 1 MiB datagram within the time bound and counts the long line', async () => {
    const { broker } = await start();
    withinTimeBound(() => broker.ingestStatsd(Buffer.from(`a:${'1'.repeat(MiB)}x|c\nok:1|c`)));
    expect(broker.stats()).toMatchObject({ statsdLines: 2, badStatsdLines: 1, statsdLinesTooLong: 1 });
  });

  it('enforces the documented line limit: at the limit accepted, one more refused and counted', () => {
    const head = 'n:1|c|#k:';
    const at = head + 'v'.repeat(DEFAULT_MAX_STATSD_LINE_LENGTH - head.length);
    const names: string[] = [];
    const r = parseStatsdLines(`${at}\n${at}v`, (l) => names.push(l.name));
    expect(names).toEqual(['n']);
    expect(r).toMatchObject({ lines: 2, bad: 1, tooLong: 1 });
    expect(parseStatsdLines(`${at}v`, () => {}, { maxLineLength: 5000 }).bad).toBe(0);
  });

  it('takes a line whole or not at all: a:5:1e309|c adds nothing', async () => {
    const { clock, store, broker } = await start();
    broker.ingestStatsd('a:5:1e309|c\nb:1:2:x|ms\ng:+1e308:+1e308|g\nc:1e308:1e308|c\nok:1|c');
    clock.t = T0 + 12_000;
    await broker.flushDue();
    expect(store.writes.flatMap((w) => w.points.map((p) => p.metric))).toEqual(['ok']);
    expect(broker.stats()).toMatchObject({
      statsdLines: 5,
      badStatsdLines: 4,
      statsdBadNumbers: 2, // 1e309 and x
      nonFiniteValues: 2, // the gauge and the counter whose sums overflow
      rejectedBatches: 2,
      batches: 1,
    });
  });

  it('counts refused lines by reason', async () => {
    const { broker } = await start({ statsd: { port: 0, maxLineLength: 20 } });
    broker.ingestStatsd(
      `nocolon\na:1|zz\na:1|c|@2\na:abc|c\nthis.line.is.longer.than.twenty:1|c\n9bad:1|c\nk:1|c\nk:1|g`,
    );
    expect(broker.stats()).toMatchObject({
      statsdLines: 8,
      badStatsdLines: 7,
      statsdBadSyntax: 3,
      statsdBadNumbers: 1,
      statsdLinesTooLong: 1,
      badNames: 1, // 9bad breaks the naming rules
      kindConflicts: 1, // k is a counter in this window
      badSeries: 2,
    });
  });
});
