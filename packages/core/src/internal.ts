/**
 * Shared between core's modules, not exported from the package.
 *
 * @internal
 * @module
 */
import type { AuthInfo } from './options.js';
import type { NodeEventKind, ProtocolTransport } from './transport.js';

/**
 * Each client's credentials, the live list (`addAuth` appends to it), so that the client's
 * extra connection can present the same identity without the credentials becoming public API.
 */
export const clientAuth = new WeakMap<object, readonly AuthInfo[]>();

/**
 * What core's modules reach of a client on the wire transport: requests on its own session, and
 * its node events. The recursive watches, bulk reads and ACL reads of such a client use them
 * instead of an extra connection. Clients on the native transport have no entry.
 */
export interface ClientWire {
  /**
   * One request on the client's transport with the client's retry policy; `full` is `path`
   * with the client's namespace.
   */
  run<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    fn: (transport: ProtocolTransport, full: string) => Promise<T>,
  ): Promise<T>;
  /** The client's transport of the moment: it changes with each new session. */
  transport(): ProtocolTransport | undefined;
  /** Called with every node event of the client's transport (paths with the namespace). */
  tap: ((kind: NodeEventKind, path: string) => void) | undefined;
}

/** The wire access of each client on the wire transport. */
export const clientWire = new WeakMap<object, ClientWire>();

/**
 * Each client's checks of a protected create, run without sending anything: what
 * `createProtected` would throw before its first request (path, name, data size, mode, ACL, the
 * whole frame). Lets code that sends other requests alongside a create refuse bad input first.
 */
export const protectedCreateChecks = new WeakMap<
  object,
  (parentPath: string, name: string, data: unknown, options: object) => void
>();
