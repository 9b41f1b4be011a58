/**
 * `@zkit/counter` — distributed counters on ZooKeeper: {@link SharedCount}, a watched 32-bit
 * count with compare-and-set, and {@link AtomicLong}, a 64-bit counter whose every update is
 * applied exactly once or reported as unknown. The znode layouts are Apache Curator's, so Java
 * and Node services can share a counter.
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
export { SharedCount } from './shared-count.js';
export type { SharedCountEvents, SharedCountState, VersionedCount } from './shared-count.js';
export { AtomicLong } from './atomic-long.js';
export type {
  AtomicLongOptions,
  AtomicResult,
  CounterRetry,
  PromotedToLock,
} from './atomic-long.js';
export { AtomicOutcomeUnknownError, CounterDataError, CounterStateError } from './errors.js';
