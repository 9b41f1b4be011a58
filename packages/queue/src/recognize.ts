/**
 * Telling a queue apart from other nodes, for tools that look over a whole tree.
 *
 * @module
 */
import { sequenceOf } from '@zkit/core';
import { ITEM_PREFIX } from './layout.js';

/**
 * Whether a node with these children looks like a {@link Queue} (or a `DelayQueue`, an
 * `IdQueue`, Apache Curator's `DistributedQueue` and its variants): at least one child is an item
 * node, `queue-…` ending with the server's sequence number. Pure: no request. An empty queue has
 * no children and looks like any empty node: `false`. A queue's claims node (`lockPath`) holds
 * claims named after the items, so it looks like a queue too: {@link inspectQueue} names it
 * (`lockPath`) so a tool can tell them apart.
 *
 * @example
 * ```ts
 * looksLikeQueue(['queue-0000000012', 'queue-0000000013']); // true
 * looksLikeQueue(['config']); // false
 * ```
 * @param children - the names of the node's children
 */
export function looksLikeQueue(children: readonly string[]): boolean {
  return children.some((name) => name.startsWith(ITEM_PREFIX) && sequenceOf(name) !== undefined);
}
