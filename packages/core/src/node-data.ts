/**
 * The data a recipe's node carries when its user gives none: the local host's address, as Apache
 * Curator writes by default, so that an operator reading a lock or a barrier sees which machine
 * made each node, whichever library made it.
 *
 * @module
 */
import { networkInterfaces } from 'node:os';

let address: string | undefined;

/**
 * The data zkit's lock, semaphore, barrier and queue-claim nodes carry when the user gives none:
 * the local host's IPv4 address as text (UTF-8), e.g. `10.0.4.17` — what Apache Curator stores
 * by default, so `zkit lock` and Curator's tools can name the machine behind each node. Read
 * once per process: the first non-internal IPv4 address of `os.networkInterfaces()`, else
 * `127.0.0.1` (Curator's default is the text of `InetAddress.getLocalHost().getHostAddress()`,
 * which is the network address on a host whose name resolves to it, else the loopback address).
 *
 * @example
 * ```ts
 * import { defaultNodeData } from '@zkit/core';
 *
 * const data = defaultNodeData(); // '10.0.4.17'
 * ```
 */
export function defaultNodeData(): string {
  if (address !== undefined) return address;
  let found = '127.0.0.1';
  try {
    outer: for (const entries of Object.values(networkInterfaces())) {
      for (const entry of entries ?? []) {
        if (entry.family === 'IPv4' && !entry.internal) {
          found = entry.address;
          break outer;
        }
      }
    }
  } catch {
    // No interfaces to read (a sandbox may forbid it): the loopback address, as Java falls back
    // to when the host name does not resolve.
  }
  address = found;
  return found;
}
