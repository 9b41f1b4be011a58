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

/**
 * `take` or `drain` read an item and sent the delete that makes an item theirs, but cannot know
 * whether that delete removed it. Code `'TAKE_OUTCOME_UNKNOWN'`; `path` is the item node,
 * `cause` the core error that left the doubt (usually `@zkit/core`'s `UnknownOutcomeError`).
 *
 * It happens when the connection drops with the delete in flight and the node is gone
 * afterwards: either this delete removed it (the item is ours) or another taker did (the item
 * is theirs), and nothing ZooKeeper keeps tells which. Rather than hand out an item that may
 * also be handed to someone else, or drop one that may be nobody's, the item is given to the
 * caller with this error: its `values` are the item(s) the node held. Process them only if the
 * processing is idempotent (or deduplicated by the item's content), or record them for a human.
 * The node is gone either way: no other `take` will return it from this node again.
 *
 * @example
 * ```ts
 * try {
 *   await handle(await queue.take());
 * } catch (error) {
 *   if (error instanceof TakeOutcomeUnknownError) {
 *     for (const job of error.values) await handleIdempotently(job);
 *   } else throw error;
 * }
 * ```
 */
export class TakeOutcomeUnknownError<T = unknown> extends ZkError {
  /** The item node's name, e.g. `queue-0000000042`. */
  readonly node: string;
  /** The item(s) the node held, in order: one, or several for a node put with `putMany`. */
  readonly values: readonly T[];

  constructor(path: string, node: string, values: readonly T[], cause: unknown) {
    super('TAKE_OUTCOME_UNKNOWN', 0, 'whether this take removed the item is unknown', {
      path,
      cause,
    });
    this.node = node;
    this.values = values;
  }
}

/**
 * A `put` sent its create, lost the reply, and cannot find out whether the item was queued.
 * Code `'PUT_OUTCOME_UNKNOWN'`; `path` is the queue, `cause` the error that cut the reply off.
 *
 * After a lost reply, `put` looks for the node it created (each node carries a random mark
 * after Curator's item framing, which Curator's reader and zkit's ignore). Found: `put`
 * resolves with its path. Not found, and the queue's children show that nothing was removed
 * since the create was sent: the item was not queued, and the create is sent again. Not found,
 * but items were removed meanwhile (or the queue could not be read): a consumer may already
 * have taken this one, and putting it again could queue it twice; `put` rejects with this error
 * rather than guess. Put it again only if a duplicate is harmless.
 *
 * @example
 * ```ts
 * try {
 *   await queue.put(job);
 * } catch (error) {
 *   if (error instanceof PutOutcomeUnknownError) await recordForReview(job);
 *   else throw error;
 * }
 * ```
 */
export class PutOutcomeUnknownError extends ZkError {
  constructor(path: string, cause: unknown) {
    super('PUT_OUTCOME_UNKNOWN', 0, 'whether this put queued the item is unknown', {
      path,
      cause,
    });
  }
}
