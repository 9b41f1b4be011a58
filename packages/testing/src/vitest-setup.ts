/**
 * A vitest `globalSetup` module: one ZooKeeper server for the whole test run.
 *
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({
 *   test: { pool: 'forks', globalSetup: ['@zkit/testing/vitest-setup'] },
 * });
 * ```
 *
 * It starts a server (or, when `ZOOKEEPER_CONNECT` is set, uses that one and starts nothing),
 * provides its connect string to the tests (`inject('zookeeperConnectString')`, used by the
 * `test` fixture of `@zkit/testing/vitest`), and stops it when the run ends. To tune the
 * server, make your own setup file: `export default createGlobalSetup({ tickTime: 200 })`.
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
import type { TestProject } from 'vitest/node';
import { externalConnectString } from './locate.js';
import { CONNECT_STRING_KEY } from './vitest-context.js';

// Re-exported so the declaration file pulls in the `ProvidedContext` augmentation.
export { CONNECT_STRING_KEY };
import { ZooKeeperServer, type ZooKeeperServerOptions } from './zookeeper-server.js';

/** A vitest global setup function: sets up, and returns its teardown. */
export type GlobalSetup = (project: TestProject) => Promise<() => Promise<void>>;

interface Shared {
  users: number;
  server: Promise<ZooKeeperServer> | undefined;
}

// Vitest runs a root-level globalSetup once per project, each time through a fresh module
// instance, so the shared server is kept on globalThis (one per vitest process) and
// reference-counted: the first project starts it, the last teardown stops it.
const SHARED = Symbol.for('@zkit/testing/vitest-setup');

function shared(): Shared {
  const holder = globalThis as { [SHARED]?: Shared };
  holder[SHARED] ??= { users: 0, server: undefined };
  return holder[SHARED];
}

/**
 * Makes a global setup that starts one server with `options` (ignored when `ZOOKEEPER_CONNECT`
 * is set) and provides its connect string.
 */
export function createGlobalSetup(options: ZooKeeperServerOptions = {}): GlobalSetup {
  return async (project) => {
    const external = externalConnectString();
    if (external !== undefined) {
      project.provide(CONNECT_STRING_KEY, external);
      return async () => undefined;
    }
    const state = shared();
    state.users += 1;
    state.server ??= ZooKeeperServer.start(options);
    let server: ZooKeeperServer;
    try {
      server = await state.server;
    } catch (error) {
      state.users -= 1;
      if (state.users === 0) state.server = undefined;
      throw error;
    }
    project.provide(CONNECT_STRING_KEY, server.connectString);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      state.users -= 1;
      if (state.users > 0) return;
      state.server = undefined;
      await server.stop();
    };
  };
}

/** The default global setup: one server with the test defaults. */
const setup: GlobalSetup = createGlobalSetup();
export default setup;
