/**
 * Errors raised by `@zkit/counter`. Invalid input is reported with `@zkit/core`'s own
 * `InvalidPathError` and `InvalidArgumentError`.
 *
 * @module
 */
import { ZkError } from '@zkit/core';

/**
 * A counter's node holds data that is not a counter of the expected layout: not 4 bytes for a
 * {@link SharedCount}, not 0 or 8 bytes for an {@link AtomicLong}. Nothing was written. Code
 * `'COUNTER_DATA'`.
 *
 * @example
 * ```ts
 * try {
 *   await counter.increment();
 * } catch (err) {
 *   if (err instanceof CounterDataError) log.error(`${err.path} holds ${err.data.length} bytes`);
 *   else throw err;
 * }
 * ```
 */
export class CounterDataError extends ZkError {
  /** The bytes found in the node. */
  readonly data: Buffer;

  constructor(path: string, data: Buffer, expected: string) {
    super('COUNTER_DATA', 0, `counter data is ${data.length} bytes, expected ${expected}`, {
      path,
    });
    this.data = data;
  }
}

/**
 * An {@link AtomicLong} operation cannot know whether it changed the counter: its write was sent
 * and its reply lost (the connection dropped, the session expired, or the client closed while it
 * was in flight), and what the server holds now does not tell. The change was applied once or
 * not at all — never twice. Code `'UNKNOWN_OUTCOME'`; `cause` is the error that lost the reply.
 *
 * Read the counter to find where it stands; do not repeat the change blindly, or it may count
 * twice.
 *
 * @example
 * ```ts
 * try {
 *   const { succeeded } = await hits.increment();
 * } catch (err) {
 *   if (err instanceof AtomicOutcomeUnknownError) {
 *     metrics.count('maybe-counted'); // err.preValue → err.postValue, perhaps
 *   } else throw err;
 * }
 * ```
 */
export class AtomicOutcomeUnknownError extends ZkError {
  /** The value the operation read and based its write on. */
  readonly preValue: bigint;
  /** The value it tried to write. */
  readonly postValue: bigint;

  constructor(path: string, preValue: bigint, postValue: bigint, cause: unknown) {
    super(
      'UNKNOWN_OUTCOME',
      0,
      `whether ${preValue} → ${postValue} was written is unknown (its reply was lost)`,
      { path, cause },
    );
    this.preValue = preValue;
    this.postValue = postValue;
  }
}

/**
 * A {@link SharedCount} was used in the wrong state: started twice, or written before `start()`
 * or after `close()`. Thrown before any request. Code `'COUNTER_STATE'`.
 *
 * @example
 * ```ts
 * const count = new SharedCount(client, '/counts/jobs');
 * try {
 *   count.set(1); // throws at once: not started
 * } catch (err) {
 *   if (!(err instanceof CounterStateError)) throw err;
 *   await count.start();
 * }
 * ```
 */
export class CounterStateError extends ZkError {
  constructor(path: string, message: string) {
    super('COUNTER_STATE', 0, message, { path });
  }
}
