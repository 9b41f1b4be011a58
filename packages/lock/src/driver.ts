import {
  anySignal,
  InvalidArgumentError,
  InvalidPathError,
  NoNodeError,
  SEQUENCE_DIGITS,
  SessionExpiredError,
  join,
  raceSignal,
  validatePath,
  type Data,
  type Stat,
  type ZkClient,
} from '@zkit/core';
import { HeldLease, discardNode, removeNode, settleSoon } from './lease.js';

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
 * The text after the last occurrence of `marker`, or the whole name when it has none — the order
 * Curator's lock recipes agree on (the zero-padded sequence number, in practice).
 *
 * @internal
 */
export function afterLast(name: string, marker: string): string {
  const i = name.lastIndexOf(marker);
  return i < 0 ? name : name.slice(i + marker.length);
}

/** Children sorted by `key`, stable, comparing UTF-16 code units as Java's `String` does. */
export function sortChildren(
  children: readonly string[],
  key: (child: string) => string,
): string[] {
  return children
    .map((name) => ({ name, key: key(name) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((e) => e.name);
}

/**
 * Checks a recipe's constructor arguments before anything is sent.
 *
 * @internal
 */
export function checkLockArgs(client: unknown, path: unknown, data: unknown): string {
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof (client as Partial<ZkClient>).createProtected !== 'function'
  ) {
    throw new InvalidArgumentError('client must be a ZkClient from @zkit/core');
  }
  const valid = validatePath(path);
  if (valid === '/')
    throw new InvalidPathError(path, 'a lock needs a node of its own, not the root');
  if (data !== undefined && typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new InvalidArgumentError('data must be a string or a Uint8Array');
  }
  return valid;
}

/** One of our nodes: its path, its name, and the session that owns it. */
interface OwnNode {
  readonly path: string;
  readonly name: string;
  /** `_c_<uuid>-`: what every node of this one create attempt starts with. */
  readonly prefix: string;
  readonly session: string;
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
 * The queue-of-waiters algorithm behind every lock in this package.
 *
 * 1. Create a protected ephemeral-sequential node (`_c_<uuid>-<name><seq>`, container parents).
 * 2. List the children with the parent's stat (one request) and sort them.
 * 3. If the rules say we may go, and our node is in the listing and belongs to the current
 *    session, grant; the fencing token is the parent's `pzxid` from that same listing.
 * 4. Else watch only what blocks us (normally our predecessor) and go back to 2 when it changes.
 *
 * The uncontended path is create, list (and later delete): three requests. A waiter adds one
 * watch and one re-list. When the session changes under a waiter, its old node is gone with the
 * old session and a new one is created. When the wait is cancelled, our node is removed.
 *
 * @internal
 */
export class LockDriver {
  readonly #client: ZkClient;
  readonly #base: string;
  readonly #rules: LockRules;
  readonly #data: Data | undefined;

  constructor(client: ZkClient, base: string, rules: LockRules, data?: Data) {
    this.#client = client;
    this.#base = base;
    this.#rules = rules;
    this.#data = data;
  }

  get base(): string {
    return this.#base;
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
  ): Promise<HeldLease | null | typeof STALE> {
    for (;;) {
      signal?.throwIfAborted();
      if (session !== undefined && this.#client.sessionId !== session) return STALE;
      const node = await this.#create(signal);
      if (node === RETRY) continue;
      let outcome: Grant | typeof RETRY | typeof NOT_NOW;
      try {
        outcome =
          session !== undefined && node.session !== session
            ? RETRY
            : await this.#waitForTurn(node, signal, mode);
      } catch (error) {
        await discardNode(this.#client, node.path, node.session);
        throw error;
      }
      if (outcome === RETRY || outcome === NOT_NOW) {
        await discardNode(this.#client, node.path, node.session);
        if (outcome === NOT_NOW) return null;
        continue;
      }
      return new HeldLease(
        this.#client,
        node.path,
        outcome.fencingToken,
        node.session,
        outcome.sessionSignal,
      );
    }
  }

  /** Waits for the lock: {@link LockDriver.acquire} in `wait` mode, unbound. */
  async wait(signal: AbortSignal | undefined): Promise<HeldLease> {
    return (await this.acquire(signal, 'wait')) as HeldLease;
  }

  /** Takes the lock if free: {@link LockDriver.acquire} in `try` mode, unbound. */
  async try(signal: AbortSignal | undefined): Promise<HeldLease | null> {
    return (await this.acquire(signal, 'try')) as HeldLease | null;
  }

  async #create(signal: AbortSignal | undefined): Promise<OwnNode | typeof RETRY> {
    // The create itself is never cancelled half-way: a create whose reply we stopped waiting for
    // may still land, and would leave a node nobody deletes. So we wait for its outcome and
    // remove the node if the caller gave up meanwhile.
    const creating = this.#client.createProtected(this.#base, this.#rules.name, this.#data, {
      mode: 'ephemeralSequential',
      parents: 'container',
    });
    let path: string;
    try {
      path = await raceSignal(creating, signal);
    } catch (error) {
      if (signal?.aborted) {
        await settleSoon(
          this.#client,
          creating.then(async (created) => {
            const session = this.#client.sessionId;
            if (session !== undefined) await discardNode(this.#client, created, session);
          }),
        );
      }
      throw error;
    }
    const session = this.#client.sessionId;
    if (session === undefined) return RETRY;
    const name = path.slice(path.lastIndexOf('/') + 1);
    const prefix = name.slice(0, name.length - this.#rules.name.length - SEQUENCE_DIGITS);
    return { path, name, prefix, session };
  }

  async #waitForTurn(
    node: OwnNode,
    signal: AbortSignal | undefined,
    mode: 'wait' | 'try',
  ): Promise<Grant | typeof RETRY | typeof NOT_NOW> {
    const client = this.#client;
    const watchChildren = this.#rules.watchChildren === true;
    for (;;) {
      if (client.sessionId !== node.session) return RETRY;
      // Only a child-watching listing needs its own cancellation: its watch must not outlive the
      // wait when we are granted without waiting for it.
      const local = watchChildren ? new AbortController() : undefined;
      try {
        let children: string[];
        let stat: Stat;
        let changed: Promise<unknown> | undefined;
        try {
          if (local) {
            const listSignal = signal ? anySignal([signal, local.signal]) : local.signal;
            const watched = await client.getChildrenWatched(this.#base, { signal: listSignal });
            ({ children, stat } = watched.value);
            changed = watched.changed;
          } else {
            ({ children, stat } = await client.getChildren(this.#base, { withStat: true, signal }));
          }
        } catch (error) {
          // The parent went away (a reaped container): so did our node.
          if (error instanceof NoNodeError) return RETRY;
          if (error instanceof SessionExpiredError) continue;
          throw error;
        }
        // Ownership: our node is listed, and the session that answered is the one that owns it.
        if (client.sessionId !== node.session) return RETRY;
        const sorted = sortChildren(children, this.#rules.sortKey);
        const ourIndex = sorted.indexOf(node.name);
        if (ourIndex < 0) return RETRY;
        // A create whose reply was lost may have landed after all, next to the one that was
        // retried: same uuid, so ours, and it must not stand in our own way.
        const strays = sorted.filter((c) => c !== node.name && c.startsWith(node.prefix));
        if (strays.length > 0) {
          await Promise.all(
            strays.map((c) => removeNode(client, join(this.#base, c), node.session)),
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
          return { fencingToken: stat.pzxid, sessionSignal };
        }
        if (mode === 'try') return NOT_NOW;
        if (changed !== undefined) await this.#settled(changed);
        else if (blocker !== ANY_CHILD)
          await this.#waitForChange(join(this.#base, blocker), signal);
        else throw new Error('rules that wait for any child must set watchChildren');
      } finally {
        local?.abort();
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

  /** Who is there, sorted: every child with its data and owner, for operators. */
  async list(): Promise<{ sorted: string[]; nodes: Map<string, { data: Buffer; owner: string }> }> {
    let children: string[];
    try {
      children = await this.#client.getChildren(this.#base);
    } catch (error) {
      if (error instanceof NoNodeError) return { sorted: [], nodes: new Map() };
      throw error;
    }
    const sorted = sortChildren(children, this.#rules.sortKey);
    const nodes = new Map<string, { data: Buffer; owner: string }>();
    await Promise.all(
      sorted.map(async (name) => {
        try {
          const { data, stat } = await this.#client.get(join(this.#base, name));
          nodes.set(name, { data, owner: stat.ephemeralOwner });
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
        }
      }),
    );
    return { sorted: sorted.filter((name) => nodes.has(name)), nodes };
  }
}
