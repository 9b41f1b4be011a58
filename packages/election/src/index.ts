/**
 * `@zkit/election` — leader election on ZooKeeper: {@link LeaderLatch} (lead until you leave) and
 * {@link LeaderSelector} (lead while a function runs), in Apache Curator's znode layouts, with
 * fencing tokens and terms that report their own loss.
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
export { LeaderLatch } from './leader-latch.js';
export type {
  ElectionMessage,
  LeaderLatchCloseOptions,
  LeaderLatchEvents,
  LeaderLatchOptions,
  LeaderLatchState,
} from './leader-latch.js';
export { LeaderSelector } from './leader-selector.js';
export type {
  Leadership,
  LeaderSelectorEvents,
  LeaderSelectorOptions,
  LeaderSelectorState,
} from './leader-selector.js';
export type { LeadershipTerm } from './term.js';
export type { Participant } from './participants.js';
export { ElectionClosedError, ElectionStateError, LeadershipLostError } from './errors.js';
export type { LeadershipLostReason } from './errors.js';
export { inspectElection } from './inspect.js';
export type { ElectionInspection, InspectedParticipant } from './inspect.js';
export { looksLikeLatch } from './recognize.js';
