import { defineConfig } from 'tsup';
import { entryPoints } from './scripts/entry-points.mjs';

// Entries come from package.json `exports` (scripts/entry-points.mjs); add a subpath there, not here.
export default defineConfig({
  entry: Object.fromEntries(entryPoints().map((e) => [e.out, e.source])),
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
});
