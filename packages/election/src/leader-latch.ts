import diagnostics from 'node:diagnostics_channel';
import {
  anySignal,
  Emitter,
  InvalidArgumentError,
  waitSignal,
  raceSignal,
  type WaitOptions,
  type ZkClient,
  endWhenSettled,
  sendNow,
} from '@zkit/core';
import { Candidate, checkElectionArgs, type Win } from './candidate.js';
import { ElectionClosedError, ElectionStateError, type LeadershipLostError } from './errors.js';
import { observeLeader, readLeader, readParticipants, type Participant } from './participants.js';
import type { ActiveTerm, LeadershipTerm } from './term.js';

/** Options of {@link LeaderLatch}. */
export interface LeaderLatchOptions {
  /**
   * This participant's id, stored as its election node's data (UTF-8) and reported by
   * `leader()`, `participants()` and `observe()`. Use something that tells others how to reach
   * the leader, e.g. `host:port`. Default `''` (as in Curator).
   */
  readonly id?: string;
}

/** Options of {@link LeaderLatch.close}. */
export interface LeaderLatchCloseOptions {
  /**
   * `'silent'` (default): no `revoked` event for a term ended by `close()` (its signal still
   * aborts). `'notifyLeader'`: a leader gets its `revoked` event before `close()` resolves.
   */
  readonly mode?: 'silent' | 'notifyLeader';
}

/** Life cycle of a latch: `latent` → `started` → `closed`. */
export type LeaderLatchState = 'latent' | 'started' | 'closed';

/** Typed events of {@link LeaderLatch}. */
export interface LeaderLatchEvents {
  /** This participant became the leader; the term says for how long. */
  elected: [term: LeadershipTerm];
  /** A term ended; `reason` is the term signal's abort reason. */
  revoked: [term: LeadershipTerm, reason: LeadershipLostError];
  /**
   * An unexpected error (e.g. `NoAuthError` on the election path); the latch keeps trying, with
   * backoff. Also a `ListenerError` when an `elected`/`revoked` listener threw or rejected:
   * that changes nothing for the latch (see core's `Emitter`).
   */
  error: [error: unknown];
}

/** Published on `zkit:election:elected` and `zkit:election:revoked`. */
export interface ElectionMessage {
  /** The election path. */
  readonly path: string;
  /** The id of the participant whose term started or ended. */
  readonly participantId: string;
  /** The term's fencing token. */
  readonly fencingToken: bigint;
}

const electedChannel = diagnostics.channel('zkit:election:elected');
const revokedChannel = diagnostics.channel('zkit:election:revoked');

/**
 * Leader election as a latch: every started participant stands in line, and the first one
 * leads until it closes or loses its session. Built for the "exactly one replica runs the
 * scheduler" case.
 *
 * **Layout.** Curator's `LeaderLatch`: an ephemeral-sequential node
 * `<path>/_c_<uuid>-latch-<seq>` per participant, holding its id; children sorted by the text
 * after the last `latch-`; the first is the leader. A Curator `LeaderLatch` and a zkit one on
 * the same path (with the same namespace) elect one leader between them and agree on who it is.
 * Each waiting participant watches only the node just before its own.
 *
 * **Terms.** Leadership is handed out as a {@link LeadershipTerm}: a fencing token that grows
 * from term to term and a signal that aborts as soon as leadership can no longer be assumed.
 * A term starts only when a listing answered in the session that created our node puts that
 * node first, so a node left by an older session never makes us leader; right after, an
 * `exists` on the node confirms its owner and watches it for the term's duration.
 * `hasLeadership` is `true` exactly while a term's signal has not aborted.
 *
 * **Connection trouble.**
 * - `suspended`: under the client's default error policy the term's signal aborts at once and
 *   `revoked` follows; waiting participants keep their place. Under `errorPolicy: 'lost'` the
 *   term continues.
 * - `reconnected` to the same session: the line is read again and our node kept (no delete and
 *   re-create, so no reset storm); if we are still first, a new term starts (or, under `'lost'`,
 *   the current one continues).
 * - `lost`: the term ends; once a new session is up the latch enters the line once with a new
 *   node, and removes its node of the old session if the server still has it.
 * - The election path deleted under us: the latch enters again.
 * - The client closed: the latch closes itself.
 *
 * @example
 * ```ts
 * import { hostname } from 'node:os';
 * import { LeaderLatch } from '@zkit/election';
 *
 * const latch = new LeaderLatch(client, '/election/scheduler', { id: hostname() });
 * latch.on('elected', (term) => {
 *   void runScheduler({ signal: term.signal, fencingToken: term.fencingToken });
 * });
 * latch.on('revoked', () => log('stepped down'));
 * await latch.start();
 * // … on shutdown:
 * await latch.close();
 * ```
 */
export class LeaderLatch extends Emitter<LeaderLatchEvents> {
  /** The election path. */
  readonly path: string;
  /** This participant's id. */
  readonly id: string;
  readonly #client: ZkClient;
  readonly #candidate: Candidate;
  readonly #stop = new AbortController();
  #state: LeaderLatchState = 'latent';
  #term: ActiveTerm | undefined;
  #campaign: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #notifyOnClose = false;
  #ready: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  readonly #awaiting = new Set<{
    resolve: (term: LeadershipTerm) => void;
    reject: (error: unknown) => void;
  }>();

  /**
   * @param client - a `ZkClient`; borrowed, never closed by the latch. It may be started later.
   * @param path - the election path, shared by every participant (created as container nodes)
   * @param options - see {@link LeaderLatchOptions}
   * @throws `InvalidPathError` for a bad path or the root, `InvalidArgumentError` for a missing
   *   client or a bad id, `DataTooLargeError` for an id larger than the client's `maxDataBytes`
   */
  constructor(client: ZkClient, path: string, options: LeaderLatchOptions = {}) {
    super();
    const id = checkElectionArgs(client, path, options.id);
    this.path = path;
    this.id = id;
    this.#client = client;
    this.#candidate = new Candidate(client, path, 'latch-', id);
  }

  /** `latent` until `start()`, `started` until `close()`, then `closed`. */
  get state(): LeaderLatchState {
    return this.#state;
  }

  /** Whether this participant leads right now: a term is held and its signal has not aborted. */
  get hasLeadership(): boolean {
    return this.#term?.live ?? false;
  }

  /** The current term while this participant leads, else `undefined`. */
  get term(): LeadershipTerm | undefined {
    const term = this.#term;
    return term?.live ? term.value : undefined;
  }

  /**
   * Full path of this participant's election node, or `undefined` while it has none (before
   * joining, between a session loss and re-entering, after `close()`). Read locally.
   */
  get nodePath(): string | undefined {
    return this.#state === 'closed' ? undefined : this.#candidate.nodePath;
  }

  /**
   * Joins the election. Resolves once this participant's node exists and its place in line has
   * been read, so `hasLeadership` is accurate (and `elected` already emitted if it leads). Waits
   * for the client to connect if it is not connected yet.
   *
   * @throws {@link ElectionStateError} when called twice; the signal's reason on abort, a
   *   `ZkTimeoutError` (`name` `'TimeoutError'`) on timeout, or a server error such as `NoAuthError` on the first attempt —
   *   in every failure case the latch is closed.
   */
  start(options: WaitOptions = {}): Promise<void> {
    // Options are checked before the campaign starts: after it, a bad one would leave our node.
    const signal = waitSignal(`LeaderLatch ${this.path}: not in line`, options);
    if (this.#state !== 'latent') {
      return Promise.reject(
        new ElectionStateError(this.path, `cannot start a latch that is ${this.#state}`),
      );
    }
    this.#state = 'started';
    const ready = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    this.#candidate.attach();
    this.#campaign = this.#run();
    return endWhenSettled(raceSignal(ready, signal), signal, options).catch(
      async (error: unknown) => {
        await this.close();
        throw error;
      },
    );
  }

  /**
   * Resolves with the current term as soon as this participant leads (at once if it does).
   *
   * @throws {@link ElectionClosedError} when the latch is or gets closed; the signal's reason on
   *   abort; a `ZkTimeoutError` (`name` `'TimeoutError'`; "LeaderLatch /e: not leader within
   *   5000 ms") on timeout — with `timeout: 0` at once unless this participant leads
   * @example
   * ```ts
   * const term = await latch.awaitLeadership({ timeout: 30_000 });
   * await migrate({ signal: term.signal });
   * ```
   */
  awaitLeadership(options: WaitOptions = {}): Promise<LeadershipTerm> {
    // Looks before it waits: with `timeout: 0` a leader gets its term, anyone else the timeout.
    const signal = waitSignal(`LeaderLatch ${this.path}: not leader`, options);
    if (this.#state === 'closed') return Promise.reject(new ElectionClosedError(this.path));
    const current = this.term;
    if (current) return Promise.resolve(current);
    let entry!: { resolve: (term: LeadershipTerm) => void; reject: (error: unknown) => void };
    const promise = new Promise<LeadershipTerm>((resolve, reject) => {
      entry = { resolve, reject };
    });
    this.#awaiting.add(entry);
    return endWhenSettled(raceSignal(promise, signal), signal, options).finally(() =>
      this.#awaiting.delete(entry),
    );
  }

  /**
   * The current leader's id, read from the server (also without `start()`), or `null` when
   * nobody takes part. Like Curator, the leader is the first node in order whose data can be
   * read.
   */
  async leader(options: { signal?: AbortSignal } = {}): Promise<string | null> {
    return (await readLeader(this.#client, this.path, 'latch-', options.signal))?.id ?? null;
  }

  /** Every participant, in election order, read from the server (`1 + n` requests). */
  participants(options: { signal?: AbortSignal } = {}): Promise<Participant[]> {
    return readParticipants(this.#client, this.path, 'latch-', options.signal);
  }

  /**
   * The leader now, then each time it changes (`null` while there is none): for processes that
   * do not take part but need to know the leader, e.g. to route requests to it. Needs no
   * `start()`. One watch on the leader's node, so observers wake once per leader change.
   * Re-reads after every reconnect and session loss; ends when `signal` aborts, the latch is
   * closed, or the client is closed.
   *
   * @example
   * ```ts
   * for await (const leader of new LeaderLatch(client, '/election/scheduler').observe()) {
   *   router.setUpstream(leader?.id ?? null);
   * }
   * ```
   */
  observe(options: { signal?: AbortSignal } = {}): AsyncIterable<Participant | null> {
    const stop = options.signal
      ? anySignal([options.signal, this.#stop.signal])
      : this.#stop.signal;
    return observeLeader(this.#client, this.path, 'latch-', stop);
  }

  /**
   * Leaves the election: sends the deletion of its node first (a hand-off waits for nothing
   * else), ends the term (its signal aborts before `close()` returns, so before any other code of
   * this process runs), and stops every wait and watch of the latch. The deletion is retried across reconnects until the node is gone
   * or its session is. Idempotent: later calls return the same promise. Pending `start()` and
   * `awaitLeadership()` calls reject with {@link ElectionClosedError}.
   *
   * The server keeps a watch set by the latch until it fires (the binding cannot remove
   * watches); it then reaches nobody.
   */
  close(options: LeaderLatchCloseOptions = {}): Promise<void> {
    const mode = options.mode ?? 'silent';
    if (mode !== 'silent' && mode !== 'notifyLeader') {
      throw new InvalidArgumentError(`close mode must be 'silent' or 'notifyLeader'`);
    }
    if (this.#closing) return this.#closing;
    this.#state = 'closed';
    this.#notifyOnClose = mode === 'notifyLeader';
    // The node goes first: a hand-off waits for its deletion and for nothing else we do here.
    // The term still ends before close() returns, and so before any other code of this process
    // runs; another participant can only be elected once the server has applied the delete.
    const released = this.#candidate.release();
    sendNow(this.#client);
    this.#term?.revoke('closed');
    const error = new ElectionClosedError(this.path);
    this.#stop.abort(error);
    this.#candidate.detach();
    this.#ready?.reject(error);
    for (const entry of this.#awaiting) entry.reject(error);
    this.#awaiting.clear();
    this.#closing = (async () => {
      await Promise.all([this.#campaign, released]);
      // A create the loop had in flight may have landed meanwhile.
      await this.#candidate.release();
    })();
    return this.#closing;
  }

  /** Same as `close()` (silent); enables `await using latch = …`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    const hooks = {
      joined: () => {
        this.#ready?.resolve();
        this.#ready = undefined;
      },
      failed: (error: unknown) => {
        if (this.#ready) {
          // The first attempt failed: start() rejects and closes the latch.
          this.#ready.reject(error);
          this.#ready = undefined;
        } else {
          this.emit('error', error);
        }
      },
    };
    try {
      for (;;) {
        const win: Win = await this.#candidate.campaign(stop, hooks);
        try {
          this.#elect(win.term);
          await this.#candidate.hold(win.term, win.scope.signal);
        } finally {
          win.scope.done();
        }
      }
    } catch (error) {
      // Stopped by close(), or the client closed under us: then the latch closes too.
      this.#ready?.reject(error);
      if (!stop.aborted) void this.close();
    } finally {
      this.#ready = undefined;
    }
  }

  #elect(term: ActiveTerm): void {
    if (!term.live) return;
    this.#term = term;
    term.signal.addEventListener('abort', () => this.#revoked(term), { once: true });
    this.#ready?.resolve();
    this.#ready = undefined;
    if (electedChannel.hasSubscribers) electedChannel.publish(message(this.path, term.value));
    this.emit('elected', term.value);
    if (!term.live) return;
    for (const entry of this.#awaiting) entry.resolve(term.value);
    this.#awaiting.clear();
  }

  #revoked(term: ActiveTerm): void {
    if (this.#term === term) this.#term = undefined;
    if (revokedChannel.hasSubscribers) revokedChannel.publish(message(this.path, term.value));
    if (this.#state === 'closed' && !this.#notifyOnClose) return;
    // The abort may come from inside the client's state machine: tell listeners a moment later.
    queueMicrotask(() =>
      this.emit('revoked', term.value, term.signal.reason as LeadershipLostError),
    );
  }
}

function message(path: string, term: LeadershipTerm): ElectionMessage {
  return { path, participantId: term.participantId, fencingToken: term.fencingToken };
}
