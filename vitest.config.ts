import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Files run one at a time, each in its own process: the Cassandra, moto and demo suites share one
    // local server each (moto is reset by the EC2 suite, and the Cassandra outage test stops the node), and
    // on a 2-core machine running files side by side was no faster (measured: 93 s either way).
    pool: 'forks',
    fileParallelism: false,
    coverage: { provider: 'v8', include: ['src/**'], reporter: ['text-summary', 'html'] },
  },
});
