#!/usr/bin/env node
// Release path, end to end, on a real private registry:
//   1. start verdaccio (devDependency) on 127.0.0.1 with a throwaway config, storage and user;
//   2. publish this package to it with a token kept in a temporary .npmrc (the publish guard runs);
//   3. check that `npm publish --registry https://registry.npmjs.org/` would still target the private registry;
//   4. create a clean app that installs @fleetwatch/sdk from the registry (dependencies from npm as usual);
//   5. run scripts in that app that import it (ESM) and require it (CommonJS) and write and read a metric.
// Exits non-zero on any failure. Leaves nothing behind (--keep, or KEEP=1, keeps the temp dir).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`usage: scripts/registry-roundtrip [--keep]

Publish this package to a throwaway verdaccio on 127.0.0.1 and install it from there (ESM and CommonJS).
  --keep    keep the temporary directory (also KEEP=1)
  --help    show this help`);
  process.exit(0);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'fleetwatch-registry-'));
const step = (msg) => console.log(`registry-roundtrip: ${msg}`);
let verdaccio;

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}-/ping`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`verdaccio did not answer at ${url} within ${ms} ms`);
}

async function main() {
  if (!pkg.publishConfig?.registry) throw new Error('package.json needs publishConfig.registry');
  const port = await freePort();
  const registry = `http://127.0.0.1:${port}/`;
  const storage = join(work, 'storage');
  mkdirSync(storage);
  writeFileSync(
    join(work, 'config.yaml'),
    [
      `storage: ${storage}`,
      'auth:',
      `  htpasswd: { file: ${join(work, 'htpasswd')}, max_users: 10 }`,
      'uplinks:',
      '  npmjs: { url: https://registry.npmjs.org/ }',
      'packages:',
      "  '@fleetwatch/*': { access: $authenticated, publish: $authenticated }",
      "  '**': { access: $all, proxy: npmjs }",
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  step(`starting verdaccio on ${registry}`);
  verdaccio = spawn(
    process.execPath,
    [
      join(root, 'node_modules/verdaccio/bin/verdaccio'),
      '--config',
      join(work, 'config.yaml'),
      '--listen',
      `127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let vlog = '';
  verdaccio.stdout.on('data', (d) => (vlog += d));
  verdaccio.stderr.on('data', (d) => (vlog += d));
  await waitForPing(registry, 30_000).catch((err) => {
    throw new Error(`${err.message}\n${vlog}`);
  });

  // A throwaway user; the registry answers with a token.
  const user = `ci-${randomBytes(4).toString('hex')}`;
  const res = await fetch(`${registry}-/user/org.couchdb.user:${user}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: user, password: randomBytes(12).toString('hex') }),
  });
  const { token } = await res.json();
  if (!res.ok || typeof token !== 'string')
    throw new Error(`creating a registry user failed (${res.status})`);
  const auth = `//127.0.0.1:${port}/:_authToken=${token}\n`;

  // Publisher: token only in a temporary userconfig; the scope pointed at the test registry.
  const publisherRc = join(work, 'publisher.npmrc');
  writeFileSync(publisherRc, auth);
  step('publishing');
  run(
    'npm',
    ['publish', `--@fleetwatch:registry=${registry}`, '--userconfig', publisherRc, '--no-git-checks'],
    { cwd: root, env: { ...process.env, npm_config_loglevel: 'notice' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const meta = await (
    await fetch(`${registry}@fleetwatch%2fsdk`, { headers: { authorization: `Bearer ${token}` } })
  ).json();
  if (!meta.versions?.[pkg.version]) throw new Error(`the registry does not list ${pkg.name}@${pkg.version}`);
  step(`published ${pkg.name}@${pkg.version}`);

  // The project's own settings keep a public --registry from taking the package there.
  const dryRun = spawnSync('npm', ['publish', '--dry-run', '--registry', 'https://registry.npmjs.org/'], {
    cwd: root,
    encoding: 'utf8',
  });
  const dryErr = `${dryRun.stdout}${dryRun.stderr}`;
  const target = /Publishing to (\S+)/.exec(dryErr)?.[1];
  if (!target || target.includes('registry.npmjs.org')) throw new Error(`publish would target ${target}`);
  step(`'npm publish --registry https://registry.npmjs.org/' targets ${target}, not the public registry`);

  // A clean consumer app.
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer-app', private: true, version: '1.0.0' }),
  );
  writeFileSync(join(app, '.npmrc'), `@fleetwatch:registry=${registry}\n${auth}`);
  step('installing @fleetwatch/sdk into a clean app');
  run('npm', ['install', '--no-audit', '--no-fund', `@fleetwatch/sdk@${pkg.version}`], { cwd: app });
  const program = (load) => `${load}
const store = new MemoryMetricsStore();
const ts = Date.now() - 1000;
const r = await store.write([{ metric: 'roundtrip.requests', tags: { via: 'registry' }, ts, value: 42 }]);
const series = await store.query({ metric: 'roundtrip.requests', tags: { via: 'registry' }, from: ts - 1, to: ts + 1, resolution: 'raw' });
await store.close();
const value = series[0]?.points[0]?.value;
if (r.accepted !== 1 || value !== 42) { console.error('unexpected', JSON.stringify(series)); process.exit(1); }
console.log('read back', value);
`;
  writeFileSync(join(app, 'esm.mjs'), program("import { MemoryMetricsStore } from '@fleetwatch/sdk';"));
  writeFileSync(
    join(app, 'cjs.cjs'),
    `(async () => {\n${program("const { MemoryMetricsStore } = require('@fleetwatch/sdk');")}\n})().catch((e) => { console.error(e); process.exit(1); });`,
  );
  step(`ESM import: ${run(process.execPath, ['esm.mjs'], { cwd: app }).trim()}`);
  step(`CommonJS require: ${run(process.execPath, ['cjs.cjs'], { cwd: app }).trim()}`);
  step('passed');
}

try {
  await main();
} catch (err) {
  console.error(`registry-roundtrip: FAILED: ${err.stderr ?? ''}${err.message}`);
  process.exitCode = 1;
} finally {
  verdaccio?.kill();
  if (!args.keep && !process.env.KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
