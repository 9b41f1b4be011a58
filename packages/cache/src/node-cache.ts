import type { ZkClient } from '@zkit/core';
import { Cache, type CachedNode } from './cache.js';
import { dataRule, type WatchOptions } from './options.js';

/**
 * Options of {@link NodeCache}.
 *
 * @example
 * ```ts
 * const options: NodeCacheOptions = { cacheData: false }; // stat only
 * ```
 */
export interface NodeCacheOptions extends WatchOptions {
  /** Whether the cache reads and keeps the node's data. Default `true`. */
  readonly cacheData?: boolean | undefined;
}

/**
 * A local view of one node's data and stat (Curator's `NodeCache`), kept current by one
 * persistent recursive watch (its children's events are ignored, and they are never listed nor
 * read). The node may be absent: `added` when it is created, `removed` when it is deleted. See
 * {@link Cache} for how it loads, stays current and orders its changes.
 *
 * **Suspended / lost.** While the client is `suspended` the view stays as it was; once
 * connected again the cache reads the node again and reports a change only if there was one.
 * After a session `lost` and a new one, `reset` comes first. Errors: see {@link Cache.start}.
 *
 * @example
 * ```ts
 * const flag = new NodeCache(client, '/config/feature-x');
 * flag.on('updated', (node) => console.log('now', node.data?.toString('utf8')));
 * await flag.start();
 * console.log(flag.current?.data?.toString('utf8'));
 * ```
 */
export class NodeCache extends Cache {
  /**
   * @throws `InvalidPathError` for a bad path, `InvalidArgumentError` for a bad client or
   * option (before anything is sent)
   */
  constructor(client: ZkClient, path: string, options: NodeCacheOptions = {}) {
    const wantsData = dataRule(options);
    super(client, {
      root: path,
      depth: 0,
      includeRoot: true,
      wantsData,
      recursiveWatch: options.recursiveWatch !== false,
    });
  }

  /** The node as last read, or `undefined` while it does not exist (or before the first load). */
  get current(): CachedNode | undefined {
    return this.get(this.path);
  }
}
