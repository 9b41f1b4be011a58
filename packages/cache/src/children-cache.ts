import type { ZkClient } from '@zkit/core';
import { Cache } from './cache.js';
import { dataRule, type DataOptions } from './options.js';

/**
 * A local view of a node's children with their stats and data (Curator's `PathChildrenCache`),
 * kept current by one persistent recursive watch. The watched node itself is not part of the
 * view and its data is never read; grandchildren are never listed nor read. The watched node may
 * be absent: the view is then empty until it is created. See {@link Cache} for how it loads,
 * stays current and orders its changes.
 *
 * **Suspended / lost.** While the client is `suspended` the view stays as it was; once
 * connected again the cache lists and reads the children again and reports exactly what
 * changed. After a session `lost` and a new one, `reset` comes first. Errors: see
 * {@link Cache.start}.
 *
 * @example
 * ```ts
 * const workers = new ChildrenCache(client, '/workers');
 * workers.on('added', (node) => console.log('joined', node.path));
 * workers.on('removed', (previous) => console.log('left', previous.path));
 * await workers.start();
 * console.log(workers.children().map((n) => n.path));
 * ```
 */
export class ChildrenCache extends Cache {
  /**
   * @throws `InvalidPathError` for a bad path, `InvalidArgumentError` for a bad client or
   * option (before anything is sent)
   */
  constructor(client: ZkClient, path: string, options: DataOptions = {}) {
    const wantsData = dataRule(options);
    super(client, {
      root: path,
      depth: 1,
      includeRoot: false,
      wantsData,
      recursiveWatch: options.recursiveWatch !== false,
    });
  }
}
