#!/usr/bin/env node
// prepublishOnly guard: @fleetwatch/sdk is published only to the organisation's private registry.
//
// Three layers keep it off the public registry:
// 1. the project .npmrc maps the @fleetwatch scope to the private registry, and npm publishes a scoped
//    package to its scope's registry even when `--registry https://registry.npmjs.org/` is passed;
// 2. package.json publishConfig.registry names the private registry;
// 3. this script refuses when any registry it can see (npm_config_registry, which npm exports for a
//    non-default --registry or an environment setting, FLEETWATCH_PUBLISH_REGISTRY, publishConfig) is public.
// npm does not export scoped settings (`--@fleetwatch:registry=…`) to scripts; docs/private-registry.md
// says so.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

if (parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } }).values.help) {
  console.log(
    'usage: node scripts/publish-guard.mjs\n\nRuns as prepublishOnly: refuses to publish when any registry npm would use is public.',
  );
  process.exit(0);
}

const PUBLIC_HOSTS = [
  'registry.npmjs.org',
  'registry.npmjs.com',
  'registry.yarnpkg.com',
  'npm.pkg.github.com',
];

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const seen = [
  ['npm_config_registry', process.env.npm_config_registry],
  ['NPM_CONFIG_REGISTRY', process.env.NPM_CONFIG_REGISTRY],
  ['FLEETWATCH_PUBLISH_REGISTRY', process.env.FLEETWATCH_PUBLISH_REGISTRY],
  ['publishConfig.registry', pkg.publishConfig?.registry],
].filter(([, value]) => value);

if (!pkg.publishConfig?.registry) {
  console.error('publish-guard: package.json has no publishConfig.registry; refusing to publish.');
  process.exit(1);
}
for (const [source, value] of seen) {
  let host;
  try {
    host = new URL(value).hostname;
  } catch {
    console.error(`publish-guard: ${source} is not a URL (${JSON.stringify(value)}); refusing.`);
    process.exit(1);
  }
  if (PUBLIC_HOSTS.includes(host)) {
    console.error(
      `publish-guard: refusing to publish ${pkg.name}: ${source} points at the public registry (${value}).\n` +
        `It is published only to the organisation's registry; see docs/private-registry.md.`,
    );
    process.exit(1);
  }
}
console.error(`publish-guard: ok, ${pkg.name}@${pkg.version} goes to a private registry`);
