/**
 * The packed tarball installs into a clean app and loads both as ESM `import` and CommonJS `require`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
let app: string;
let tarball: string;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('packed package', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/index.js'))) run('npm', ['run', 'build'], root);
    app = mkdtempSync(join(tmpdir(), 'fleetwatch-pack-'));
    const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', app], root);
    tarball = join(app, (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-app', private: true }));
    run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', tarball], app);
  }, 180_000);

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('lists only dist, README, CHANGELOG and LICENSE (plus package.json)', () => {
    const out = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], root);
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/cassandra/index.js');
    for (const f of files) expect(f).toMatch(/^(dist\/|README\.md$|CHANGELOG\.md$|LICENSE$|package\.json$)/);
  });

  it('loads with import', () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import * as fw from '@fleetwatch/sdk';
       import * as c from '@fleetwatch/sdk/cassandra';
       const e = new fw.FleetwatchError('E_VALIDATION', 'x', { path: 'p' });
       console.log(JSON.stringify({ code: e.code, path: e.path, isErr: e instanceof Error, c: typeof c }));`,
    );
    const out = JSON.parse(run(process.execPath, ['esm.mjs'], app));
    expect(out).toEqual({ code: 'E_VALIDATION', path: 'p', isErr: true, c: 'object' });
  });

  it('loads with require on Node >= 20.19', () => {
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const fw = require('@fleetwatch/sdk');
       const e = new fw.FleetwatchError('E_AUTH', 'y');
       console.log(JSON.stringify({ code: e.code, codes: fw.ERROR_CODES.length > 5 }));`,
    );
    const out = JSON.parse(run(process.execPath, ['cjs.cjs'], app));
    expect(out).toEqual({ code: 'E_AUTH', codes: true });
  });
});
