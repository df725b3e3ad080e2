/**
 * Check regexes read a bounded prefix of what a target sent: at most `maxMatchChars`, and at most
 * MATCH_WORK_BUDGET / programSize, so a pattern built to defeat RE2's DFA (one new DFA state per
 * character) cannot hold the event loop over a 1 MiB body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileAlarm } from '../../src/checks/alarm.js';
import { httpCheck } from '../../src/checks/http.js';
import {
  compileSafeRegex,
  DEFAULT_MAX_MATCH_CHARS,
  MATCH_WORK_BUDGET,
  MAX_MATCH_CHARS,
  sharedMatchChars,
} from '../../src/checks/safe-regex.js';
import { tcpCheck } from '../../src/checks/tcp.js';
import type { CheckTarget } from '../../src/checks/types.js';
import { PER_INPUT_BOUND_MS, withinTimeBound } from '../helpers/fuzz.js';
import { watchLoop } from '../helpers/loop-stall.js';
import { httpServer, type TestServer } from './servers.js';

const MiB = 1 << 20;
const local: CheckTarget = { key: '127.0.0.1', host: '127.0.0.1', ip: '127.0.0.1', name: 'local' };

/** Random `a`/`b` text: every position starts new DFA states for the patterns below. */
function randomAb(n: number, seed = 1): string {
  let x = seed;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    out[i] = x & 0x10000 ? 'a' : 'b';
  }
  return out.join('');
}

/** The worst patterns found: small and large programs that defeat the DFA cache. */
const WORST = [
  '(a|b)*a(a|b){20}$',
  '(a|b)*a(a|b){100}$',
  '[ab]*a[ab]{999}$',
  '(?:[ab]*a[ab]{999}|[ab]*b[ab]{998}|[ab]*a[ab]{997})$',
  '(?:(?:a|b|ab|ba)*a(?:a|b|ab){999})$',
];

const body = randomAb(MiB);

let http: TestServer;
beforeAll(async () => {
  http = await httpServer({
    '/ab': (_req, res) => res.end(body),
    '/late-ok': (_req, res) => res.end(`${'x'.repeat(5000)}healthy`),
  });
});
afterAll(async () => {
  await http?.close();
});

describe('compileSafeRegex() - the work budget', () => {
  it('each worst pattern over 1 MiB, at the hard cap of maxChars, stays within the time bound', () => {
    for (const p of WORST) {
      const re = compileSafeRegex(p, 'http.bodyRegex');
      expect(re.maxSubjectChars).toBe(Math.floor(MATCH_WORK_BUDGET / re.programSize));
      expect(re.maxSubjectChars).toBeLessThan(MiB);
      // a fresh regex each time: a cold DFA cache, as for a new attacker's text
      withinTimeBound(() => compileSafeRegex(p, 'http.bodyRegex').test(body, MAX_MATCH_CHARS));
    }
  });

  it('reads exactly min(maxChars, maxSubjectChars) characters', () => {
    const re = compileSafeRegex('needle', 'tcp.expect');
    const limit = Math.min(DEFAULT_MAX_MATCH_CHARS, re.maxSubjectChars);
    expect(limit).toBeGreaterThan(10_000);
    const at = (i: number) => `${'x'.repeat(i)}needle`;
    expect(re.test(at(limit - 6))).toBe(true);
    expect(re.test(at(limit - 5))).toBe(false);
    expect(re.test(at(limit - 5), MAX_MATCH_CHARS)).toBe(re.maxSubjectChars > limit);
    expect(re.test(at(100), 105)).toBe(false);
    expect(re.test(at(100), 106)).toBe(true);
    const big = compileSafeRegex('[ab]*a[ab]{999}$', 'alarm');
    const s = randomAb(big.maxSubjectChars + 5000, 7);
    // `$` is the end of the prefix read: the same answer as on that prefix alone
    expect(big.test(s, MAX_MATCH_CHARS)).toBe(big.test(s.slice(0, big.maxSubjectChars), MAX_MATCH_CHARS));
  });

  it('sharedMatchChars splits the budget over the patterns applied to one input', () => {
    const res = WORST.slice(0, 3).map((p) => compileSafeRegex(p, 'http.bodyMatches.x'));
    const total = res.reduce((n, r) => n + r.programSize, 0);
    expect(sharedMatchChars(res, MAX_MATCH_CHARS)).toBe(Math.floor(MATCH_WORK_BUDGET / total));
    expect(sharedMatchChars(res, 10)).toBe(10);
    expect(sharedMatchChars([], 123)).toBe(123);
  });
});

describe('alarm regex / nregex - several DFA-defeating patterns over a 1 MiB metric string', () => {
  it('share one work budget, and one evaluation stays within the time bound', () => {
    const terms = WORST.map((p, i) => `metric['body'] ${i % 2 ? 'nregex' : 'regex'} '${p}'`);
    const alarm = compileAlarm(`if (${terms.join(' || ')}) return CRITICAL; return OK`);
    alarm.evaluate({ metrics: { body: 'ab' } }); // warm up the JIT
    const out = withinTimeBound(() => alarm.evaluate({ metrics: { body } }));
    // nregex on a pattern that cannot see the end of a 1 MiB text is true
    expect(out.state).toBe('CRITICAL');
  });
});

describe('http check - a DFA-defeating pattern over a 1 MiB body', () => {
  const run = (extra: Record<string, unknown>, path = '/ab') =>
    httpCheck.run(
      httpCheck.normalize(
        { url: `http://127.0.0.1:${http.port}${path}`, maxBodyBytes: MiB, ...extra },
        'http',
      ),
      local,
      { timeoutMs: 20_000 },
    );

  it('bodyRegex and bodyMatches together, at maxMatchChars = 1 Mi, stay within the time bound', async () => {
    const config = {
      maxMatchChars: MAX_MATCH_CHARS,
      bodyRegex: WORST[0],
      bodyMatches: { big: WORST[2], bigger: WORST[4] },
    };
    await run(config); // warm up the JIT, as withinTimeBound's retries would
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3 && least >= PER_INPUT_BOUND_MS; i++) {
      const { value: out, stallMs: stall } = await watchLoop(() => run(config));
      expect(out.metrics).toMatchObject({ bytes: MiB, truncated: false });
      expect(typeof out.metrics.body_match).toBe('boolean');
      least = Math.min(least, stall);
    }
    expect(least).toBeLessThan(PER_INPUT_BOUND_MS);
  });

  it('a match past maxMatchChars is not seen, and body_match_truncated says the body was cut', async () => {
    const cut = await run({ bodyRegex: 'healthy', maxMatchChars: 4000 }, '/late-ok');
    expect(cut.metrics).toMatchObject({ body_match: false, body_match_truncated: true });
    const whole = await run({ bodyRegex: 'healthy' }, '/late-ok');
    expect(whole.metrics).toMatchObject({ body_match: true, body_match_truncated: false });
  });

  it('maxMatchChars is validated: 1 .. 1 Mi, naming the field', () => {
    expect(() => httpCheck.normalize({ maxMatchChars: MiB + 1 }, 'http')).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'http.maxMatchChars' }),
    );
    expect(() => tcpCheck.normalize({ port: 1, maxMatchChars: 0 }, 'tcp')).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'tcp.maxMatchChars' }),
    );
    expect(httpCheck.normalize({}, 'http').maxMatchChars).toBe(65_536);
  });
});
