/**
 * `@zkit/queue` — a distributed work queue on ZooKeeper: {@link Queue} with FIFO and priority
 * items, at-most-once `take` and at-least-once `consume`. The znode layout and item framing are
 * Apache Curator's `DistributedQueue`, so Java and Node services can share a queue.
 *
 * @packageDocumentation
 */
export { Queue } from './queue.js';
export type { ConsumeOptions, Message, PutOptions, QueueOptions } from './queue.js';
export { bytesSerializer, jsonSerializer, stringSerializer } from './serializer.js';
export type { Serializer } from './serializer.js';
export {
  MalformedItemError,
  QueueClosedError,
  QueueFullError,
  TakeOutcomeUnknownError,
} from './errors.js';
