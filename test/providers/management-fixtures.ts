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
