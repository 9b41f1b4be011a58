/**
 * Errors raised by `@zkit/group`. Invalid input is reported with `@zkit/core`'s own
 * `InvalidPathError` and `InvalidArgumentError`.
 *
 * @module
 */
import { ZkError } from '@zkit/core';

/**
 * The recipe was closed: waits on it reject with this error. Code `'GROUP_CLOSED'`.
 *
 * @example
 * ```ts
 * await partitioner.whenAcquired().catch((e) => { if (!(e instanceof GroupClosedError)) throw e; });
 * ```
 */
export class GroupClosedError extends ZkError {
  constructor(path: string) {
    super('GROUP_CLOSED', 0, 'closed', { path });
  }
}

/**
 * A `SetPartitioner` met an error that waiting does not fix (e.g. `NoAuthError`): it left
 * the party and is in the `failure` state. The original error is the `cause`. Code
 * `'PARTITION_FAILED'`.
 *
 * @example
 * ```ts
 * partitioner.on('state', (now) => { if (now === 'failure') log.error(partitioner.failure); });
 * ```
 */
export class PartitionFailedError extends ZkError {
  constructor(path: string, cause: unknown) {
    super('PARTITION_FAILED', 0, 'the partitioner failed', { path, cause });
  }
}
