import { SessionExpiredError, type ConnectionState, type ZkClient } from '@zkit/core';
import { LeadershipLostError, type LeadershipLostReason } from './errors.js';

/**
 * One leadership term: the period during which one participant may act as the leader. A value,
 * handed to `elected` listeners of a {@link LeaderLatch} and to the function given to
 * {@link LeaderSelector.run}; it is never reused for a later term.
 *
 * @example
 * ```ts
 * latch.on('elected', (term) => {
 *   void runScheduler({ signal: term.signal, fencingToken: term.fencingToken });
 * });
 * ```
 */
export interface LeadershipTerm {
  /** The id of the participant that holds this term (the latch's or selector's `id`). */
  readonly participantId: string;
  /**
   * A ZooKeeper zxid that is strictly greater than the token of every earlier term on the same
   * election path, whoever held it: the election node's parent `pzxid` read when this
   * participant found itself first (the previous leader's node removal happened before that read).
   * Pass it to the systems the leader writes to, so they can reject a deposed leader's writes
   * that arrive late.
   */
  readonly fencingToken: bigint;
  /**
   * Aborts with a {@link LeadershipLostError} when leadership can no longer be assumed: the
   * client's error policy fired (under the default policy: as soon as the connection is
   * suspended), the session was lost or the client closed, the election node was deleted or is
   * no longer owned by the current session, or the participant was closed. Once aborted, it
   * stays aborted; a later election starts a new term with a new signal.
   */
  readonly signal: AbortSignal;
  /** Full path of this participant's election node during the term. */
  readonly path: string;
}

/**
 * The mutable side of a term: only the recipe that granted it can end it.
 *
 * @internal
 */
export class ActiveTerm {
  readonly value: LeadershipTerm;
  readonly #controller = new AbortController();
  readonly #client: ZkClient;
  readonly #electionPath: string;
  readonly #session: string | undefined;
  #sessionSignal: AbortSignal;

  constructor(
    client: ZkClient,
    electionPath: string,
    nodePath: string,
    participantId: string,
    fencingToken: bigint,
  ) {
    this.#client = client;
    this.#electionPath = electionPath;
    this.#session = client.sessionId;
    this.value = Object.freeze({
      participantId,
      fencingToken,
      signal: this.#controller.signal,
      path: nodePath,
    });
    this.#sessionSignal = client.sessionSignal();
    this.#sessionSignal.addEventListener('abort', this.#onSessionAbort, { once: true });
    client.on('state', this.#onState);
    if (this.#sessionSignal.aborted) this.#onSessionAbort();
  }

  /** Whether the term's signal has not aborted yet. */
  get live(): boolean {
    return !this.#controller.signal.aborted;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Ends the term (aborts its signal) unless it has ended already. */
  revoke(reason: LeadershipLostReason, cause?: unknown): void {
    if (!this.live) return;
    this.#sessionSignal.removeEventListener('abort', this.#onSessionAbort);
    this.#client.off('state', this.#onState);
    this.#controller.abort(new LeadershipLostError(this.#electionPath, reason, cause));
  }

  readonly #onSessionAbort = (): void => {
    this.revoke('session', this.#sessionSignal.reason);
  };

  // The client's session signal follows its error policy. Under the 'lost' policy a suspension
  // does not abort it, but the reconnect replaces it with a fresh one and the one we hold never
  // aborts again; so the term also follows the states itself and moves to the new signal.
  readonly #onState = (now: ConnectionState): void => {
    const client = this.#client;
    if (now === 'lost' || now === 'closed') {
      this.revoke('session', client.sessionSignal().reason);
    } else if (now === 'reconnected') {
      if (client.sessionId !== this.#session) {
        this.revoke('session', new SessionExpiredError());
        return;
      }
      this.#sessionSignal.removeEventListener('abort', this.#onSessionAbort);
      this.#sessionSignal = client.sessionSignal();
      this.#sessionSignal.addEventListener('abort', this.#onSessionAbort, { once: true });
      if (this.#sessionSignal.aborted) this.#onSessionAbort();
    }
  };
}
