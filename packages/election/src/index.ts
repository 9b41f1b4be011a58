/**
 * `@zkit/election` — leader election on ZooKeeper: {@link LeaderLatch} (lead until you leave) and
 * {@link LeaderSelector} (lead while a function runs), in Apache Curator's znode layouts, with
 * fencing tokens and terms that report their own loss.
 *
 * @packageDocumentation
 */
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
