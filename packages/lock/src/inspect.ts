/**
 * Reading a {@link Mutex}, a {@link ReadWriteLock} or a {@link Semaphore} from the outside, for
 * operators and tools: which kind it is, who holds it, who waits, since when, and what fencing
 * token each holder can have been given.
 *
 * @module
 */
import {
  InvalidArgumentError,
  NoNodeError,
  checkLineArgs,
  join,
  lineKey,
  sortLine,
  validatePath,
  type ZkClient,
} from '@zkit/core';
import { looksLikeLock, type LockKind } from './recognize.js';

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
  const line = await readLine(client, base, (c) => lineKey(c, LOCK_NAME));
  if (line === null) return null;
  const nodes: InspectedNode[] = line.nodes.map((n, i) =>
    Object.freeze({ ...n, role: i === 0 ? ('holder' as const) : ('waiter' as const) }),
  );
  const holder = nodes[0];
  const fencingToken =
    holder === undefined ? null : Object.freeze({ min: holder.czxid, max: line.pzxid });
  return Object.freeze({ path: base, nodes: Object.freeze(nodes), fencingToken });
}

/** Bounds of a fencing token read from outside: see {@link LockInspection.fencingToken}. */
export interface FencingTokenBounds {
  /** The holder's own node's `czxid`: its grant listing came after its create. */
  readonly min: bigint;
  /** The `pzxid` of the node the holder's grant listed, now: later changes only raise it. */
  readonly max: bigint;
}

/** One node of a {@link ReadWriteLock}, as {@link inspectReadWriteLock} reads it. */
export interface InspectedReadWriteNode extends InspectedNode {
  /** Which side the node waits for or holds. */
  readonly mode: 'read' | 'write';
  /**
   * Bounds of the fencing token this holder got (the lock node's `pzxid` in the listing that
   * granted it); `null` for a waiter.
   */
  readonly fencingToken: FencingTokenBounds | null;
}

/** A snapshot of a read-write lock: see {@link inspectReadWriteLock}. */
export interface ReadWriteLockInspection {
  /** The lock's path. */
  readonly path: string;
  /**
   * Every node in queue order, readers and writers in one line. Holders (`role` `holder`) are
   * the first node when it is a writer, else every reader ahead of the first writer; the others
   * wait.
   */
  readonly nodes: readonly InspectedReadWriteNode[];
}

/** One lease of a {@link Semaphore}, as {@link inspectSemaphore} reads it. */
export interface InspectedLease extends InspectedNode {
  /**
   * Bounds of the lease's fencing token (the `leases` node's `pzxid` in the listing that
   * granted it). Leases beyond the permits, possible only for a moment, get one too.
   */
  readonly fencingToken: FencingTokenBounds;
}

/** A snapshot of a semaphore: see {@link inspectSemaphore}. */
export interface SemaphoreInspection {
  /** The semaphore's path. */
  readonly path: string;
  /**
   * How many leases may exist at once, when known: read from the shared count named by
   * `countPath`, else the `permits` option, else `null` (the semaphore's nodes do not say).
   */
  readonly permits: number | null;
  /**
   * The leases in use (role `holder`), oldest first. The lease node of the first waiter, made
   * while it waits for a free lease, is not one of them.
   */
  readonly leases: readonly InspectedLease[];
  /**
   * The processes queued for a lease (role `waiter`) in order. The first one is inside its
   * acquire: it waits for a free lease, or is about to take one.
   */
  readonly waiters: readonly InspectedNode[];
}

/** Options of {@link inspectSemaphore}. */
export interface InspectSemaphoreOptions {
  /** The number of permits every party uses, when the caller knows it. */
  readonly permits?: number;
  /**
   * The path of a shared count holding the permits (Curator's `InterProcessSemaphoreV2` built
   * with a `SharedCountReader`; `SharedCount` of `@zkit/counter`): a 4-byte big-endian integer.
   * Wins over `permits`.
   */
  readonly countPath?: string;
}

export type { LockKind };

const READ_NAME = '__READ__';
const WRITE_NAME = '__WRIT__';
const LEASE_NAME = 'lease-';

/**
 * Tells which lock lives at `path` from its children's names, in one request, by the rules of
 * {@link looksLikeLock}: a {@link Semaphore} has only `leases` and `locks` children (either may be
 * missing); every node of a {@link ReadWriteLock} is `…__READ__<seq>` or `…__WRIT__<seq>`; every
 * node of a {@link Mutex} is `…lock-<seq>`. A node with no children is a free lock of any kind
 * and reads as `mutex`.
 *
 * @example
 * ```ts
 * const kind = await detectLockKind(client, '/locks/catalog'); // 'readWrite'
 * ```
 * @returns the kind; `unknown` when the children fit no lock; `null` when the path does not
 *   exist
 * @throws `InvalidPathError` / `InvalidArgumentError` synchronously for a bad path or client
 */
export function detectLockKind(
  client: ZkClient,
  path: string,
): Promise<LockKind | 'unknown' | null> {
  const base = checkLineArgs(client, path, 'a lock');
  return (async () => {
    let children: string[];
    try {
      children = await client.getChildren(base);
    } catch (error) {
      if (error instanceof NoNodeError) return null;
      throw error;
    }
    if (children.length === 0) return 'mutex';
    // A semaphore whose leases are all given back may keep only its `locks` child.
    if (children.every((c) => c === 'leases' || c === 'locks')) return 'semaphore';
    // The names are told apart as a tool looking over a tree tells them; a path asked about as a
    // lock must hold nothing but that lock's nodes.
    const kind = looksLikeLock(children);
    return kind !== null && children.every((c) => looksLikeLock([c]) === kind) ? kind : 'unknown';
  })();
}

/**
 * Reads a {@link ReadWriteLock} (zkit's or Apache Curator's `InterProcessReadWriteLock`, which
 * share the layout) without taking part: readers and writers in queue order with their mode,
 * session, data and creation time; which of them hold (the first node if it writes, else every
 * reader ahead of the first writer), and each holder's fencing token. A snapshot. `2 + n`
 * requests.
 *
 * @example
 * ```ts
 * const lock = await inspectReadWriteLock(client, '/locks/catalog');
 * const readers = lock?.nodes.filter((n) => n.role === 'holder' && n.mode === 'read');
 * ```
 * @returns `null` when the path does not exist
 * @throws `InvalidPathError` / `InvalidArgumentError` synchronously for a bad path or client
 */
export function inspectReadWriteLock(
  client: ZkClient,
  path: string,
): Promise<ReadWriteLockInspection | null> {
  const base = checkLineArgs(client, path, 'a lock');
  return (async () => {
    const line = await readLine(client, base, (c) => lineKey(lineKey(c, READ_NAME), WRITE_NAME));
    if (line === null) return null;
    let writerSeen = false;
    const nodes = line.nodes.map((n, i) => {
      const writer = n.name.includes(WRITE_NAME);
      const holds = writer ? i === 0 : !writerSeen;
      if (writer) writerSeen = true;
      return Object.freeze({
        ...n,
        role: holds ? ('holder' as const) : ('waiter' as const),
        mode: writer ? ('write' as const) : ('read' as const),
        fencingToken: holds ? Object.freeze({ min: n.czxid, max: line.pzxid }) : null,
      });
    });
    return Object.freeze({ path: base, nodes: Object.freeze(nodes) });
  })();
}

/**
 * Reads a {@link Semaphore} (zkit's or Apache Curator's `InterProcessSemaphoreV2`, which share
 * the layout: lease nodes under `path/leases`, the queue of acquirers under `path/locks`)
 * without taking part: the leases in use with their session, data, creation time and fencing
 * token, and the processes waiting, in order. The number of permits is not stored with the
 * semaphore: give `permits`, or `countPath` when a shared count holds it. A snapshot. Up to
 * `5 + n` requests.
 *
 * @example
 * ```ts
 * const slots = await inspectSemaphore(client, '/limits/payment-api', { permits: 4 });
 * console.log(`${slots?.leases.length} of ${slots?.permits} in use`);
 * ```
 * @returns `null` when the path does not exist
 * @throws `InvalidPathError` / `InvalidArgumentError` synchronously for a bad path, client,
 *   `countPath` or `permits`
 */
export function inspectSemaphore(
  client: ZkClient,
  path: string,
  options: InspectSemaphoreOptions = {},
): Promise<SemaphoreInspection | null> {
  const base = checkLineArgs(client, path, 'a semaphore');
  const { permits, countPath } = options;
  if (permits !== undefined && (!Number.isSafeInteger(permits) || permits < 1)) {
    throw new InvalidArgumentError('permits must be an integer ≥ 1');
  }
  const count = countPath === undefined ? undefined : validatePath(countPath);
  return (async () => {
    const [exists, leases, queue, stored] = await Promise.all([
      client.exists(base),
      readLine(client, join(base, 'leases'), (c) => lineKey(c, LEASE_NAME)),
      readLine(client, join(base, 'locks'), (c) => lineKey(c, LOCK_NAME)),
      count === undefined ? undefined : readCount(client, count),
    ]);
    if (exists === null) return null;
    // The first in the queue is inside its acquire, and while it waits for a free lease its own
    // lease node is already there, counted but not granted: the newest lease node of its
    // session made after its place in the queue. (It also looks so for the moment between a
    // grant and the release of its place.)
    const first = queue?.nodes[0];
    const pending =
      first === undefined
        ? undefined
        : (leases?.nodes ?? []).findLast(
            (n) => n.sessionId === first.sessionId && n.czxid > first.czxid,
          );
    const leaseNodes = (leases?.nodes ?? [])
      .filter((n) => n !== pending)
      .map((n) =>
        Object.freeze({
          ...n,
          role: 'holder' as const,
          fencingToken: Object.freeze({ min: n.czxid, max: leases?.pzxid ?? n.czxid }),
        }),
      );
    const waiters = (queue?.nodes ?? []).map((n) =>
      Object.freeze({ ...n, role: 'waiter' as const }),
    );
    return Object.freeze({
      path: base,
      permits: stored ?? permits ?? null,
      leases: Object.freeze(leaseNodes),
      waiters: Object.freeze(waiters),
    });
  })();
}

/** A shared count's value: 4 bytes, big-endian; `null` when the node is missing or is not one. */
async function readCount(client: ZkClient, path: string): Promise<number | null> {
  try {
    const { data } = await client.get(path);
    return data.length === 4 ? data.readInt32BE(0) : null;
  } catch (error) {
    if (error instanceof NoNodeError) return null;
    throw error;
  }
}

type LineNodeRead = Omit<InspectedNode, 'role'>;

/** The children of `base` in line order, each read; `null` when `base` does not exist. */
async function readLine(
  client: ZkClient,
  base: string,
  key: (child: string) => string,
): Promise<{ nodes: LineNodeRead[]; pzxid: bigint } | null> {
  let listing: { children: string[]; stat: { pzxid: bigint } };
  try {
    listing = await client.getChildren(base, { withStat: true });
  } catch (error) {
    if (error instanceof NoNodeError) return null;
    throw error;
  }
  const read = await Promise.all(
    sortLine(listing.children, key).map(async (name) => {
      const nodePath = join(base, name);
      try {
        const { data, stat } = await client.get(nodePath);
        return {
          name,
          path: nodePath,
          sessionId: stat.ephemeralOwner,
          data,
          ctime: stat.ctime,
          czxid: stat.czxid,
        };
      } catch (error) {
        // Gone between the listing and the read: it is no longer in the line.
        if (error instanceof NoNodeError) return undefined;
        throw error;
      }
    }),
  );
  return { nodes: read.filter((n) => n !== undefined), pzxid: listing.stat.pzxid };
}
