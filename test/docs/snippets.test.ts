/**
 * Every ```ts block in README.md and docs/*.md compiles, as a user's file, against the packed tarball
 * (installed with cassandra-driver beside it) under strict `nodenext`.
 *
 * A fragment declares what it assumes in an HTML comment right above its fence, which Markdown does
 * not render:
 *
 *     <!-- snippet-context
 *     import { Inventory } from '@fleetwatch/sdk';
 *     declare const inv: Inventory;
 *     -->
 *     ```ts
 *     inv.query('tag:role=web');
 *     ```
 *
 * Each block is its own module (top-level `await` works). docs/writing-a-provider.md explains the
 * convention to contributors.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, type PackedApp, root, run } from '../helpers/packed.js';
import { extractSnippets } from '../helpers/snippets.js';

const guides = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const snippets = guides.flatMap((g) => extractSnippets(g, readFileSync(join(root, g), 'utf8')));
let app: PackedApp;

describe('doc snippets compile against the packed package', () => {
  beforeAll(() => {
    const driver = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies[
      'cassandra-driver'
    ];
    app = installPacked('fleetwatch-docs-', [`cassandra-driver@${driver}`]);
    mkdirSync(join(app.dir, 'snippets'));
    for (const s of snippets) writeFileSync(join(app.dir, 'snippets', s.file), s.code);
    writeFileSync(
      join(app.dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        include: ['snippets/*.ts'],
      }),
    );
  }, 240_000);

  afterAll(() => {
    if (app) rmSync(app.dir, { recursive: true, force: true });
  });

  it('finds the ts blocks of README.md and docs/', () => {
    expect(snippets.length).toBeGreaterThan(20);
  });

  it('tsc --strict - every ts block compiles', () => {
    let output = '';
    try {
      run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app.dir);
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    // snippets/<file>.ts(line,col): error TS…  →  docs/x.md:<fence line + line - context> …
    const errors = output
      .split('\n')
      .filter((l) => /error TS/.test(l))
      .map((l) => {
        const m = /^snippets\/([^()]+)\((\d+),(\d+)\): (.*)$/.exec(l);
        const s = m && snippets.find((x) => x.file === m[1]);
        if (!m || !s) return relative(app.dir, l);
        const line = Number(m[2]) - s.contextLines;
        const [path, fence] = s.where.split(':');
        return line > 0
          ? `${path}:${Number(fence) + line} ${m[4]}`
          : `${s.where} (snippet-context line ${m[2]}) ${m[4]}`;
      });
    expect(errors).toEqual([]);
  }, 120_000);
});
