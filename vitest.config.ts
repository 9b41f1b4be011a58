import { configDefaults, defineConfig } from 'vitest/config';

// One ZooKeeper server for the whole run (started by the global setup); each test gets its own
// chroot from the @zkit/testing fixture. The native binding must not be loaded in several worker
// threads of one process, so test files run in forked processes.
export default defineConfig({
  test: {
    pool: 'forks',
    // Two test files at a time: the tests mostly wait on ZooKeeper, so two forks halve the run's
    // wall time on a 2-core machine (vitest's own default ran one file at a time here).
    maxWorkers: 2,
    // Lets memory tests collect garbage before measuring.
    execArgv: ['--expose-gc'],
    globalSetup: ['./packages/testing/dist/vitest-setup.js'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'core', include: ['packages/core/test/**/*.test.ts'] },
      },
      {
        // The same suite on the native transport: every client the tests and @zkit/testing make
        // takes its transport from ZKIT_TRANSPORT when the options name none.
        extends: true,
        test: {
          name: 'core-native',
          include: ['packages/core/test/**/*.test.ts'],
          // Those choose the wire transport themselves.
          exclude: [...configDefaults.exclude, 'packages/core/test/wire-*.test.ts'],
          env: { ZKIT_TRANSPORT: 'native' },
        },
      },
      {
        extends: true,
        test: { name: 'testing', include: ['packages/testing/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'lock', include: ['packages/lock/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'election', include: ['packages/election/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'registry', include: ['packages/registry/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'barrier', include: ['packages/barrier/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'cache', include: ['packages/cache/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'queue', include: ['packages/queue/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'counter', include: ['packages/counter/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'group', include: ['packages/group/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'suites', include: ['test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'examples', include: ['examples/**/*.test.ts'] },
      },
    ],
  },
});
