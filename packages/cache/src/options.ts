import { InvalidArgumentError } from '@zkit/core';

/**
 * Which data a cache reads and keeps. Nodes whose data is not kept are still in the view, with
 * their stat and `data: undefined`; their data is never read.
 *
 * @example
 * ```ts
 * const options: DataOptions = { dataFilter: (path) => !path.endsWith('/blob') };
 * ```
 */
export interface DataOptions {
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
  const { cacheData, dataFilter } = options;
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
