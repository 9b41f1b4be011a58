import { randomUUID } from 'node:crypto';
import {
  InvalidArgumentError,
  NodeExistsError,
  NoNodeError,
  SessionExpiredError,
  aboutToBlock,
  attemptSignal,
  delay,
  isRetryable,
  join,
  raceSignal,
  validateTimeout,
  type Stat,
  type WaitOptions,
  type ZkClient,
  defaultNodeData,
  endWhenSettled,
} from '@zkit/core';
import { BarrierFullError, BarrierStateError } from './errors.js';
import { checkBarrierArgs, wake } from './wake.js';

/** Options of {@link DoubleBarrier}. */
export interface DoubleBarrierOptions {
  /** How many members the barrier waits for: an integer ≥ 1. */
  readonly members: number;
}

/** Where a {@link DoubleBarrier} stands: see {@link DoubleBarrier.state}. */
export type DoubleBarrierState = 'idle' | 'entering' | 'entered' | 'leaving';

const READY = 'ready';
/** How long a cancelled call waits for its member node to be removed before it reports. */
const WITHDRAW_WAIT_MS = 2000;

/**
 * A double barrier: `enter()` resolves once `members` participants have entered, `leave()` once
 * all of them have left, so a batch of workers starts together and finishes together.
 *
 * The layout and the leave protocol are Curator's `DistributedDoubleBarrier`, so Java and Node
 * members can share one barrier: each member is an ephemeral node `path/<uuid>`; the member that
 * counts `members` children creates the persistent node `path/ready`, which lets everybody in.
 * To leave, the member with the lowest name waits for the highest to go, every other member
 * deletes its node and waits for the lowest; the last one out deletes `path/ready`.
 *
 * Guarantees:
 * - Nobody passes `enter()` before `members` member nodes have existed at once: a fired watch, a
 *   reconnect or any other session event only makes it read again.
 * - A participant beyond `members` is turned away with {@link BarrierFullError} instead of
 *   breaking the count. With the `ready` node up, its node is never created. Before that, its
 *   node is created, the participant sees more than `members` nodes, ranks them by creation
 *   (`czxid`) and, not being among the first `members`, removes its node again. Two
 *   participants racing for the last place are ranked the same way; the later one passes as one
 *   member too many only if the `ready` node was already up when it listed the members (Curator
 *   members never check, and always pass in that case).
 * - A participant that finds the `ready` node of a finished round still there (its members
 *   gone or leaving) waits until that round is over, and removes a `ready` node left without
 *   any member.
 * - `leave()` resolves once a read shows that no member of this round is left (members that
 *   joined a later round on the same path do not hold it back).
 *
 * Connection and session:
 * - On `suspended` every call keeps waiting; requests wait for the connection, and every
 *   reconnect triggers a fresh read.
 * - On `lost` while entering, the member node went with the session: the member joins again
 *   under the new session (the others never passed on its old node alone, since no `ready` node
 *   was made without `members` nodes at once). If the `ready` node appeared meanwhile, it passes.
 * - On `lost` after entering, the member node is gone: the remaining members leave without it,
 *   and this member's `leave()` only waits for the others to go.
 * - Timeout or abort of `enter()` or `leave()` removes this member's node (waiting for that up
 *   to two seconds; the removal carries on in the background after that).
 *
 * @example
 * ```ts
 * const barrier = new DoubleBarrier(client, '/batch/2026-11-25', { members: 8 });
 * await barrier.enter({ timeout: 60_000 });   // all 8 workers start together
 * await runMyShare();
 * await barrier.leave({ timeout: 60_000 });   // and finish together
 * ```
 */
export class DoubleBarrier {
  /** The barrier's parent node. */
  readonly path: string;
  /** How many members the barrier waits for. */
  readonly members: number;
  /** This member's node, `path/<uuid>` (it exists only while entering or entered). */
  readonly nodePath: string;
  readonly #client: ZkClient;
  readonly #name: string;
  readonly #readyPath: string;
  #state: DoubleBarrierState = 'idle';
  /** Session that owns our member node; `undefined` while we have none. */
  #nodeSession: string | undefined;
  /** Our node's stat from its create, when the create returned it. */
  #nodeStat: Stat | undefined;
  /**
   * The barrier's node existed at our last look. Only then is the listing sent with our create:
   * under a missing parent that listing fails and must be made again, one request more than
   * listing after the create.
   */
  #parentSeen = false;

  /**
   * No request is sent before a method is called.
   *
   * @throws `InvalidArgumentError` when `client` is not a `ZkClient` or `members` is not an
   * integer ≥ 1, `InvalidPathError` for a malformed path or the root
   */
  constructor(client: ZkClient, path: string, options: DoubleBarrierOptions) {
    this.path = checkBarrierArgs(client, path);
    const members: unknown = (options as Partial<DoubleBarrierOptions> | undefined)?.members;
    if (typeof members !== 'number' || !Number.isSafeInteger(members) || members < 1) {
      throw new InvalidArgumentError('members must be an integer ≥ 1');
    }
    this.members = members;
    this.#client = client;
    this.#name = randomUUID();
    this.nodePath = join(this.path, this.#name);
    this.#readyPath = join(this.path, READY);
  }

  /**
   * `'idle'` (not in the barrier), `'entering'`, `'entered'` (inside, until `leave()`),
   * `'leaving'`.
   */
  get state(): DoubleBarrierState {
    return this.#state;
  }

  /**
   * Joins the barrier and resolves once `members` members have entered.
   *
   * @throws `InvalidArgumentError` synchronously for a bad timeout. Rejects with
   * {@link BarrierFullError} when the barrier already has its members, {@link BarrierStateError}
   * unless the barrier is `'idle'`, a `ZkTimeoutError` (`name` `'TimeoutError'`; "DoubleBarrier
   * /b: not entered within 5000 ms") on timeout — with `timeout: 0` after one look, without
   * waiting for the others — and the signal's reason on abort (in both cases after removing our
   * node), `ClientClosedError` when the client
   * closes, and the client's non-retryable errors such as `NoAuthError`.
   */
  enter(options: WaitOptions = {}): Promise<void> {
    validateTimeout(options.timeout);
    if (this.#state !== 'idle') {
      return Promise.reject(new BarrierStateError(this.path, `cannot enter while ${this.#state}`));
    }
    this.#state = 'entering';
    const signal = attemptSignal(`DoubleBarrier ${this.path}: not entered`, options);
    return endWhenSettled(this.#enter(signal), signal, options).then(
      () => {
        this.#state = 'entered';
      },
      async (error: unknown) => {
        await this.#withdraw();
        this.#state = 'idle';
        throw error;
      },
    );
  }

  /**
   * Leaves the barrier and resolves once every member of this round has left.
   *
   * @throws `InvalidArgumentError` synchronously for a bad timeout. Rejects with
   * {@link BarrierStateError} unless the barrier is `'entered'`, a `ZkTimeoutError` ("… not left
   * within … ms"; with `timeout: 0` after one look) on timeout and the signal's reason on abort (in both cases after removing our node, if it was
   * still there), `ClientClosedError` when the client closes.
   */
  leave(options: WaitOptions = {}): Promise<void> {
    validateTimeout(options.timeout);
    if (this.#state !== 'entered') {
      return Promise.reject(new BarrierStateError(this.path, `cannot leave while ${this.#state}`));
    }
    this.#state = 'leaving';
    const signal = attemptSignal(`DoubleBarrier ${this.path}: not left`, options);
    return endWhenSettled(this.#leave(signal), signal, options).then(
      () => {
        this.#state = 'idle';
      },
      async (error: unknown) => {
        await this.#withdraw();
        this.#state = 'idle';
        throw error;
      },
    );
  }

  /** Leaves the barrier if it was entered (and waits for the others); else does nothing. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === 'entered') await this.leave();
  }

  // ---------------------------------------------------------------------------------------------

  /** Our node is there in the client's current session. */
  get #hasNode(): boolean {
    return this.#nodeSession !== undefined && this.#nodeSession === this.#client.sessionId;
  }

  async #enter(signal: AbortSignal | undefined): Promise<void> {
    const client = this.#client;
    for (;;) {
      signal?.throwIfAborted();
      try {
        // Watch `ready` before joining, so its creation cannot slip past us.
        const ready = await client.existsWatched(this.#readyPath, { signal });
        try {
          if (ready.value !== null) {
            // Up since we joined (in this session or a lost one): the round is complete.
            if (this.#nodeSession !== undefined) return;
            // Up before we joined: a round is under way or over, and it is not ours.
            await this.#beforeJoining(signal);
            continue;
          }
          // Not joined yet, or our node went with a lost session (nobody passed on it alone).
          const members = this.#hasNode ? await this.#children(signal) : await this.#join(signal);
          if (members === null) return; // `ready` came up since we joined
          if (members.length > this.members && (await this.#isExtra(members, signal))) {
            throw new BarrierFullError(this.path, this.members);
          }
          if (members.length >= this.members) {
            await this.#createReady(signal);
            return;
          }
          await wake(client, ready.changed, signal);
        } finally {
          ready.cancel();
        }
      } catch (error) {
        if (!(error instanceof SessionExpiredError) && !isRetryable(error)) throw error;
        aboutToBlock(signal);
        await client.whenConnected({ signal });
      }
    }
  }

  /**
   * The `ready` node is up and we are not a member: turns us away when the round is full, and
   * otherwise waits until the round that made it is over (removing a `ready` node that no member
   * is left to remove).
   */
  async #beforeJoining(signal: AbortSignal | undefined): Promise<void> {
    const client = this.#client;
    let watched;
    try {
      watched = await client.getChildrenWatched(this.path, { signal });
    } catch (error) {
      if (error instanceof NoNodeError) return;
      throw error;
    }
    try {
      const children = watched.value.children;
      if (!children.includes(READY)) return;
      const members = children.filter((c) => c !== READY).length;
      if (members >= this.members) throw new BarrierFullError(this.path, this.members);
      if (members === 0) {
        // A round that is over but whose last member did not remove `ready` (it crashed, or a
        // Curator member took it for the last one out): nobody needs it any more.
        await this.#deleteReady(signal);
        return;
      }
      // A round still leaving: look again on the next change.
      await wake(client, watched.changed, signal);
    } finally {
      watched.cancel();
    }
  }

  /**
   * Creates our member node (ephemeral, container parents) in the current session and lists the
   * members. When the barrier's node existed at our last look, the listing goes out with the
   * create, in the same round trip: ZooKeeper answers a session's requests in order, so a listing
   * sent right behind the create sees it. Only a create that had to be retried (the parent was
   * missing after all, or the connection dropped) can land after that listing; then it is made
   * again.
   *
   * @returns the member names, or `null` when the `ready` node is up
   */
  async #join(signal: AbortSignal | undefined): Promise<string[] | null> {
    const options = { mode: 'ephemeral', parents: 'container', signal } as const;
    // On the wire transport the create's reply carries the node's stat, which ranks us among
    // the members (#isExtra) without a read of our own node; elsewhere it would cost one.
    const creating: Promise<Stat | undefined> =
      this.#client.transport === 'wire'
        ? this.#client
            .create(this.nodePath, defaultNodeData(), { ...options, withStat: true })
            .then((r) => r.stat)
        : this.#client.create(this.nodePath, defaultNodeData(), options).then(() => undefined);
    // Sent now, right behind the create.
    const early = this.#parentSeen ? this.#client.getChildren(this.path, { signal }) : undefined;
    early?.catch(() => undefined);
    let created: Stat | undefined;
    try {
      created = await creating;
    } catch (error) {
      // Ours from a create whose reply was lost (core recognises its own session's node).
      if (!(error instanceof NodeExistsError)) throw error;
      const stat = await this.#client.exists(this.nodePath, { signal });
      if (stat?.ephemeralOwner !== this.#client.sessionId) throw error;
      created = stat ?? undefined;
    }
    this.#nodeSession = this.#client.sessionId;
    this.#nodeStat = created;
    if (early === undefined) return this.#children(signal);
    let children: string[] | undefined;
    try {
      children = await early;
    } catch (error) {
      // NoNode: the parent did not exist yet when the listing was answered.
      if (!(error instanceof NoNodeError)) throw error;
    }
    if (children === undefined || !children.includes(this.#name)) return this.#children(signal);
    if (children.includes(READY)) return null;
    return children.filter((c) => c !== READY);
  }

  /** The member names, or `null` when the `ready` node is up. */
  async #children(signal: AbortSignal | undefined): Promise<string[] | null> {
    let children: string[];
    try {
      children = await this.#client.getChildren(this.path, { signal });
    } catch (error) {
      if (error instanceof NoNodeError) {
        this.#parentSeen = false;
        return [];
      }
      throw error;
    }
    this.#parentSeen = true;
    if (children.includes(READY)) return null;
    return children.filter((c) => c !== READY);
  }

  /**
   * More members than allowed: ranks them by creation (`czxid`, read for every other member);
   * we are extra when our node is not among the first `members`.
   */
  async #isExtra(names: string[], signal: AbortSignal | undefined): Promise<boolean> {
    // Our own node's creation is known from its create (czxid never changes).
    const ours = this.#hasNode ? this.#nodeStat : undefined;
    const stats = await Promise.all(
      names.map(async (name) => {
        if (name === this.#name && ours !== undefined) return { name, stat: ours };
        const stat = await this.#client.exists(join(this.path, name), { signal });
        return { name, stat };
      }),
    );
    const alive = stats.filter((s): s is { name: string; stat: Stat } => s.stat !== null);
    alive.sort((a, b) => (a.stat.czxid < b.stat.czxid ? -1 : a.stat.czxid > b.stat.czxid ? 1 : 0));
    const rank = alive.findIndex((s) => s.name === this.#name);
    return rank >= this.members;
  }

  async #createReady(signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#client.create(this.#readyPath, defaultNodeData(), { signal });
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  async #deleteReady(signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#client.delete(this.#readyPath, { signal });
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  }

  async #leave(signal: AbortSignal | undefined): Promise<void> {
    const client = this.#client;
    // The members of this round: later joiners on the same path do not hold us back.
    let round: Set<string> | undefined;
    for (;;) {
      signal?.throwIfAborted();
      try {
        let children: string[];
        try {
          children = await client.getChildren(this.path, { signal });
          this.#parentSeen = true;
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
          children = [];
        }
        round ??= new Set(children.filter((c) => c !== READY));
        const members = children.filter((c) => c !== READY && round?.has(c)).sort();
        if (!this.#hasNode) this.#nodeSession = undefined;
        const ours = this.#nodeSession === undefined ? -1 : members.indexOf(this.#name);
        if (members.length === 0) return;
        if (ours === 0 && members.length === 1) {
          // The last one out: our node and the ready node go in one transaction, so that no
          // member of the next round finds the ready node up without this round's members;
          // where that cannot be done, both deletes in one round trip (answered in order).
          if (await this.#deleteLast(signal)) return;
          await Promise.all([this.#deleteOwn(signal), this.#deleteReady(signal)]);
          return;
        }
        let watchedName: string;
        let deleting: Promise<void> | undefined;
        if (ours === 0) {
          watchedName = members[members.length - 1] as string;
        } else {
          // Our delete and the watch on the lowest member go out together.
          if (ours > 0) deleting = this.#deleteOwn(signal);
          watchedName = members[0] as string;
        }
        const watching = client.existsWatched(join(this.path, watchedName), { signal });
        if (deleting) {
          const [deleted, armed] = await Promise.allSettled([deleting, watching]);
          if (deleted.status === 'rejected') {
            if (armed.status === 'fulfilled') armed.value.cancel();
            throw deleted.reason;
          }
        }
        const watched = await watching;
        try {
          if (watched.value !== null) await wake(client, watched.changed, signal);
        } finally {
          watched.cancel();
        }
      } catch (error) {
        if (!(error instanceof SessionExpiredError) && !isRetryable(error)) throw error;
        aboutToBlock(signal);
        await client.whenConnected({ signal });
      }
    }
  }

  /**
   * Our node and the ready node deleted in one transaction; `false` when that did not happen
   * (the native transport has no transactions, one of the nodes is gone already, or the
   * connection failed) and the two deletes are to be made one by one, which is idempotent.
   */
  async #deleteLast(signal: AbortSignal | undefined): Promise<boolean> {
    const client = this.#client;
    if (client.transport !== 'wire' || !this.#hasNode) return false;
    try {
      await client
        .transaction()
        .delete(this.nodePath)
        .delete(this.#readyPath)
        .commit(signal ? { signal } : {});
    } catch {
      return false;
    }
    this.#nodeSession = undefined;
    return true;
  }

  async #deleteOwn(signal: AbortSignal | undefined): Promise<void> {
    // Keeps trying across reconnects; an abort stops our wait, not the removal.
    await raceSignal(this.#client.deleteGuaranteed(this.nodePath, { ephemeral: true }), signal);
    this.#nodeSession = undefined;
  }

  /** Removes our node after a failed call, waiting a bounded time for the removal. */
  async #withdraw(): Promise<void> {
    if (this.#nodeSession === undefined) return;
    this.#nodeSession = undefined;
    const removal = this.#client
      .deleteGuaranteed(this.nodePath, { ephemeral: true })
      .catch(() => undefined);
    await Promise.race([removal, delay(WITHDRAW_WAIT_MS)]);
  }
}
