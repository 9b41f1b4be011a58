/**
 * A vitest fixture that gives each test its own corner of a shared ZooKeeper server.
 *
 * ```ts
 * import { expect } from 'vitest';
 * import { test } from '@zkit/testing/vitest';
 *
 * test('registry - an instance disappears with its session', async ({ zk }) => {
 *   const client = await zk.client({ sessionTimeout: 4000 });
 *   await client.create('/instance', 'x', { mode: 'ephemeral' });
 *   expect(await client.exists('/instance')).not.toBeNull();
 * });
 * ```
 *
 * Needs the global setup `@zkit/testing/vitest-setup` (or `ZOOKEEPER_CONNECT`) and
 * `pool: 'forks'`: the native ZooKeeper binding must not be loaded by several worker threads.
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
import { randomUUID } from 'node:crypto';
import { ZkClient, type ZkClientOptions } from '@zkit/core';
import { inject, test as base } from 'vitest';
import { FaultProxy } from './fault-proxy.js';
import { externalConnectString } from './locate.js';
import { CONNECT_STRING_KEY } from './vitest-context.js';

// Re-exported so the declaration file pulls in the `ProvidedContext` augmentation.
export { CONNECT_STRING_KEY };

/** Parent of every per-test chroot. */
export const CHROOT_PARENT = '/zkit-test';

/** What the `zk` fixture gives a test. */
export interface ZooKeeperFixture {
  /**
   * The shared server plus this test's chroot, e.g. `127.0.0.1:2181/zkit-test/<uuid>`. The chroot
   * node exists before the test starts and is deleted with everything under it afterwards.
   */
  readonly connectString: string;
  /** The shared server without a chroot (`host:port`). */
  readonly serverConnectString: string;
  /** This test's chroot path on the server, e.g. `/zkit-test/<uuid>`. */
  readonly chroot: string;
  /**
   * A started client on this test's chroot, closed automatically when the test ends.
   *
   * @param options client options; `connectString` (default: this test's) may point the client
   *   elsewhere, e.g. at a `proxy()`.
   */
  client(options?: ZkClientOptions & { connectString?: string }): Promise<ZkClient>;
  /**
   * A `FaultProxy` in front of the shared server; its `connectString` carries this test's chroot.
   * Closed automatically when the test ends.
   */
  proxy(): Promise<FaultProxy>;
}

/** The shared server's connect string, from the global setup or `ZOOKEEPER_CONNECT`. */
function sharedServer(): string {
  let provided: string | undefined;
  try {
    provided = inject(CONNECT_STRING_KEY);
  } catch {
    provided = undefined;
  }
  const connectString = provided ?? externalConnectString();
  if (connectString === undefined || connectString === '') {
    throw new Error(
      "No ZooKeeper server for the 'zk' fixture: add '@zkit/testing/vitest-setup' to " +
        "vitest's globalSetup, or set ZOOKEEPER_CONNECT=host:port.",
    );
  }
  return connectString;
}

/**
 * vitest's `test`, extended with the `zk` fixture ({@link ZooKeeperFixture}). Use it in place
 * of `test`/`it`; tests that do not destructure `zk` pay nothing.
 */
export const test = base.extend<{ zk: ZooKeeperFixture }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads fixture dependencies from this pattern
  zk: async ({}, use) => {
    const serverConnectString = sharedServer();
    const chroot = `${CHROOT_PARENT}/${randomUUID()}`;
    const connectString = serverConnectString + chroot;
    const admin = new ZkClient(serverConnectString, { sessionTimeout: 10_000 });
    const clients: ZkClient[] = [];
    const proxies: FaultProxy[] = [];
    try {
      await admin.start();
      await admin.ensurePath(chroot);
      await use({
        connectString,
        serverConnectString,
        chroot,
        async client(options = {}) {
          const { connectString: target = connectString, ...clientOptions } = options;
          const client = new ZkClient(target, clientOptions);
          clients.push(client);
          await client.start();
          return client;
        },
        async proxy() {
          const proxy = await FaultProxy.start(connectString);
          proxies.push(proxy);
          return proxy;
        },
      });
    } finally {
      // Heal first so clients behind a partition can still say goodbye (a close that gets no
      // answer blocks the native client for 1.5 s); clients next, so their sessions and
      // ephemeral nodes are gone before the chroot is deleted.
      for (const proxy of proxies) proxy.heal();
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all(proxies.map((proxy) => proxy.close()));
      try {
        await admin.deleteRecursive(chroot);
      } finally {
        await admin.close();
      }
    }
  },
});
