/**
 * The packed tarball as a user installs it: a memory-only app gets no cassandra-driver, loads every
 * entry with `import` and `require()`, and learns how to install the driver when it needs it. CI runs
 * this file on the lowest supported Node lines (20.19, 22.12) as well as 20 and 24.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryPoints } from '../scripts/entry-points.mjs';
import { diskBytes, installPacked, type PackedApp, root, run } from './helpers/packed.js';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  exports: Record<string, unknown>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
let app: PackedApp;

function node(file: string, source: string): unknown {
  writeFileSync(join(app.dir, file), source);
  return JSON.parse(run(process.execPath, [file], app.dir));
}

describe('package.json', () => {
  it('exports - every subpath has its source, and every src/<dir>/index.ts entry is exported', () => {
    const entries = entryPoints();
    expect(entries.map((e) => e.subpath)).toEqual(expect.arrayContaining(['.', './cassandra', './testing']));
    for (const e of entries) expect(existsSync(join(root, e.source)), e.source).toBe(true);
    // src/<dir>/index.ts files that are package entries (the dashboard's, once it exists).
    for (const dir of ['cassandra', 'testing', 'dashboard']) {
      if (existsSync(join(root, 'src', dir, 'index.ts')))
        expect(Object.keys(pkg.exports)).toContain(`./${dir}`);
    }
  });

  it('cassandra-driver and vitest - optional peers, never dependencies', () => {
    expect(pkg.dependencies['cassandra-driver']).toBeUndefined();
    expect(pkg.peerDependencies['cassandra-driver']).toMatch(/^\^4\./);
    expect(pkg.peerDependenciesMeta['cassandra-driver']?.optional).toBe(true);
    expect(pkg.peerDependenciesMeta.vitest?.optional).toBe(true);
  });

  it('etc/sdk.api.md - the main entry stays a deliberate surface of at most 120 names', () => {
    const report = readFileSync(join(root, 'etc/sdk.api.md'), 'utf8');
    const names =
      report.match(
        /^export (declare )?(abstract )?(class|function|interface|type|const|namespace|enum) /gm,
      ) ?? [];
    expect(names.length).toBeGreaterThan(50);
    // 119 after .changeset/api-trim.md and api-trim-types.md: a new root export is a decision, not a side effect
    expect(names.length).toBeLessThanOrEqual(120);
  });

  it('examples/ - every example (the demo too) imports the package by name, never ../src', () => {
    const files = (readdirSync(join(root, 'examples'), { recursive: true }) as string[]).filter((f) =>
      f.endsWith('.ts'),
    );
    expect(files.length).toBeGreaterThan(5);
    const byPath = files.filter((f) =>
      /from '(\.\.\/)+src\/|import\('(\.\.\/)+src\//.test(readFileSync(join(root, 'examples', f), 'utf8')),
    );
    expect(byPath).toEqual([]);
  });

  it('etc/*.api.md - every exported member of every entry has a doc comment (no ae-undocumented)', () => {
    for (const e of entryPoints()) {
      const report = readFileSync(join(root, 'etc', `${e.report}.api.md`), 'utf8');
      const undocumented = report.match(/^\/\/ .*\(ae-undocumented\).*$/gm) ?? [];
      expect(undocumented, `etc/${e.report}.api.md`).toEqual([]);
    }
  });

  it('engines - the Node lines where require() of ESM works without a flag', () => {
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0');
  });
});

describe('packed package, memory-only app', () => {
  beforeAll(() => {
    app = installPacked('fleetwatch-pack-');
  }, 240_000);

  afterAll(() => {
    if (app) rmSync(app.dir, { recursive: true, force: true });
  });

  it('lists only dist, README, CHANGELOG and LICENSE (plus package.json)', () => {
    const out = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], root);
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    for (const e of entryPoints()) {
      expect(files).toContain(`dist/${e.out}.js`);
      expect(files).toContain(`dist/${e.out}.d.ts`);
    }
    expect(files).toContain('CHANGELOG.md');
    for (const f of files) expect(f).toMatch(/^(dist\/|README\.md$|CHANGELOG\.md$|LICENSE$|package\.json$)/);
  });

  it('installs without cassandra-driver or its own dependencies', () => {
    const installed = readdirSync(join(app.dir, 'node_modules'));
    // `long` comes with protobufjs (OTLP) too, so only the driver and adm-zip tell the driver was pulled in
    for (const name of ['cassandra-driver', 'adm-zip']) expect(installed).not.toContain(name);
    const mb = diskBytes(join(app.dir, 'node_modules')) / 1e6;
    process.stdout.write(`memory-only install: node_modules ${mb.toFixed(1)} MB\n`);
  });

  it('loads with import', () => {
    const out = node(
      'esm.mjs',
      `import * as fw from '@fleetwatch/sdk';
       import * as c from '@fleetwatch/sdk/cassandra';
       const e = new fw.FleetwatchError('E_VALIDATION', 'x', { path: 'p' });
       console.log(JSON.stringify({ code: e.code, path: e.path, isErr: e instanceof Error,
         store: typeof c.CassandraMetricsStore.connect }));`,
    );
    expect(out).toEqual({ code: 'E_VALIDATION', path: 'p', isErr: true, store: 'function' });
  });

  it('loads with require', () => {
    const out = node(
      'cjs.cjs',
      `const fw = require('@fleetwatch/sdk');
       const c = require('@fleetwatch/sdk/cassandra');
       const e = new fw.FleetwatchError('E_AUTH', 'y');
       console.log(JSON.stringify({ code: e.code, codes: fw.ERROR_CODES.includes('E_DEPENDENCY'),
         store: typeof c.CassandraInventoryStore.connect }));`,
    );
    expect(out).toEqual({ code: 'E_AUTH', codes: true, store: 'function' });
  });

  it('CassandraMetricsStore.connect() - rejects with E_DEPENDENCY naming the install command', () => {
    const out = node(
      'dep.mjs',
      `import { CassandraMetricsStore } from '@fleetwatch/sdk/cassandra';
       try {
         await CassandraMetricsStore.connect({ contactPoints: ['127.0.0.1'], localDataCenter: 'dc1', keyspace: 'k' });
         console.log(JSON.stringify({ connected: true }));
       } catch (err) {
         console.log(JSON.stringify({ name: err.name, code: err.code, message: err.message }));
       }`,
    );
    expect(out).toMatchObject({ name: 'FleetwatchError', code: 'E_DEPENDENCY' });
    expect((out as { message: string }).message).toContain('npm install cassandra-driver');
  });

  it('CassandraInventoryStore.connect() - rejects with E_DEPENDENCY from require() too', () => {
    const out = node(
      'dep.cjs',
      `const { CassandraInventoryStore } = require('@fleetwatch/sdk/cassandra');
       CassandraInventoryStore.connect({ contactPoints: ['127.0.0.1'], localDataCenter: 'dc1', keyspace: 'k' })
         .then(() => console.log(JSON.stringify({ connected: true })),
               (err) => console.log(JSON.stringify({ code: err.code, message: err.message })));`,
    );
    expect(out).toMatchObject({ code: 'E_DEPENDENCY' });
    expect((out as { message: string }).message).toContain('npm install cassandra-driver');
  });
});
