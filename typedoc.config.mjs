// typedoc: the API reference for every entry point in package.json `exports` (the same list tsup builds
// and API Extractor reports, see scripts/entry-points.mjs), with the guides in docs/ as project documents.
// Warnings are errors.
import { entryPoints } from './scripts/entry-points.mjs';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  entryPoints: entryPoints().map((e) => e.source),
  out: 'docs/api',
  treatWarningsAsErrors: true,
  excludePrivate: true,
  excludeInternal: true,
  readme: 'README.md',
  projectDocuments: ['docs/*.md'],
  disableSources: true,
  excludeExternals: true,
  // typedoc's default languages plus those the guides use
  highlightLanguages: [
    'bash',
    'console',
    'css',
    'html',
    'ini',
    'javascript',
    'json',
    'md',
    'sh',
    'ts',
    'tsx',
    'typescript',
    'yaml',
  ],
  // Types the API reaches but does not export (stats and return shapes) are documented under
  // "<internal>" instead of becoming names users can import (etc/*.api.md lists them too).
  plugin: ['typedoc-plugin-missing-exports'],
  placeInternalsInOwningModule: true,
};
