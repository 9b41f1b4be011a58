/**
 * Errors raised by `@zkit/election`. Invalid input is reported with `@zkit/core`'s own
 * `InvalidPathError` and `InvalidArgumentError`; errors from the server keep their core classes.
 *
 * @module
 */
import { ZkError } from '@zkit/core';

/**
 * Why a leadership term ended (the `reason` of {@link LeadershipLostError}):
 * - `'session'` — the client's error policy fired (connection suspended under the default
 *   policy, or session lost), or the client was closed. `cause` holds the client's reason
 *   (`ConnectionLossError`, `SessionExpiredError`, `ClientClosedError`).
 * - `'deleted'` — our election node was deleted, or is no longer owned by the current session,
 *   or no longer sorts first (someone removed the election path or tampered with it).
 * - `'closed'` — the latch or selector was closed, or the selector's `run` was aborted.
 * - `'ended'` — the selector's leadership function returned or threw.
 */
export type LeadershipLostReason = 'session' | 'deleted' | 'closed' | 'ended';

/**
 * The reason a leadership term's `signal` aborts with: leadership can no longer be assumed.
 * Stop acting as the leader; the term's fencing token lets downstream systems reject writes that
 * still arrive. Code `'LEADERSHIP_LOST'`.
 *
 * @example
 * ```ts
 * latch.on('elected', (term) => {
 *   term.signal.addEventListener('abort', () => {
 *     const error = term.signal.reason as LeadershipLostError;
 *     log.warn(`stepped down (${error.reason})`);
 *   });
 * });
 * ```
 */
export class LeadershipLostError extends ZkError {
  /** What ended the term. */
  readonly reason: LeadershipLostReason;

  constructor(path: string, reason: LeadershipLostReason, cause?: unknown) {
    super('LEADERSHIP_LOST', 0, MESSAGES[reason], { path, cause });
    this.reason = reason;
  }
}

const MESSAGES: Readonly<Record<LeadershipLostReason, string>> = {
  session: 'leadership lost: the session can no longer be trusted',
  deleted: 'leadership lost: the election node is gone or no longer ours',
  closed: 'leadership ended: the election was closed',
  ended: 'leadership ended: the leadership function returned',
};

/**
 * A wait on a latch or selector ended because it was closed (by `close()`, or because its
 * client was closed). Code `'ELECTION_CLOSED'`.
 *
 * @example
 * ```ts
 * try {
 *   await latch.awaitLeadership();
 * } catch (error) {
 *   if (!(error instanceof ElectionClosedError)) throw error;
 * }
 * ```
 */
export class ElectionClosedError extends ZkError {
  constructor(path: string, cause?: unknown) {
    super('ELECTION_CLOSED', 0, 'the election participant is closed', { path, cause });
  }
}

/**
 * A call that the participant's life cycle does not allow, e.g. `start()` twice, or `run()`
 * while a run is in progress. Code `'ELECTION_STATE'`.
 *
 * @example
 * ```ts
 * await latch.start();
 * await latch.start(); // rejects with ElectionStateError
 * ```
 */
export class ElectionStateError extends ZkError {
  constructor(path: string, message: string) {
    super('ELECTION_STATE', 0, message, { path });
  }
}
