#!/usr/bin/env node
// The public API report: API Extractor reads each entry point's bundled declarations (dist/*.d.ts, from
// `npm run build`) and writes etc/<report>.api.md. Entry points come from package.json `exports`
// (scripts/entry-points.mjs).
//
//   node scripts/api-report.mjs          check: fails when the surface differs from the committed report (CI)
//   node scripts/api-report.mjs --local  update the committed reports (`npm run api` builds, then runs this)
//
// Every exported name is a semver promise. A type reachable from the API but not exported by that entry
// (`ae-forgotten-export`: a return or stats type, or a main-entry type that ./cassandra uses) is written into
// the report as a warning, so it is visible in review, without becoming a name users can import.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { entryPoints } from './entry-points.mjs';

const USAGE = `usage: node scripts/api-report.mjs [--local]

Compare each entry point's public API (dist/*.d.ts; run npm run build first) with etc/<name>.api.md.
  --local   update the reports instead of failing when they differ (npm run api)
  --help    show this help`;

const { values: args } = parseArgs({
  options: {
    local: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const local = args.local;
let failed = false;

mkdirSync(join(root, 'etc'), { recursive: true });
for (const entry of entryPoints()) {
  const dts = join(root, entry.types);
  if (!existsSync(dts)) {
    console.error(`api-report: ${entry.types} is missing; run npm run build first`);
    process.exit(1);
  }
  const config = ExtractorConfig.prepare({
    configObjectFullPath: join(root, 'etc', `${entry.report}.api-extractor.json`),
    packageJsonFullPath: join(root, 'package.json'),
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: dts,
      bundledPackages: [],
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            lib: ['ES2023'],
            types: ['node'],
            strict: true,
            skipLibCheck: true,
          },
          files: [dts],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: `${entry.report}.api.md`,
        reportFolder: join(root, 'etc'),
        reportTempFolder: join(root, 'node_modules/.cache/api-extractor'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: 'error' } },
        extractorMessageReporting: {
          default: { logLevel: 'none', addToApiReportFile: true },
          'ae-missing-release-tag': { logLevel: 'none', addToApiReportFile: false },
          'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
        },
        tsdocMessageReporting: { default: { logLevel: 'none', addToApiReportFile: false } },
      },
    },
  });
  const result = Extractor.invoke(config, { localBuild: local, showVerboseMessages: false });
  const where = `etc/${entry.report}.api.md (${entry.subpath})`;
  if (!result.succeeded) {
    failed = true;
    console.error(
      `api-report: ${where}: ${result.errorCount} error(s), ${result.warningCount} warning(s)` +
        (result.apiReportChanged && !local
          ? '. The public API changed: run `npm run api` and commit the report with the change.'
          : ''),
    );
  } else {
    console.log(`api-report: ${where} ${local && result.apiReportChanged ? 'updated' : 'up to date'}`);
  }
}
process.exit(failed ? 1 : 0);
