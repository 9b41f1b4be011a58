/**
 * Reading an election from the outside, for operators and tools, without a {@link LeaderLatch}
 * or {@link LeaderSelector} of one's own.
 *
 * @module
 */
import { NoNodeError, checkLineArgs, join, sortLine, type ZkClient } from '@zkit/core';

/** One participant, as {@link inspectElection} reads it. */
export interface InspectedParticipant {
  /** The participant's id: its node's data, decoded as UTF-8. */
  readonly id: string;
  /** The node's name, e.g. `_c_0f5b…-latch-0000000003`. */
  readonly name: string;
  /** Full path of its node. */
  readonly path: string;
  /** The session that owns the node (hex, as `ZkClient.sessionId` prints it). */
  readonly sessionId: string;
  /** When the node was created, milliseconds since the epoch (the server's clock). */
  readonly ctime: number;
  /** Whether it leads: the first node in election order. */
  readonly isLeader: boolean;
}

/** A snapshot of an election: see {@link inspectElection}. */
export interface ElectionInspection {
  /** The election's path. */
  readonly path: string;
  /**
   * Which recipe's nodes the path holds: `latch` ({@link LeaderLatch}, Curator's `LeaderLatch`:
   * `…-latch-<seq>`), `selector` ({@link LeaderSelector}, Curator's `LeaderSelector`:
   * `…-lock-<seq>`), `null` when it has no children, `unknown` when its children are neither.
   */
  readonly layout: 'latch' | 'selector' | 'unknown' | null;
  /** Every participant in election order, the leader first; empty for `null` and `unknown`. */
  readonly participants: readonly InspectedParticipant[];
}

const LAYOUTS = [
  ['latch', 'latch-'],
  ['selector', 'lock-'],
] as const;

/**
 * Reads an election of either layout (zkit's or Apache Curator's) without taking part: the
 * leader and the other participants in election order, with id, session and creation time. A
 * snapshot: it may be stale by the time it returns. `1 + n` requests, the reads sent together.
 *
 * @example
 * ```ts
 * const election = await inspectElection(client, '/election/reports');
 * const leader = election?.participants[0];
 * ```
 * @param path - the election's path, as given to the latch or selector
 * @returns `null` when the path does not exist
 * @throws `InvalidPathError` / `InvalidArgumentError` synchronously for a bad path or client
 */
export function inspectElection(
  client: ZkClient,
  path: string,
): Promise<ElectionInspection | null> {
  const base = checkLineArgs(client, path, 'an election');
  return readElection(client, base);
}

async function readElection(client: ZkClient, base: string): Promise<ElectionInspection | null> {
  let children: string[];
  try {
    children = await client.getChildren(base);
  } catch (error) {
    if (error instanceof NoNodeError) return null;
    throw error;
  }
  if (children.length === 0) return Object.freeze({ path: base, layout: null, participants: [] });
  const found = LAYOUTS.find(([, marker]) => children.some((c) => c.includes(`-${marker}`)));
  if (found === undefined) {
    return Object.freeze({ path: base, layout: 'unknown', participants: [] });
  }
  const [layout, marker] = found;
  const read = await Promise.all(
    sortLine(
      children.filter((c) => c.includes(marker)),
      marker,
    ).map(async (name) => {
      const nodePath = join(base, name);
      try {
        const { data, stat } = await client.get(nodePath);
        return { name, path: nodePath, data, stat };
      } catch (error) {
        // Gone between the listing and the read: no longer a participant.
        if (error instanceof NoNodeError) return undefined;
        throw error;
      }
    }),
  );
  const participants = read
    .filter((p) => p !== undefined)
    .map((p, i) =>
      Object.freeze({
        id: p.data.toString('utf8'),
        name: p.name,
        path: p.path,
        sessionId: p.stat.ephemeralOwner,
        ctime: p.stat.ctime,
        isLeader: i === 0,
      }),
    );
  return Object.freeze({ path: base, layout, participants: Object.freeze(participants) });
}
