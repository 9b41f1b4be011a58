/**
 * Reading a {@link Queue} from the outside, for operators and tools: how deep it is, how old its
 * oldest item, which items consumers have claimed, and what the first items hold.
 *
 * @module
 */
import { InvalidArgumentError, NoNodeError, join, validatePath, type ZkClient } from '@zkit/core';
import { decodeItems } from './framing.js';
import { ITEM_PREFIX, fifoLayout } from './layout.js';
import { jsonSerializer, type Serializer } from './serializer.js';

/** Options of {@link inspectQueue}. */
export interface InspectQueueOptions<T> {
  /** Where the queue's consumers put their claims, as given to the `Queue`. Default `<path>-locks`. */
  readonly lockPath?: string;
  /** How many items, from the head of the queue, to read and decode. Default `0`. */
  readonly peek?: number;
  /** How the items were serialized, as given to the `Queue`. Default `jsonSerializer`. */
  readonly serializer?: Serializer<T>;
}

/** One item node read by {@link inspectQueue}. */
export interface InspectedItem<T> {
  /** The node's name, e.g. `queue-0000000012`. */
  readonly name: string;
  /** When it was put, milliseconds since the epoch (the server's clock). */
  readonly ctime: number;
  /** The items the node carries (one, or several from `putMany`); absent when malformed. */
  readonly values?: readonly T[];
  /** Why the node cannot be decoded (bad framing, or the serializer rejected it). */
  readonly malformed?: string;
}

/** A claim a consumer holds on an item: see {@link inspectQueue}. */
export interface InspectedClaim {
  /** The claimed item's name (the claim node is named like it). */
  readonly name: string;
  /** The consuming session (hex, as `ZkClient.sessionId` prints it). */
  readonly sessionId: string;
  /** When the claim was made, milliseconds since the epoch. */
  readonly ctime: number;
}

/** A snapshot of a queue: see {@link inspectQueue}. */
export interface QueueInspection<T> {
  /** The queue's path. */
  readonly path: string;
  /** The claims' path. */
  readonly lockPath: string;
  /** How many item nodes wait in the queue (claimed ones included). */
  readonly depth: number;
  /** The head of the queue (the oldest item), `null` when the queue is empty. */
  readonly oldest: { readonly name: string; readonly ctime: number } | null;
  /** Items being processed by a consumer, in queue order. */
  readonly claimed: readonly InspectedClaim[];
  /** The first `peek` items in queue order, read and decoded. */
  readonly items: readonly InspectedItem<T>[];
}

/**
 * Reads a {@link Queue} (zkit's or Apache Curator's `DistributedQueue`, which share the layout)
 * without taking part: depth, the oldest item's creation time, the items consumers have claimed,
 * and the first `peek` items decoded, malformed ones marked. A snapshot: it may be stale by the
 * time it returns. Requests: two listings, one read per claim and per peeked item (at least
 * one, for the oldest item's age), sent together.
 *
 * @example
 * ```ts
 * const queue = await inspectQueue(client, '/queues/jobs', { peek: 5 });
 * const waiting = queue?.depth;
 * ```
 * @returns `null` when the queue path does not exist
 * @throws `InvalidPathError` / `InvalidArgumentError` synchronously for a bad path or option
 */
export function inspectQueue<T = unknown>(
  client: ZkClient,
  path: string,
  options: InspectQueueOptions<T> = {},
): Promise<QueueInspection<T> | null> {
  validatePath(path);
  const lockPath = options.lockPath ?? `${path}-locks`;
  validatePath(lockPath);
  const peek = options.peek ?? 0;
  if (!Number.isSafeInteger(peek) || peek < 0) {
    throw new InvalidArgumentError('peek must be a non-negative integer');
  }
  const serializer = options.serializer ?? (jsonSerializer as Serializer<T>);
  return readQueue(client, path, lockPath, peek, serializer);
}

async function readQueue<T>(
  client: ZkClient,
  path: string,
  lockPath: string,
  peek: number,
  serializer: Serializer<T>,
): Promise<QueueInspection<T> | null> {
  let names: string[];
  try {
    names = await client.getChildren(path);
  } catch (error) {
    if (error instanceof NoNodeError) return null;
    throw error;
  }
  const ordered = fifoLayout.order(
    names.filter((n) => n.startsWith(ITEM_PREFIX)),
    Date.now(),
  ).ready;
  const [claims, read] = await Promise.all([
    readClaims(client, lockPath, new Set(ordered)),
    Promise.all(
      ordered.slice(0, Math.max(peek, 1)).map(async (name) => {
        try {
          return { name, ...(await client.get(join(path, name))) };
        } catch (error) {
          // Taken between the listing and the read.
          if (error instanceof NoNodeError) return undefined;
          throw error;
        }
      }),
    ),
  ]);
  const present = read.filter((r) => r !== undefined);
  const items = present.slice(0, peek).map((r) => {
    const decoded = decode(r.data, serializer);
    return Object.freeze({ name: r.name, ctime: r.stat.ctime, ...decoded });
  });
  const head = present[0];
  const order = new Map(ordered.map((n, i) => [n, i]));
  claims.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  return Object.freeze({
    path,
    lockPath,
    depth: ordered.length,
    oldest: head === undefined ? null : Object.freeze({ name: head.name, ctime: head.stat.ctime }),
    claimed: Object.freeze(claims),
    items: Object.freeze(items),
  });
}

async function readClaims(
  client: ZkClient,
  lockPath: string,
  items: ReadonlySet<string>,
): Promise<InspectedClaim[]> {
  let names: string[];
  try {
    names = await client.getChildren(lockPath);
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
  const read = await Promise.all(
    names
      .filter((n) => items.has(n))
      .map(async (name) => {
        const stat = await client.exists(join(lockPath, name));
        return stat === null
          ? undefined
          : Object.freeze({ name, sessionId: stat.ephemeralOwner, ctime: stat.ctime });
      }),
  );
  return read.filter((c) => c !== undefined);
}

function decode<T>(
  data: Buffer,
  serializer: Serializer<T>,
): { values: readonly T[] } | { malformed: string } {
  let frames: Buffer[];
  try {
    frames = decodeItems(data);
  } catch (error) {
    return { malformed: (error as Error).message };
  }
  try {
    return { values: Object.freeze(frames.map((f) => serializer.deserialize(f))) };
  } catch {
    return { malformed: 'the serializer rejected it' };
  }
}
