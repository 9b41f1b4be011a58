/**
 * `@zkit/cache` — local views of ZooKeeper nodes kept current by watches: {@link NodeCache},
 * {@link ChildrenCache} and {@link TreeCache}, with typed diffs.
 *
 * @packageDocumentation
 */
export { Cache } from './cache.js';
export type { CacheChange, CacheEvents, CacheState, CachedNode } from './cache.js';
export { NodeCache } from './node-cache.js';
export type { NodeCacheOptions } from './node-cache.js';
export { ChildrenCache } from './children-cache.js';
export { TreeCache } from './tree-cache.js';
export type { TreeCacheOptions } from './tree-cache.js';
export type { DataOptions, WatchOptions } from './options.js';
export { CacheClosedError } from './errors.js';
