/**
 * `@zkit/barrier` — barriers on ZooKeeper: {@link Barrier} holds waiters back until it is
 * lowered, {@link DoubleBarrier} lets a batch of members start together and finish together.
 * The znode layouts and the leave protocol are Apache Curator's, so Java and Node processes can
 * share a barrier.
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
export { Barrier } from './barrier.js';
export type { BarrierWaitOptions } from './barrier.js';
export { DoubleBarrier } from './double-barrier.js';
export type { DoubleBarrierOptions, DoubleBarrierState } from './double-barrier.js';
export { BarrierFullError, BarrierStateError } from './errors.js';
export { inspectBarrier } from './inspect.js';
export type { BarrierInspection, InspectedMember } from './inspect.js';
export { looksLikeDoubleBarrier } from './recognize.js';
