/**
 * Reading an election from the outside: who takes part, who leads, and a feed of leader changes.
 * Shared by {@link LeaderLatch} and {@link LeaderSelector}; internal apart from the
 * {@link Participant} type.
 *
 * @module
 */
import {
  ClientClosedError,
  NoNodeError,
  QueuedIterator,
  SessionExpiredError,
  isRetryable,
  join,
  Line,
  sortLine,
  type ConnectionState,
  type ZkClient,
} from '@zkit/core';
import { scope, until } from './wait.js';

/** One participant of an election, as `participants()` and `observe()` report it. */
export interface Participant {
  /** The participant's id: its election node's data, decoded as UTF-8. */
  readonly id: string;
  /** Full path of its election node. */
  readonly path: string;
  /** Whether the election designates it as the leader: the first node, in election order. */
  readonly isLeader: boolean;
}

/**
 * Every participant in election order. Nodes that vanish between the listing and the read are
 * skipped; the first one read is the leader. `1 + n` requests, the reads sent together.
 */
export async function readParticipants(
  client: ZkClient,
  path: string,
  nodeName: string,
  signal: AbortSignal | undefined,
): Promise<Participant[]> {
  const members = await new Line(client, path, nodeName).members({ signal });
  return members.map((m, i) =>
    Object.freeze({ id: m.data.toString('utf8'), path: m.path, isLeader: i === 0 }),
  );
}

/** The leader: the first node, in election order, whose data can still be read. */
export async function readLeader(
  client: ZkClient,
  path: string,
  nodeName: string,
  signal: AbortSignal | undefined,
): Promise<Participant | null> {
  return (await readLeaderWatched(client, path, nodeName, signal, false)).leader;
}

interface LeaderRead {
  readonly leader: Participant | null;
  /** Settles when the answer may have changed (only when watching). */
  readonly changed: Promise<unknown>;
}

const NEVER: Promise<unknown> = new Promise(() => undefined);

/**
 * Reads the leader, and with `watch` arms one watch that fires when the answer may change: on
 * the leader's node when there is one (its deletion is the only way leadership moves on), else
 * on the election's children, or on the election path's creation when it does not exist.
 * Observers therefore wake once per leader change, not on every participant joining.
 */
async function readLeaderWatched(
  client: ZkClient,
  path: string,
  nodeName: string,
  signal: AbortSignal | undefined,
  watch: boolean,
): Promise<LeaderRead> {
  const opts = signal ? { signal } : {};
  for (;;) {
    let children: string[];
    try {
      children = await client.getChildren(path, opts);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      children = [];
    }
    for (const name of sortLine(children, nodeName)) {
      const nodePath = join(path, name);
      try {
        if (!watch) {
          const { data } = await client.get(nodePath, opts);
          return { leader: leader(data, nodePath), changed: NEVER };
        }
        const watched = await client.getWatched(nodePath, opts);
        return { leader: leader(watched.value.data, nodePath), changed: watched.changed };
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
    if (!watch) return { leader: null, changed: NEVER };
    try {
      const watched = await client.getChildrenWatched(path, opts);
      if (watched.value.children.length > 0) continue;
      return { leader: null, changed: watched.changed };
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      const watched = await client.existsWatched(path, opts);
      if (watched.value !== null) continue;
      return { leader: null, changed: watched.changed };
    }
  }
}

function leader(data: Buffer, path: string): Participant {
  return Object.freeze({ id: data.toString('utf8'), path, isLeader: true });
}

/**
 * The leader now, then again every time it changes (`null` while there is none), until `stop`
 * aborts, the consumer leaves the loop, or the client closes. Survives disconnections and
 * session loss: after a reconnect it reads again, since changes may have been missed. Each read
 * is made when the consumer asks for the next value, and every wait removes its listeners when
 * it ends, so an observer that runs for days keeps a flat heap.
 */
export function observeLeader(
  client: ZkClient,
  path: string,
  nodeName: string,
  stop: AbortSignal,
): QueuedIterator<Participant | null> {
  return new QueuedIterator<Participant | null>(
    async (it) => {
      let last: Participant | null | undefined;
      let wake = new AbortController();
      const onState = (now: ConnectionState) => {
        if (now === 'reconnected' || now === 'lost' || now === 'closed') wake.abort();
      };
      client.on('state', onState);
      try {
        while (!it.signal.aborted && client.state !== 'closed') {
          wake = new AbortController();
          const readScope = scope(it.signal);
          try {
            const read = await readLeaderWatched(client, path, nodeName, readScope.signal, true);
            if (last === undefined || !same(last, read.leader)) {
              last = read.leader;
              it.push(read.leader);
              if (!(await it.wanted())) return;
            }
            // A rejected watch (session lost, client closed) is just one more reason to read again.
            await until(
              read.changed.catch(() => undefined),
              wake.signal,
              it.signal,
            );
          } catch (error) {
            if (it.signal.aborted || error instanceof ClientClosedError) return;
            if (!isRetryable(error) && !(error instanceof SessionExpiredError)) throw error;
            await client.whenConnected({ signal: it.signal }).catch(() => undefined);
          } finally {
            readScope.done();
          }
        }
      } finally {
        client.off('state', onState);
      }
    },
    { signal: stop },
  );
}

function same(a: Participant | null, b: Participant | null): boolean {
  if (a === null || b === null) return a === b;
  return a.path === b.path && a.id === b.id;
}
