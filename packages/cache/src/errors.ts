/**
 * Errors raised by `@zkit/cache`. Invalid input is reported with `@zkit/core`'s own
 * `InvalidPathError` and `InvalidArgumentError`; errors from the server keep their core classes.
 *
 * @module
 */
import { ZkError } from '@zkit/core';

/**
 * The cache was closed (by its `close()`, or because its client was closed) before `start()`
 * could finish, or `start()` was called after `close()`. Code `'CACHE_CLOSED'`.
 *
 * @example
 * ```ts
 * await cache.close();
 * await cache.start(); // rejects with CacheClosedError
 * ```
 */
export class CacheClosedError extends ZkError {
  constructor(path: string) {
    super('CACHE_CLOSED', 0, 'the cache is closed', { path });
  }
}
