/**
 * Errors raised by `@zkit/barrier`. Invalid input is reported with `@zkit/core`'s own
 * `InvalidPathError` and `InvalidArgumentError`.
 *
 * @module
 */
import { ZkError } from '@zkit/core';

/**
 * A {@link DoubleBarrier} already has its `members` participants (or is past its entry, with the
 * `ready` node up), so this one was not admitted. Its member node was not created, or was removed
 * again before the error surfaced. Code `'BARRIER_FULL'`.
 *
 * @example
 * ```ts
 * try {
 *   await barrier.enter({ timeout: 30_000 });
 * } catch (error) {
 *   if (error instanceof BarrierFullError) log.warn(`${error.path} already has ${error.members}`);
 *   else throw error;
 * }
 * ```
 */
export class BarrierFullError extends ZkError {
  /** The number of members the barrier admits. */
  readonly members: number;

  constructor(path: string, members: number) {
    super('BARRIER_FULL', 0, `the double barrier already has its ${members} members`, { path });
    this.members = members;
  }
}

/**
 * A {@link DoubleBarrier} call that does not fit its state: `enter()` while entering or entered,
 * `leave()` before entering or while another call is running. Code `'BARRIER_STATE'`.
 *
 * @example
 * ```ts
 * await barrier.enter();
 * await barrier.enter(); // rejects with BarrierStateError
 * ```
 */
export class BarrierStateError extends ZkError {
  constructor(path: string, message: string) {
    super('BARRIER_STATE', 0, message, { path });
  }
}
