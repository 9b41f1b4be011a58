import { join, NoNodeError } from '@zkit/core';
import type { ZkClient } from '@zkit/core';
import { idLayout, idName, idOf, storedId } from './layout.js';
import { clientOf, LAYOUT, putNamed, Queue } from './queue.js';
import type { QueueOptions } from './queue.js';

/** Options of {@link IdQueue.put} and {@link IdQueue.putMany}. */
export interface IdPutOptions {
  /**
   * The item's id, any non-empty string; several items may share one. Stored in the node name
   * with `/` and `|` replaced by `_` (as Curator does), so ids differing only there are one id.
   */
  readonly id: string;
  /** Aborts the put before it is sent (a create already sent may still land). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A FIFO queue whose items carry an id, so that queued items can be withdrawn by id; laid out
 * as Apache Curator's `DistributedIdQueue`: each item is a persistent-sequential node
 * `P/queue-|<id>|<seq>` holding Curator's item framing, consumed in put order whatever the id.
 * Curator producers feed zkit consumers and the other way round, and either side can remove
 * the other's items by id.
 *
 * Consumption is {@link Queue}'s (`take`, `consume`, `peek`, `drain`, `size`); connection
 * states, sizing, `put`'s lost-reply handling and errors are those of {@link Queue}. Do not mix
 * plain, priority or delayed items into an id queue.
 *
 * @example
 * ```ts
 * const jobs = new IdQueue<{ url: string }>(client, '/crawl');
 * await jobs.put({ url: 'https://example.com' }, { id: 'example' });
 * await jobs.remove('example'); // 1: withdrawn before anyone took it
 * ```
 */
export class IdQueue<T = unknown> extends Queue<T> {
  /**
   * @throws as {@link Queue}'s constructor
   */
  constructor(client: ZkClient, path: string, options: QueueOptions<T> = {}) {
    super(client, path, { ...options, [LAYOUT]: idLayout } as QueueOptions<T>);
  }

  /**
   * Adds one item with an id. Resolves with the item node's path once the server has it.
   * Requests, retries and the lost-reply handling are those of {@link Queue.put}.
   *
   * @throws `InvalidArgumentError` (no id or an empty one, an item the serializer refuses) and
   *   `DataTooLargeError` before any request; otherwise as {@link Queue.put}
   * @example
   * ```ts
   * await jobs.put({ url: 'https://example.org' }, { id: 'org' });
   * ```
   */
  override put(item: T, options: IdPutOptions): Promise<string> {
    return this.putMany([item], options);
  }

  /**
   * Adds several items as one node with one id (Curator's `putMulti`); a consumer receives them
   * together, in order, and `remove` withdraws them together.
   *
   * @throws as {@link IdQueue.put}; `InvalidArgumentError` for an empty list
   * @example
   * ```ts
   * await jobs.putMany([{ url: 'https://a.example' }, { url: 'https://b.example' }], { id: 'ab' });
   * ```
   */
  override putMany(items: readonly T[], options: IdPutOptions): Promise<string> {
    return putNamed(this, idName(options?.id), items, options?.signal);
  }

  /**
   * Removes every queued item node with this id and resolves with how many this call removed.
   * One listing, then one delete per matching node. Items claimed by a running `consume()` are
   * removed too (their ack then finds nothing to delete); a node taken or removed by someone
   * else meanwhile is not counted, nor is one whose delete was cut off by a connection drop and
   * which is gone afterwards (who removed it cannot be known).
   *
   * @throws `InvalidArgumentError` for an id that is not a non-empty string, before any
   *   request; connection errors when retries run out
   * @example
   * ```ts
   * const withdrawn = await jobs.remove('example');
   * ```
   */
  async remove(id: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    idName(id);
    const wanted = storedId(id);
    const client = clientOf(this as Queue<unknown>);
    let children: string[];
    try {
      children = await client.getChildren(this.path, options);
    } catch (error) {
      if (error instanceof NoNodeError) return 0;
      throw error;
    }
    let removed = 0;
    for (const name of children) {
      if (idOf(name)?.id !== wanted) continue;
      try {
        await client.delete(join(this.path, name), options);
        removed += 1;
      } catch (error) {
        // Gone already, or gone with its remover unknown (UnknownOutcomeError is a NoNodeError).
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
    return removed;
  }
}
