// The package's entry points, read from package.json `exports` (the one list): tsup builds them, typedoc
// documents them and API Extractor reports them. To add an entry (e.g. `./dashboard`), add its line to
// `exports` pointing at `./dist/<dir>/index.js`; its source is `src/<dir>/index.ts`. test/package.test.ts
// checks that every `src/*/index.ts` meant as an entry is listed.
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);

/** @returns {import('./entry-points.d.mts').EntryPoint[]} */
export function entryPoints() {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
  const out = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'object' || target === null) continue; // ./package.json
    const m = /^\.\/dist\/(.+)\.js$/.exec(target.import ?? '');
    if (!m) throw new Error(`package.json exports[${subpath}].import must be ./dist/<name>.js`);
    const out_ = m[1];
    out.push({
      subpath,
      out: out_,
      source: `src/${out_}.ts`,
      types: `dist/${out_}.d.ts`,
      report: subpath === '.' ? 'sdk' : `sdk-${subpath.slice(2).replaceAll('/', '-')}`,
    });
  }
  return out;
}
