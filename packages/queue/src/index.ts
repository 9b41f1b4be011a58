/**
 * `@zkit/queue` — a distributed work queue on ZooKeeper: {@link Queue} with FIFO and priority
 * items, at-most-once `take` and at-least-once `consume`; {@link DelayQueue}, whose items become
 * visible at a due time; {@link IdQueue}, whose items can be withdrawn by id. The znode layouts
 * and item framing are Apache Curator's queues', so Java and Node services can share a queue.
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
export { Queue } from './queue.js';
export type { ConsumeOptions, Message, PutOptions, QueueOptions } from './queue.js';
export { DelayQueue } from './delay-queue.js';
export type { DelayPutOptions } from './delay-queue.js';
export { IdQueue } from './id-queue.js';
export type { IdPutOptions } from './id-queue.js';
export { bytesSerializer, jsonSerializer, stringSerializer } from './serializer.js';
export type { Serializer } from './serializer.js';
export {
  MalformedItemError,
  PutOutcomeUnknownError,
  QueueClosedError,
  QueueFullError,
  TakeOutcomeUnknownError,
} from './errors.js';
export { inspectQueue } from './inspect.js';
export { looksLikeQueue } from './recognize.js';
export type {
  InspectQueueOptions,
  InspectedClaim,
  InspectedItem,
  QueueInspection,
} from './inspect.js';
