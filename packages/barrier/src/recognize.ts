/**
 * Telling a double barrier apart from other nodes, for tools that look over a whole tree.
 *
 * @module
 */

const READY = 'ready';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a node with these children looks like a {@link DoubleBarrier} (zkit's, or Apache
 * Curator's `DistributedDoubleBarrier`) in use: at least one member (a child named by a UUID)
 * and nothing but members and the `ready` node. Pure: no request. A plain {@link Barrier} is a
 * node without children, like any empty node, so nothing can recognise it: ask
 * {@link inspectBarrier} about its path. Read a double barrier with {@link inspectBarrier} too.
 *
 * @example
 * ```ts
 * looksLikeDoubleBarrier(['2d054a5d-d4ef-4c78-ab5a-1d570075d1fa', 'ready']); // true
 * looksLikeDoubleBarrier(['config']); // false
 * ```
 * @param children - the names of the node's children
 */
export function looksLikeDoubleBarrier(children: readonly string[]): boolean {
  return (
    children.some((name) => UUID.test(name)) &&
    children.every((name) => name === READY || UUID.test(name))
  );
}
