/**
 * Sending a turn's requests before the turn ends.
 *
 * @module
 */
import type { ZkClient } from './client.js';
import { clientWire } from './internal.js';

/**
 * Sends the requests made on `client` in the current turn now, instead of when the turn ends.
 *
 * On the wire transport, requests made in one turn of the event loop leave together, in one
 * socket write, once the turn's synchronous code and microtasks are done. That saves system
 * calls, but a request that others wait for then also waits for everything else the turn does.
 * Recipe code calls this right after such a request when it has more to do before it returns:
 * `LeaderLatch.close()` sends its node's deletion, then ends the term and winds its waits down.
 * A no-op on the native transport and when nothing is waiting to be sent.
 *
 * @example
 * ```ts
 * const deleted = client.delete(nodePath);
 * sendNow(client); // the next in line hears of it sooner
 * stopEverythingElse();
 * await deleted;
 * ```
 */
export function sendNow(client: ZkClient): void {
  clientWire.get(client)?.transport()?.flush();
}
