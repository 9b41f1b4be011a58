/**
 * `@zkit/barrier` — barriers on ZooKeeper: {@link Barrier} holds waiters back until it is
 * lowered, {@link DoubleBarrier} lets a batch of members start together and finish together.
 * The znode layouts and the leave protocol are Apache Curator's, so Java and Node processes can
 * share a barrier.
 *
 * @packageDocumentation
 */
export { Barrier } from './barrier.js';
export type { BarrierWaitOptions } from './barrier.js';
export { DoubleBarrier } from './double-barrier.js';
export type { DoubleBarrierOptions, DoubleBarrierState } from './double-barrier.js';
export { BarrierFullError, BarrierStateError } from './errors.js';
