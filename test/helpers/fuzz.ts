/**
 * Shared settings of the fuzzing properties (fast-check). Every property in a `*.fuzz.test.ts` file
 * takes its run count from {@link fuzzRuns} and checks each input against a time bound with
 * {@link withinTimeBound}, so `npm test` runs a quick pass and `npm run fuzz` a long one:
 *
 *   FLEETWATCH_FUZZ_RUNS=200000 npx vitest run --testTimeout=0 test/**\/*.fuzz.test.ts
 *
 * A failure prints fast-check's seed and path; `FLEETWATCH_FUZZ_SEED` replays it.
 */
import fc, { type Parameters as FcParameters } from 'fast-check';
import { expect } from 'vitest';

/** Runs per property: `FLEETWATCH_FUZZ_RUNS`, else `quick` (the `npm test` pass). */
export function fuzzRuns(quick = 300): number {
  const env = Number(process.env.FLEETWATCH_FUZZ_RUNS);
  return Number.isInteger(env) && env > 0 ? env : quick;
}

/** fast-check parameters for one property: run count, and the replay seed when one is given. */
export function fuzzParams<T>(quick = 300): FcParameters<T> {
  const seed = Number(process.env.FLEETWATCH_FUZZ_SEED);
  return Number.isInteger(seed) ? { numRuns: fuzzRuns(quick), seed } : { numRuns: fuzzRuns(quick) };
}

/**
 * The most one input may hold the event loop in a test. The promise of docs/security.md is 50 ms; the
 * machines that run the suite are shared and noisy, so tests allow 4× that (`FLEETWATCH_TIME_BOUND_MS`
 * overrides). What this catches is the class of bug: a backtracking or quadratic path takes seconds.
 */
export const PER_INPUT_BOUND_MS = Number(process.env.FLEETWATCH_TIME_BOUND_MS) || 200;

/**
 * Runs `fn` on one input and asserts it returned within `boundMs` of wall time. Synchronous work is
 * what blocks the event loop, so the bound is measured around the call itself. A run over the bound
 * is tried twice more and the least time counts: a GC pause or a busy neighbour on a shared machine
 * slows one run, a super-linear path slows every run. `fn` must be repeatable (parsers, matchers).
 */
export function withinTimeBound<R>(fn: () => R, boundMs = PER_INPUT_BOUND_MS): R {
  let best = Number.POSITIVE_INFINITY;
  let out: R | undefined;
  for (let attempt = 0; attempt < 3 && best >= boundMs; attempt++) {
    const t0 = performance.now();
    out = fn();
    best = Math.min(best, performance.now() - t0);
  }
  expect(best, `one input took ${best.toFixed(1)} ms at best of 3 (bound ${boundMs} ms)`).toBeLessThan(
    boundMs,
  );
  return out as R;
}

/**
 * Long inputs: 1 to `maxWords` of `words` joined by spaces, that piece repeated 1 to `maxRepeat`
 * times and cut at `maxLength` characters (to run past a length limit).
 */
export function repeatedPiece(
  words: readonly string[],
  { maxWords, maxRepeat, maxLength }: { maxWords: number; maxRepeat: number; maxLength: number },
): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: maxWords }),
      fc.integer({ min: 1, max: maxRepeat }),
    )
    .map(([a, n]) => a.join(' ').repeat(n).slice(0, maxLength));
}
