import { InvalidArgumentError } from '@zkit/core';

/**
 * How a cache watches the tree.
 *
 * @example
 * ```ts
 * const options: WatchOptions = { recursiveWatch: false }; // one-shot watches only
 * ```
 */
export interface WatchOptions {
  /**
   * Watch with one persistent recursive watch (ZooKeeper 3.6+), `true` by default; a server
   * that refuses it makes the cache use one-shot watches anyway. With `false`, one-shot watches:
   * a data watch on every node and a child watch on every node above the depth limit, set again
   * after each event — more requests, and what the server still holds after `close()` is
   * dropped only as each watch fires or the session ends.
   */
  readonly recursiveWatch?: boolean | undefined;
}

/**
 * Which data a cache reads and keeps. Nodes whose data is not kept are still in the view, with
 * their stat and `data: undefined`; their data is never read.
 *
 * @example
 * ```ts
 * const options: DataOptions = { dataFilter: (path) => !path.endsWith('/blob') };
 * ```
 */
export interface DataOptions extends WatchOptions {
  /** Whether the cache reads and keeps node data at all. Default `true`. */
  readonly cacheData?: boolean | undefined;
  /**
   * Called with a node's path: `true` to read and keep its data, `false` to keep its stat only
   * (its data is then never read). Default: every node's data (within `cacheData`).
   */
  readonly dataFilter?: ((path: string) => boolean) | undefined;
}

/** The data rule of `options`, checked before anything is sent. @internal */
export function dataRule(options: DataOptions): (path: string) => boolean {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options must be an object');
  }
  const { cacheData, dataFilter, recursiveWatch } = options;
  if (recursiveWatch !== undefined && typeof recursiveWatch !== 'boolean') {
    throw new InvalidArgumentError('recursiveWatch must be a boolean');
  }
  if (cacheData !== undefined && typeof cacheData !== 'boolean') {
    throw new InvalidArgumentError('cacheData must be a boolean');
  }
  if (dataFilter !== undefined && typeof dataFilter !== 'function') {
    throw new InvalidArgumentError('dataFilter must be a function');
  }
  if (cacheData === false) return () => false;
  if (dataFilter === undefined) return () => true;
  return (path) => dataFilter(path) === true;
}
