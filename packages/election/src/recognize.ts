/**
 * Telling an election apart from other nodes, for tools that look over a whole tree.
 *
 * @module
 */
import { lineKey, sequenceOf } from '@zkit/core';

const LATCH_NAME = 'latch-';

/**
 * Whether a node with these children looks like a {@link LeaderLatch} election (zkit's, or
 * Apache Curator's `LeaderLatch`): at least one child is a latch node, `…latch-` followed by
 * nothing but the server's sequence number. Pure: no request. A `LeaderSelector` is a mutex
 * (`looksLikeLock` from `@zkit/lock` says so); an election without participants has no
 * children and looks like any empty node: `false`. Read it with {@link inspectElection}.
 *
 * @example
 * ```ts
 * looksLikeLatch(['_c_58ae7098-81db-4b13-9430-5f5381d7ee96-latch-0000000000']); // true
 * looksLikeLatch(['config']); // false
 * ```
 * @param children - the names of the node's children
 */
export function looksLikeLatch(children: readonly string[]): boolean {
  return children.some((name) => {
    const key = lineKey(name, LATCH_NAME);
    return key !== name && /^-?\d+$/.test(key) && sequenceOf(name) !== undefined;
  });
}
