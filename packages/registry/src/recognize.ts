/**
 * Telling a service instance apart from other nodes, for tools that look over a whole tree.
 *
 * @module
 */
import { parse } from './instance.js';

/**
 * Whether a node named `name` holding `data` looks like a registered service instance
 * (`basePath/<service>/<id>`, as {@link ServiceRegistry} and Apache Curator's service discovery
 * write it): its data is a JSON object with a `name` and an `id` equal to the node's name, which
 * is what {@link ServiceRegistry} queries accept. Pure: no request. The node's grandparent is then
 * the registry's `basePath`: read it with a {@link ServiceRegistry} on that base.
 *
 * @example
 * ```ts
 * const data = Buffer.from('{"name":"api","id":"api-1","address":"10.0.0.5","port":8080}');
 * looksLikeServiceInstance('api-1', data); // true
 * looksLikeServiceInstance('config', Buffer.from('mode=fast')); // false
 * ```
 * @param name - the node's name
 * @param data - the node's data
 */
export function looksLikeServiceInstance(name: string, data: Buffer): boolean {
  // A quick look first: most nodes of a tree are not JSON objects at all.
  if (data.length === 0 || data[0] !== 0x7b) return false;
  try {
    parse(data, name, name);
    return true;
  } catch {
    return false;
  }
}
