import { InvalidArgumentError, type ZkClient } from '@zkit/core';
import { Cache } from './cache.js';
import { dataRule, type DataOptions } from './options.js';

/**
 * Options of {@link TreeCache}.
 *
 * @example
 * ```ts
 * const options: TreeCacheOptions = { depth: 2, dataFilter: (path) => !path.includes('/logs') };
 * ```
 */
export interface TreeCacheOptions extends DataOptions {
  /**
   * How many levels below the watched path the cache keeps: `0` the node alone, `1` it and its
   * children, … Nodes deeper than this are never listed nor read. Default: the whole subtree.
   */
  readonly depth?: number | undefined;
}

/**
 * A local view of a subtree (Curator's `CuratorCache` / `TreeCache`): the watched node and every
 * node below it down to `depth`, with their stats and data, kept current by one persistent
 * recursive watch. See {@link Cache} for how it loads, stays current and orders its changes.
 *
 * **Suspended / lost.** While the client is `suspended` the view stays as it was; once
 * connected again the cache reads the subtree again and reports exactly what changed. After a
 * session `lost` and a new one, `reset` comes first. Errors: see {@link Cache.start}.
 *
 * @example
 * ```ts
 * const cache = new TreeCache(client, '/config', { depth: 3 });
 * cache.on('updated', (node) => console.log(node.path, node.data?.toString('utf8')));
 * await cache.start();
 * console.log(cache.get('/config/db/url')?.data?.toString('utf8'));
 * // …
 * await cache.close();
 * ```
 */
export class TreeCache extends Cache {
  /**
   * @throws `InvalidPathError` for a bad path, `InvalidArgumentError` for a bad client or
   * option (before anything is sent)
   */
  constructor(client: ZkClient, path: string, options: TreeCacheOptions = {}) {
    const wantsData = dataRule(options);
    const depth = options.depth ?? Number.POSITIVE_INFINITY;
    if (
      typeof depth !== 'number' ||
      !(depth >= 0) ||
      (Number.isFinite(depth) && !Number.isInteger(depth))
    ) {
      throw new InvalidArgumentError('depth must be a non-negative integer');
    }
    super(client, {
      root: path,
      depth,
      includeRoot: true,
      wantsData,
      recursiveWatch: options.recursiveWatch !== false,
    });
  }
}
