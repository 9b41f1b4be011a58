/**
 * Reading a {@link Barrier} or {@link DoubleBarrier} from the outside, for operators and tools.
 *
 * @module
 */
import { NoNodeError, join, type Stat, type ZkClient } from '@zkit/core';
import { checkBarrierArgs } from './wake.js';

/** One member of a double barrier, as {@link inspectBarrier} reads it. */
export interface InspectedMember {
  /** The member's node name (its id). */
  readonly name: string;
  /** The session that owns the node (hex, as `ZkClient.sessionId` prints it). */
  readonly sessionId: string;
  /** When it entered, milliseconds since the epoch (the server's clock). */
  readonly ctime: number;
}

/** A snapshot of a barrier: see {@link inspectBarrier}. */
export interface BarrierInspection {
  /** The barrier's path. */
  readonly path: string;
  /**
   * Whether the barrier node exists. For a {@link Barrier} that is the barrier being up (waiters
   * are held back); a {@link DoubleBarrier}'s node exists while members use it.
   */
  readonly up: boolean;
  /** A double barrier's members, in the order they entered; empty for a plain barrier. */
  readonly members: readonly InspectedMember[];
  /** Whether a double barrier's `ready` node is there: every member came, they may proceed. */
  readonly ready: boolean;
}

const READY = 'ready';

/**
 * Reads a barrier (zkit's or Apache Curator's `DistributedBarrier` / `DistributedDoubleBarrier`,
 * which share the layouts) without taking part: whether it is up, and for a double barrier who
 * entered (in order of entry) and whether everybody has come. A snapshot: it may be stale by the
 * time it returns. `1 + n` requests, the reads sent together.
 *
 * @example
 * ```ts
 * const gate = await inspectBarrier(client, '/deploy/gate');
 * const entered = gate.members.map((m) => m.name);
 * ```
 * @throws `InvalidPathError` / `InvalidArgumentError` synchronously for a bad path or client
 */
export function inspectBarrier(client: ZkClient, path: string): Promise<BarrierInspection> {
  const base = checkBarrierArgs(client, path);
  return readBarrier(client, base);
}

async function readBarrier(client: ZkClient, base: string): Promise<BarrierInspection> {
  let children: string[];
  try {
    children = await client.getChildren(base);
  } catch (error) {
    if (error instanceof NoNodeError) {
      return Object.freeze({ path: base, up: false, members: [], ready: false });
    }
    throw error;
  }
  const read = await Promise.all(
    children
      .filter((c) => c !== READY)
      .map(async (name) => ({ name, stat: await client.exists(join(base, name)) })),
  );
  const members = read
    .filter((m): m is { name: string; stat: Stat } => m.stat !== null)
    .sort((a, b) => (a.stat.czxid < b.stat.czxid ? -1 : a.stat.czxid > b.stat.czxid ? 1 : 0))
    .map((m) =>
      Object.freeze({ name: m.name, sessionId: m.stat.ephemeralOwner, ctime: m.stat.ctime }),
    );
  return Object.freeze({
    path: base,
    up: true,
    members: Object.freeze(members),
    ready: children.includes(READY),
  });
}
