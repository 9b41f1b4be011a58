/** The `inject()` key under which the global setup provides the shared server's connect string. */
export const CONNECT_STRING_KEY = 'zookeeperConnectString';

declare module 'vitest' {
  /** Values provided by `@zkit/testing/vitest-setup`. */
  export interface ProvidedContext {
    /** `host:port[,…]` of the ZooKeeper server shared by the test run (no chroot). */
    zookeeperConnectString: string;
  }
}
