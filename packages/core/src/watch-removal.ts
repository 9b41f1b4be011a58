/**
 * Removing watches: on the server (ZooKeeper 3.5+'s `removeWatches`), or on our side only.
 *
 * @internal
 * @module
 */
import { InvalidArgumentError, NoWatcherError, UnimplementedError } from './errors.js';
import type { ProtocolTransport, Transport, WatchKind } from './transport.js';
import type { WatchRegistry, WatchType } from './watches.js';

/** Options of {@link ZkClient.removeWatches}. */
export interface RemoveWatchesOptions {
  /**
   * Remove our side only, without a request, so that it works while disconnected: the callers
   * waiting on those watches are released, and the watches are not set again on the server
   * after a reconnect. The server's copy lives until it fires or the connection drops; its event
   * is then ignored. Default `false`.
   */
  readonly local?: boolean;
  /** Stops waiting for the reply (not with `local`); the watches may still be removed. */
  readonly signal?: AbortSignal | undefined;
}

const KINDS: readonly unknown[] = ['data', 'children', 'persistent', 'persistentRecursive', 'any'];

/** What watch removal needs of its client. */
export interface WatchRemovalHost {
  readonly registry: WatchRegistry;
  /** The wire transport of the moment; `undefined` on the native transport or between sessions. */
  transport(): ProtocolTransport | undefined;
  readonly wire: boolean;
  exec(
    path: string,
    signal: AbortSignal | undefined,
    fn: (t: Transport) => Promise<void>,
  ): Promise<void>;
}

/** The waiters of the client's registry that rely on watches of a kind. */
function registryTypes(kind: WatchKind): WatchType[] {
  if (kind === 'data') return ['data'];
  if (kind === 'children') return ['child'];
  if (kind === 'any') return ['data', 'child'];
  return [];
}

/** What a caller waiting on a removed watch sees. */
function removed(path: string): Error {
  return new DOMException(`watch removed: ${path}`, 'AbortError');
}

/**
 * Removes watches of `kind` from `full` (the path with the namespace; `path` as the caller
 * named it). Checks its arguments before anything else.
 */
export async function removeWatches(
  host: WatchRemovalHost,
  path: string,
  full: string,
  kind: WatchKind,
  options: RemoveWatchesOptions,
): Promise<void> {
  if (!KINDS.includes(kind)) {
    throw new InvalidArgumentError(
      `kind must be 'data', 'children', 'persistent', 'persistentRecursive' or 'any'`,
    );
  }
  if (!host.wire) {
    throw new UnimplementedError({
      message:
        "removeWatches needs the wire transport (transport: 'wire', the default); the native binding has no such request",
      path,
    });
  }
  if (options.local) {
    host.transport()?.forgetWatches(full, kind);
    host.registry.reject(full, registryTypes(kind), removed(path));
    return;
  }
  await host.exec(path, options.signal, async (t) => {
    const pt = t as ProtocolTransport;
    if (kind === 'data' || kind === 'children') return pt.removeWatches(full, kind);
    if (kind === 'any') {
      // Forgotten first: the transport sets the path's one-shot watches it still holds again
      // after an `any` removal (which is how it removes a persistent watch alone).
      pt.forgetWatches(full, 'any');
      return pt.removeWatches(full, 'any');
    }
    // Servers before 3.9 refuse the persistent types in this request: `any` removes them (the
    // transport sets the path's one-shot watches again), and the other persistent kind, if the
    // path held it too, is set again.
    if (!pt.holdsWatch(full, kind)) throw new NoWatcherError({ path });
    const other = kind === 'persistent' ? 'persistentRecursive' : 'persistent';
    const keep = pt.holdsWatch(full, other);
    await pt.removeWatches(full, 'any');
    if (keep) await pt.addWatch(full, other);
  });
  host.registry.reject(full, registryTypes(kind), removed(path));
}

/**
 * A watched read was cancelled: when no other caller waits on that watch, the server's watch is
 * removed too (the server would otherwise hold it until the node changes, and the transport set
 * it again after every reconnect). Best effort: a watch that fires meanwhile needs no removal.
 */
export function releaseWatch(host: WatchRemovalHost, full: string, type: WatchType): void {
  if (host.registry.has(full, type)) return;
  const t = host.transport();
  const kind = type === 'data' ? 'data' : 'children';
  if (!t?.holdsWatch(full, kind)) return;
  // Not set again on a reconnect, whatever becomes of the request below (the server forgets a
  // connection's watches when it drops).
  t.forgetWatches(full, kind);
  if (t.connected) t.removeWatches(full, kind).catch(() => undefined);
}
