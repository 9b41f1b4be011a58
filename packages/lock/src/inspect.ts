/**
 * Reading a {@link Mutex} from the outside, for operators and tools: who holds it, who waits,
 * since when, and what fencing token the holder can have been given.
 *
 * @module
 */
import { NoNodeError, checkLineArgs, join, sortLine, type ZkClient } from '@zkit/core';

/** One node of a lock, as {@link inspectLock} reads it. */
export interface InspectedNode {
  /** The node's name, e.g. `_c_0f5b…-lock-0000000007`. */
  readonly name: string;
  /** Its full path. */
  readonly path: string;
  /** The session that owns the node (hex, as `ZkClient.sessionId` prints it). */
  readonly sessionId: string;
  /** The data its creator stored (zkit: the `data` option; Curator: by default an IP address). */
  readonly data: Buffer;
  /** When the node was created, milliseconds since the epoch (the server's clock). */
  readonly ctime: number;
  /** The zxid of the node's creation. */
  readonly czxid: bigint;
  /** `holder` for the first node in queue order, `waiter` for the others. */
  readonly role: 'holder' | 'waiter';
}

/** A snapshot of a lock: see {@link inspectLock}. */
export interface LockInspection {
  /** The lock's path. */
  readonly path: string;
  /** Every node in queue order: the holder first, then the waiters in the order they will go. */
  readonly nodes: readonly InspectedNode[];
  /**
   * Bounds of the holder's fencing token, `null` when nobody holds the lock. A holder's token is
   * the lock node's `pzxid` in the listing that granted it: at least the holder's own `czxid` (the
   * listing follows its create), at most the lock node's `pzxid` now (a later change to the
   * children only raises it). `min === max` means the token is known exactly; waiters that joined
   * or left since the grant widen the range.
   */
  readonly fencingToken: { readonly min: bigint; readonly max: bigint } | null;
}

/**
 * Reads a {@link Mutex} (zkit's or Apache Curator's `InterProcessMutex`, which share the layout)
 * without taking part: the holder and the waiters in queue order with their session, data and
 * creation time, and the holder's fencing token. A snapshot: it may be stale by the time it
 * returns. `2 + n` requests: the lock node's stat, its children, every child read at once.
 *
 * @example
 * ```ts
 * const lock = await inspectLock(client, '/locks/invoice-42');
 * const holder = lock?.nodes[0];
 * ```
 * @param path - the lock's path, as given to the `Mutex`
 * @returns `null` when the path does not exist
 * @throws `InvalidPathError` / `InvalidArgumentError` synchronously for a bad path or client
 */
export function inspectLock(client: ZkClient, path: string): Promise<LockInspection | null> {
  const base = checkLineArgs(client, path, 'a lock');
  return readLock(client, base);
}

const LOCK_NAME = 'lock-';

async function readLock(client: ZkClient, base: string): Promise<LockInspection | null> {
  let listing: { children: string[]; stat: { pzxid: bigint } };
  try {
    listing = await client.getChildren(base, { withStat: true });
  } catch (error) {
    if (error instanceof NoNodeError) return null;
    throw error;
  }
  const read = await Promise.all(
    sortLine(listing.children, LOCK_NAME).map(async (name) => {
      const nodePath = join(base, name);
      try {
        const { data, stat } = await client.get(nodePath);
        return { name, path: nodePath, sessionId: stat.ephemeralOwner, data, ...stat };
      } catch (error) {
        // Gone between the listing and the read: it is no longer in the line.
        if (error instanceof NoNodeError) return undefined;
        throw error;
      }
    }),
  );
  const nodes: InspectedNode[] = read
    .filter((n) => n !== undefined)
    .map((n, i) =>
      Object.freeze({
        name: n.name,
        path: n.path,
        sessionId: n.sessionId,
        data: n.data,
        ctime: n.ctime,
        czxid: n.czxid,
        role: i === 0 ? ('holder' as const) : ('waiter' as const),
      }),
    );
  const holder = nodes[0];
  const fencingToken =
    holder === undefined ? null : Object.freeze({ min: holder.czxid, max: listing.stat.pzxid });
  return Object.freeze({ path: base, nodes: Object.freeze(nodes), fencingToken });
}
