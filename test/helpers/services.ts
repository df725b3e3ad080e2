/**
 * How a suite that needs an outside service (Cassandra, moto, a registry) behaves when the service is
 * missing: locally it is skipped with a loud notice saying why; under `CI=true` it fails.
 */
import { describe, it } from 'vitest';

/** True under CI, where a missing service is a failure rather than a skip. */
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * `describe` when `reason` is undefined (the service is there); otherwise a skipped describe with a
 * notice on stderr, or — under CI — a describe whose one test fails with the reason.
 */
export function describeWithService(name: string, reason: string | undefined, body: () => void): void {
  if (reason === undefined) {
    describe(name, body);
    return;
  }
  if (inCI) {
    describe(name, () => {
      it(`needs its service: ${reason}`, () => {
        throw new Error(`${name}: required service missing under CI=true: ${reason}`);
      });
    });
    return;
  }
  process.stderr.write(`\n!!! SKIPPING "${name}": ${reason}\n!!! (under CI=true this fails)\n\n`);
  describe.skip(name, body);
}

/** The moto EC2 emulator the suites use (`scripts/moto start`). */
export const MOTO_URL = process.env.FLEETWATCH_MOTO_URL ?? 'http://127.0.0.1:5055';

/** Undefined when moto answers at {@link MOTO_URL}, else why not. */
export async function probeMoto(): Promise<string | undefined> {
  try {
    const res = await fetch(`${MOTO_URL}/moto-api/`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? undefined : `moto at ${MOTO_URL} answered HTTP ${res.status}`;
  } catch {
    return `moto is not running at ${MOTO_URL} (start it with scripts/moto start)`;
  }
}
