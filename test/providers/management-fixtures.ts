/**
 * The recorded provider responses in ../shared/fixtures/providers (or FLEETWATCH_PROVIDER_FIXTURES),
 * for the management suites; a suite that needs them skips loudly, and fails under CI=true.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeWithService } from '../helpers/services.js';

const root =
  process.env.FLEETWATCH_PROVIDER_FIXTURES ??
  resolve(import.meta.dirname, '../../../shared/fixtures/providers');

/** One recorded response body as text. */
export function fixture(provider: string, file: string): string {
  return readFileSync(join(root, provider, file), 'utf8');
}

/** A describe over recorded fixtures: skipped with a notice (failing under CI) when they are absent. */
export function describeWithFixtures(name: string, body: () => void): void {
  describeWithService(
    name,
    existsSync(root)
      ? undefined
      : `provider fixtures not found at ${root} (set FLEETWATCH_PROVIDER_FIXTURES)`,
    body,
  );
}

/**
 * Virtual time for the management suites: `sleep` records the wait and moves `clock` forward by it
 * at once, so polling timeouts are reached without real waiting.
 */
export function virtualTime(start = Date.UTC(2026, 0, 1)): {
  clock: { now: () => number };
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  waits: number[];
} {
  let now = start;
  const waits: number[] = [];
  return {
    clock: { now: () => now },
    waits,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      waits.push(ms);
      now += ms;
    },
  };
}
