import { cp, mkdir } from 'node:fs/promises';
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
  // the dashboard page ships beside dist/dashboard/index.js, with uPlot vendored from node_modules
  async onSuccess() {
    await cp('src/dashboard/assets', 'dist/dashboard/assets', { recursive: true });
    await mkdir('dist/dashboard/assets/vendor', { recursive: true });
    await cp('node_modules/uplot/dist/uPlot.iife.min.js', 'dist/dashboard/assets/vendor/uPlot.iife.min.js');
    await cp('node_modules/uplot/dist/uPlot.min.css', 'dist/dashboard/assets/vendor/uPlot.min.css');
    await cp('node_modules/uplot/LICENSE', 'dist/dashboard/assets/vendor/uPlot.LICENSE');
  },
});
