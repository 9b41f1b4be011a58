import { InvalidArgumentError } from '@zkit/core';
import type { ZkClient } from '@zkit/core';
import { delayLayout, delayName } from './layout.js';
import { LAYOUT, putNamed, Queue } from './queue.js';
import type { QueueOptions } from './queue.js';

/** Options of {@link DelayQueue.put} and {@link DelayQueue.putMany}: when the item is due. */
export interface DelayPutOptions {
  /**
   * When the item becomes visible to consumers: epoch milliseconds or a `Date`. Give this or
   * `delay`.
   */
  readonly until?: number | Date;
  /** Milliseconds from now (this process's clock) until the item becomes visible. */
  readonly delay?: number;
  /** Aborts the put before it is sent (a create already sent may still land). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A queue whose items become visible at a due time, laid out as Apache Curator's
 * `DistributedDelayQueue`: each item is a persistent-sequential node `P/queue-|<due>|<seq>`, the
 * due time in epoch milliseconds as upper-case hex (at least 8 digits), holding Curator's item
 * framing. Curator producers feed zkit consumers and the other way round.
 *
 * Consumption is {@link Queue}'s (`take`, `consume`, `peek`, `drain`), restricted to items
 * whose due time has come, earliest due first; `size` counts every item, due or not. A consumer with nothing due does not poll:
 * it waits on a child watch and a timer to the earliest due time, whichever fires first.
 *
 * Clocks: the due time is a wall-clock timestamp written by the producer and compared with the
 * consumer's clock (`Date.now()`), as Curator does. Skew between machines shifts delivery by the
 * same amount: an item is never delivered before its due time by the consumer's clock, and may
 * come that much later or earlier by the producer's. A consumer whose clock jumps forward
 * delivers early; keep clocks synchronised (NTP) and delays well above the skew.
 *
 * Connection states, sizing, `put`'s lost-reply handling and errors are those of {@link Queue}.
 * Do not mix plain, priority or id items into a delay queue: their names carry no due time and
 * would be due at once.
 *
 * @example
 * ```ts
 * const reminders = new DelayQueue<{ user: string }>(client, '/reminders');
 * await reminders.put({ user: 'ada' }, { delay: 60_000 }); // visible in a minute
 * const next = await reminders.take({ timeout: 120_000 });
 * ```
 */
export class DelayQueue<T = unknown> extends Queue<T> {
  /**
   * @throws as {@link Queue}'s constructor
   */
  constructor(client: ZkClient, path: string, options: QueueOptions<T> = {}) {
    super(client, path, { ...options, [LAYOUT]: delayLayout } as QueueOptions<T>);
  }

  /**
   * Adds one item, visible to consumers from its due time on. Resolves with the item node's
   * path once the server has it. Requests, retries and the lost-reply handling are those of
   * {@link Queue.put}.
   *
   * @throws `InvalidArgumentError` (no due time, both `until` and `delay`, a due time before
   *   the epoch or not a finite number, an item the serializer refuses) and `DataTooLargeError`
   *   before any request; otherwise as {@link Queue.put}
   * @example
   * ```ts
   * await reminders.put({ user: 'ada' }, { until: new Date('2030-01-01T09:00:00Z') });
   * ```
   */
  override put(item: T, options: DelayPutOptions): Promise<string> {
    return this.putMany([item], options);
  }

  /**
   * Adds several items as one node (Curator's `putMulti`), all due at the same time; a consumer
   * receives them together, in order.
   *
   * @throws as {@link DelayQueue.put}; `InvalidArgumentError` for an empty list
   * @example
   * ```ts
   * await reminders.putMany([{ user: 'ada' }, { user: 'alan' }], { delay: 5_000 });
   * ```
   */
  override putMany(items: readonly T[], options: DelayPutOptions): Promise<string> {
    return putNamed(this, delayName(dueTime(options)), items, options?.signal);
  }
}

/** The due time of `options` in epoch ms. */
function dueTime(options: DelayPutOptions | undefined): number {
  const { until, delay } = options ?? {};
  if ((until === undefined) === (delay === undefined)) {
    throw new InvalidArgumentError('give exactly one of until and delay');
  }
  let due: number;
  if (delay !== undefined) {
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
      throw new InvalidArgumentError('delay must be a finite number of ms ≥ 0');
    }
    due = Date.now() + delay;
  } else if (until instanceof Date) {
    due = until.getTime();
  } else {
    due = until as number;
  }
  if (typeof due !== 'number' || !Number.isFinite(due) || due < 0) {
    throw new InvalidArgumentError('until must be a Date or epoch ms ≥ 0');
  }
  return Math.floor(due);
}
