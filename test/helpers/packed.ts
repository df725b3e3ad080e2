/**
 * The packed tarball, installed into a fresh app the way a user installs it (`npm install <tarball>`,
 * production dependencies only). Builds first when dist/ is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The project root. */
export const root = resolve(import.meta.dirname, '../..');

/** Run a command, returning stdout; stderr is kept in the thrown error. */
export function run(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
}

/** A temporary app with the packed package installed. */
export interface PackedApp {
  dir: string;
  tarball: string;
}

/**
 * Pack the project into a new temporary app directory and install it there, with `extra` packages
 * beside it (e.g. `cassandra-driver@4.10.0`).
 */
export function installPacked(prefix: string, extra: string[] = []): PackedApp {
  if (!existsSync(join(root, 'dist/index.js'))) run('npm', ['run', 'build'], root);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], root);
  const tarball = join(dir, (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'pack-app', private: true, type: 'module' }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', tarball, ...extra], dir);
  return { dir, tarball };
}

/** Total size in bytes of the files under `dir` (what an install costs on disk). */
export function diskBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const st = statSync(join(dir, name), { throwIfNoEntry: false });
    if (st?.isFile()) total += st.size;
  }
  return total;
}
