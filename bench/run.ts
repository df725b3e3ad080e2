/**
 * `npm run bench [name...]`: runs each benchmark file in its own process (so one's heap and JIT state do
 * not colour another's), then gathers every bench/results/*.md into bench/results/README.md.
 * `BENCH_QUICK=1 npm run bench` runs the short variants.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !['lib.ts', 'run.ts'].includes(f))
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; have: ${all.join(', ')}`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : all;
const failed: string[] = [];
for (const name of names) {
  console.log(`\n=== bench/${name}.ts ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(dir, `${name}.ts`)], {
    stdio: 'inherit',
    env: process.env,
  });
  if (r.status !== 0) failed.push(name);
}
const results = join(dir, 'results');
if (existsSync(results)) {
  const parts = readdirSync(results)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .sort()
    .map((f) => readFileSync(join(results, f), 'utf8').trim());
  writeFileSync(join(results, 'README.md'), `# Benchmark results\n\n${parts.join('\n\n')}\n`);
}
if (failed.length > 0) {
  console.error(`\nbenchmarks that failed: ${failed.join(', ')}`);
  process.exit(1);
}
