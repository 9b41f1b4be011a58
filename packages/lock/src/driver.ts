import {
  InvalidArgumentError,
  Line,
  NoNodeError,
  SessionExpiredError,
  checkLineArgs,
  join,
  raceSignal,
  type Data,
  type LineListing,
  type LineNode,
  type ZkClient,
} from '@zkit/core';
import { HeldLease, discardNode, removeNode, requestRevocation, settleSoon } from './lease.js';

/** Wait for any change among the children instead of for one node to go away. */
export const ANY_CHILD = Symbol('any child');

/**
 * What distinguishes one lock recipe from another: the name its nodes carry, how they sort, and
 * who may go. Everything else — creating the node, listing, waiting, cleaning up, ownership
 * checks, fencing — is the same for all of them and lives in {@link LockDriver}.
 *
 * @internal
 */
export interface LockRules {
  /** The name after the protection prefix, before the sequence number, e.g. `lock-`. */
  readonly name: string;
  /** The text children are ordered by. */
  sortKey(child: string): string;
  /**
   * `null` when the node at `ourIndex` of the sorted children may hold the lock, else what to
   * wait for: the name of a node whose deletion may change that, or {@link ANY_CHILD}.
   */
  blocker(sorted: readonly string[], ourIndex: number): string | typeof ANY_CHILD | null;
  /**
   * List with a child watch, for rules that wait for {@link ANY_CHILD}. Such a listing leaves a
   * watch on the server even when it grants; it fires once, harmlessly, at the next change.
   */
  readonly watchChildren?: boolean;
}

/**
 * Checks a recipe's constructor arguments before anything is sent.
 *
 * @internal
 */
export function checkLockArgs(client: unknown, path: unknown, data: unknown): string {
  const valid = checkLineArgs(client, path, 'a lock');
  if (data !== undefined && typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new InvalidArgumentError('data must be a string or a Uint8Array');
  }
  return valid;
}

const RETRY = Symbol('retry');
/** The session an attempt was bound to has ended. */
export const STALE = Symbol('stale');
const NOT_NOW = Symbol('not now');

interface Grant {
  readonly fencingToken: bigint;
  readonly sessionSignal: AbortSignal;
}

/**
 * The queue-of-waiters algorithm behind every lock in this package, on core's {@link Line}.
 *
 * 1. Create a protected ephemeral-sequential node (`_c_<uuid>-<name><seq>`, container parents)
 *    and, in the same round trip, list the children with the parent's stat.
 * 2. If the rules say we may go, and our node is in the listing and belongs to the current
 *    session, grant; the fencing token is the parent's `pzxid` from that same listing.
 * 3. Else watch only what blocks us (normally our predecessor), list again when it changes, and
 *    go back to 2.
 *
 * The uncontended path is create + list (one round trip), and later delete: three requests. A
 * waiter adds one watch and one re-list. When the session changes under a waiter, its old node
 * is gone with the old session and a new one is created. When the wait is cancelled, our node is
 * removed.
 *
 * @internal
 */
export class LockDriver {
  readonly #client: ZkClient;
  readonly #line: Line;
  readonly #rules: LockRules;
  readonly #data: Data | undefined;

  constructor(client: ZkClient, base: string, rules: LockRules, data?: Data) {
    this.#client = client;
    this.#line = new Line(client, base, rules.name, rules.sortKey);
    this.#rules = rules;
    this.#data = data;
  }

  get base(): string {
    return this.#line.path;
  }

  /**
   * Waits for the lock (`wait`) or tries once (`try`, resolving `null` when it is taken).
   * Rejects with the signal's reason on abort, leaving no node behind.
   *
   * With `session`, the attempt is bound to that session (a step inside a bigger protocol that
   * holds other nodes of it): when the session changes, it resolves {@link STALE} instead of
   * queueing again on the new one.
   */
  async acquire(
    signal: AbortSignal | undefined,
    mode: 'wait' | 'try',
    session?: string,
    revoke = false,
  ): Promise<HeldLease | null | typeof STALE> {
    const client = this.#client;
    for (;;) {
      signal?.throwIfAborted();
      if (session !== undefined && client.sessionId !== session) return STALE;
      const joined = this.#line.join(this.#data, {
        signal,
        watch: this.#rules.watchChildren === true,
      });
      let node: LineNode | undefined;
      try {
        // The create itself is never cancelled half-way: a create whose reply we stopped waiting
        // for may still land, and would leave a node nobody deletes. So its outcome is awaited in
        // the background and the node removed if the caller gave up meanwhile.
        node = await raceSignal(joined.created, signal);
      } catch (error) {
        if (signal?.aborted) {
          await settleSoon(
            client,
            joined.created.then(async (created) => {
              if (created) await discardNode(client, created.path, created.session);
            }),
          );
        }
        throw error;
      }
      if (node === undefined) continue;
      let outcome: Grant | typeof RETRY | typeof NOT_NOW;
      try {
        if (session !== undefined && node.session !== session) {
          dropListing(joined.listed);
          outcome = RETRY;
        } else {
          outcome = await this.#waitForTurn(node, signal, mode, joined.listed, revoke);
        }
      } catch (error) {
        await discardNode(client, node.path, node.session);
        throw error;
      }
      if (outcome === RETRY || outcome === NOT_NOW) {
        await discardNode(client, node.path, node.session);
        if (outcome === NOT_NOW) return null;
        continue;
      }
      return new HeldLease(
        client,
        node.path,
        outcome.fencingToken,
        node.session,
        outcome.sessionSignal,
      );
    }
  }

  /**
   * Waits for the lock: {@link LockDriver.acquire} in `wait` mode, unbound. With `revoke`, asks
   * each holder found in the way, once, to give the lock up.
   */
  async wait(signal: AbortSignal | undefined, revoke = false): Promise<HeldLease> {
    return (await this.acquire(signal, 'wait', undefined, revoke)) as HeldLease;
  }

  /** Takes the lock if free: {@link LockDriver.acquire} in `try` mode, unbound. */
  async try(signal: AbortSignal | undefined): Promise<HeldLease | null> {
    return (await this.acquire(signal, 'try')) as HeldLease | null;
  }

  /**
   * @param first - the listing sent together with our node's create; later turns list afresh
   */
  async #waitForTurn(
    node: LineNode,
    signal: AbortSignal | undefined,
    mode: 'wait' | 'try',
    first: Promise<LineListing | undefined>,
    revoke: boolean,
  ): Promise<Grant | typeof RETRY | typeof NOT_NOW> {
    const client = this.#client;
    const asked = new Set<string>();
    const watch = this.#rules.watchChildren === true;
    let pending: Promise<LineListing | undefined> | undefined = first;
    for (;;) {
      if (client.sessionId !== node.session) {
        if (pending) dropListing(pending);
        return RETRY;
      }
      let listing: LineListing | undefined;
      try {
        listing = await (pending ?? this.#line.list({ signal, watch }));
      } catch (error) {
        if (error instanceof SessionExpiredError) continue;
        throw error;
      } finally {
        pending = undefined;
      }
      // The parent went away (a reaped container): so did our node.
      if (listing === undefined) return RETRY;
      // A child-watching listing leaves a waiter in the client; it must not outlive this turn
      // when we are granted without waiting for it.
      try {
        // Ownership: our node is listed, and the session that answered is the one that owns it.
        if (client.sessionId !== node.session) return RETRY;
        const sorted = listing.sorted;
        const ourIndex = sorted.indexOf(node.name);
        if (ourIndex < 0) return RETRY;
        // A create whose reply was lost may have landed after all, next to the one that was
        // retried: same uuid, so ours, and it must not stand in our own way.
        const strays = this.#line.strays(sorted, node);
        if (strays.length > 0) {
          await Promise.all(
            strays.map((c) => removeNode(client, join(this.base, c), node.session)),
          );
          continue;
        }
        const blocker = this.#rules.blocker(sorted, ourIndex);
        if (blocker === null) {
          signal?.throwIfAborted();
          const sessionSignal = client.sessionSignal();
          // The connection dropped right after the listing: no moment to grant. The next listing
          // waits for the connection and checks everything again.
          if (sessionSignal.aborted) continue;
          return { fencingToken: listing.stat.pzxid, sessionSignal };
        }
        if (mode === 'try') return NOT_NOW;
        const holder = sorted[0];
        if (revoke && holder !== undefined && holder !== node.name && !asked.has(holder)) {
          asked.add(holder);
          await requestRevocation(client, join(this.base, holder));
        }
        if (listing.changed !== undefined) await this.#settled(listing.changed);
        else if (blocker !== ANY_CHILD) await this.#waitForChange(join(this.base, blocker), signal);
        else throw new Error('rules that wait for any child must set watchChildren');
      } finally {
        listing.cancel();
      }
    }
  }

  /** Waits for a watch to fire; session loss just means "look again", anything else propagates. */
  async #settled(changed: Promise<unknown>): Promise<void> {
    try {
      await changed;
    } catch (error) {
      if (error instanceof SessionExpiredError) return;
      throw error;
    }
  }

  /**
   * Waits until `path` changes (normally: is deleted). One `get` with a watch; a node that is
   * already gone returns at once and leaves no watch behind on the server.
   */
  async #waitForChange(path: string, signal: AbortSignal | undefined): Promise<void> {
    let changed: Promise<unknown>;
    try {
      changed = (await this.#client.getWatched(path, { signal })).changed;
    } catch (error) {
      if (error instanceof NoNodeError || error instanceof SessionExpiredError) return;
      throw error;
    }
    await this.#settled(changed);
  }

  /** Who is there, in line order, with data and owner, for operators. */
  async list(): Promise<{ sorted: string[]; nodes: Map<string, { data: Buffer; owner: string }> }> {
    const members = await this.#line.members();
    return {
      sorted: members.map((m) => m.name),
      nodes: new Map(members.map((m) => [m.name, { data: m.data, owner: m.owner }])),
    };
  }
}

/** A listing we will not look at: forget its watch waiter, if any, once it arrives. */
function dropListing(listed: Promise<LineListing | undefined>): void {
  listed.then(
    (listing) => listing?.cancel(),
    () => undefined,
  );
}
