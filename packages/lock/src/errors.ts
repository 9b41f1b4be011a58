/**
 * Errors raised by `@zkit/lock`. Invalid input is reported with `@zkit/core`'s own
 * `InvalidPathError` and `InvalidArgumentError`; a lost lease with {@link LockLostError}.
 *
 * @module
 */
import { ZkError } from '@zkit/core';

/**
 * Why a lease stopped being safe to rely on:
 * - `'session'` — the client's error policy fired (the connection is suspended under the default
 *   policy, or the session is lost), the session changed, or the client was closed. `cause`
 *   holds the client's reason (`ConnectionLossError`, `SessionExpiredError`, `ClientClosedError`).
 * - `'deleted'` — the lease's node was deleted by someone other than this lease.
 */
export type LockLostReason = 'session' | 'deleted';

/**
 * The reason a {@link Lease.signal} aborts with: ownership of the lock can no longer be
 * guaranteed. Stop writing to whatever the lock protects; the fencing token lets the storage
 * reject writes that still arrive. Code `'LOCK_LOST'`.
 *
 * @example
 * ```ts
 * const lease = await mutex.acquire();
 * lease.signal.addEventListener('abort', () => {
 *   const error = lease.signal.reason as LockLostError;
 *   log.warn(`lost ${error.path}: ${error.reason}`);
 * });
 * ```
 */
export class LockLostError extends ZkError {
  /** What made the lease unsafe. */
  readonly reason: LockLostReason;

  constructor(path: string, reason: LockLostReason, cause?: unknown) {
    super(
      'LOCK_LOST',
      0,
      reason === 'deleted'
        ? 'lock lost: the lease node was deleted'
        : 'lock lost: the session can no longer be trusted',
      { path, cause },
    );
    this.reason = reason;
  }
}

/**
 * The reason {@link Lease.revocationRequested} aborts with: someone asked the holder to give the
 * lock up. The lease is still held; release it when the work allows. Code
 * `'REVOCATION_REQUESTED'`.
 *
 * @example
 * ```ts
 * const lease = await mutex.acquire();
 * lease.revocationRequested.addEventListener('abort', () => {
 *   void finishSoon().then(() => lease.release());
 * });
 * ```
 */
export class RevocationRequestedError extends ZkError {
  constructor(path: string) {
    super('REVOCATION_REQUESTED', 0, 'the holder was asked to give the lock up', { path });
  }
}
