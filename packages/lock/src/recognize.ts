/**
 * Telling a lock apart from other nodes, for tools that look over a whole tree.
 *
 * @module
 */
import { lineKey, sequenceOf } from '@zkit/core';

/** The kinds of lock {@link looksLikeLock} and {@link detectLockKind} tell apart. */
export type LockKind = 'mutex' | 'readWrite' | 'semaphore';

/** A child named `…<marker><sequence number>`, as every lock's parties are. */
function isLineNode(name: string, marker: string): boolean {
  const key = lineKey(name, marker);
  return key !== name && /^-?\d+$/.test(key) && sequenceOf(name) !== undefined;
}

/**
 * Which lock a node with these children looks like, without a request (zkit's, or Apache
 * Curator's, which share the layouts):
 * - `semaphore` ({@link Semaphore}, `InterProcessSemaphoreV2`): its children are `leases`, or
 *   `leases` and `locks`;
 * - `readWrite` ({@link ReadWriteLock}, `InterProcessReadWriteLock`): a child is `…__READ__` or
 *   `…__WRIT__` followed by the server's sequence number;
 * - `mutex` ({@link Mutex}, `InterProcessMutex`, and so also a `LeaderSelector`, which is built
 *   on one): a child is `…lock-` followed by the sequence number.
 *
 * `null` otherwise: also for a lock nobody holds or waits for, which has no children and looks
 * like any empty node. Unlike {@link detectLockKind}, which is asked about a path known to be a
 * lock, this is meant for any node of a tree. Read what a lock holds with {@link inspectLock},
 * {@link inspectReadWriteLock} or {@link inspectSemaphore}. A semaphore's `locks` child is itself
 * a mutex: a tool that finds the semaphore skips it.
 *
 * @example
 * ```ts
 * looksLikeLock(['_c_0f5b7c1e-9d2a-4b7e-8c1d-3e4f5a6b7c8d-lock-0000000007']); // 'mutex'
 * looksLikeLock(['_c_58ae7098-81db-4b13-9430-5f5381d7ee96-__READ__0000000003']); // 'readWrite'
 * looksLikeLock(['leases', 'locks']); // 'semaphore'
 * looksLikeLock(['config', 'flags']); // null
 * ```
 * @param children - the names of the node's children
 */
export function looksLikeLock(children: readonly string[]): LockKind | null {
  if (children.length === 0) return null;
  // `leases` must be there: a plain `locks` folder of locks is common, and a semaphore in use
  // has leases (its `locks` child alone holds only the queue of those about to take one).
  if (
    children.includes('leases') &&
    children.every((name) => name === 'leases' || name === 'locks')
  ) {
    return 'semaphore';
  }
  if (children.some((name) => isLineNode(name, '__READ__') || isLineNode(name, '__WRIT__'))) {
    return 'readWrite';
  }
  if (children.some((name) => isLineNode(name, 'lock-'))) return 'mutex';
  return null;
}
