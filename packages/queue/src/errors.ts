/**
 * Errors raised by `@zkit/queue`. Invalid input is reported with `@zkit/core`'s own
 * `InvalidPathError` and `InvalidArgumentError`.
 *
 * @module
 */
import { ZkError } from '@zkit/core';

/**
 * A `put` found the queue holding `maxItems` children or more. Code `'QUEUE_FULL'`.
 *
 * The bound is checked with one `exists` before the create, so producers racing each other can
 * overshoot it by at most their number; it is a back-pressure signal, not a hard limit.
 *
 * @example
 * ```ts
 * try {
 *   await queue.put(job);
 * } catch (error) {
 *   if (error instanceof QueueFullError) await backOff();
 *   else throw error;
 * }
 * ```
 */
export class QueueFullError extends ZkError {
  /** The configured bound. */
  readonly maxItems: number;

  constructor(path: string, maxItems: number) {
    super('QUEUE_FULL', 0, `queue full (maxItems ${maxItems})`, { path });
    this.maxItems = maxItems;
  }
}

/**
 * An item node whose data cannot be read: bad framing (not Curator's item format) or a payload
 * the serializer rejects (bad JSON). Code `'MALFORMED_ITEM'`. Handed to the queue's `onMalformed`
 * option; the node itself is left in place and skipped, so nothing is lost.
 *
 * @example
 * ```ts
 * const queue = new Queue(client, '/jobs', {
 *   onMalformed: (error) => void client.delete(error.path!), // or move error.data elsewhere
 * });
 * ```
 */
export class MalformedItemError extends ZkError {
  /** The node's raw data. */
  readonly data: Buffer;

  constructor(path: string, data: Buffer, message: string, cause?: unknown) {
    super('MALFORMED_ITEM', 0, `malformed queue item (${message})`, { path, cause });
    this.data = data;
  }
}

/**
 * The queue object was closed: `put`, `take` and `consume` reject with it, and it is the reason
 * of the signal that ends running consumers. Code `'QUEUE_CLOSED'`.
 *
 * @example
 * ```ts
 * await queue.close();
 * await queue.take().catch((e) => e instanceof QueueClosedError); // true
 * ```
 */
export class QueueClosedError extends ZkError {
  constructor(path: string) {
    super('QUEUE_CLOSED', 0, 'queue closed', { path });
  }
}
