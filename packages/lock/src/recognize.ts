/**
 * Telling a lock apart from other nodes, for tools that look over a whole tree.
 *
 * @module
 */
import { lineKey, sequenceOf } from '@zkit/core';

const LOCK_NAME = 'lock-';

/**
 * Whether a node with these children looks like a {@link Mutex} (zkit's, or Apache Curator's
 * `InterProcessMutex`, and so also a `LeaderSelector`, which is built on one): at least one child
 * is a lock node, `…lock-` followed by nothing but the server's sequence number. Pure: no
 * request. A lock nobody holds has no children and looks like any empty node: `false`.
 * Read what it holds with {@link inspectLock}.
 *
 * @example
 * ```ts
 * looksLikeMutex(['_c_0f5b7c1e-9d2a-4b7e-8c1d-3e4f5a6b7c8d-lock-0000000007']); // true
 * looksLikeMutex(['config', 'flags']); // false
 * ```
 * @param children - the names of the node's children
 */
export function looksLikeMutex(children: readonly string[]): boolean {
  return children.some((name) => {
    const key = lineKey(name, LOCK_NAME);
    return key !== name && /^-?\d+$/.test(key) && sequenceOf(name) !== undefined;
  });
}
