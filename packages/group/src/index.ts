/**
 * `@zkit/group` — group membership on ZooKeeper: {@link GroupMember} (Apache Curator's layout),
 * {@link Party} and {@link SetPartitioner} (kazoo's layouts), so Java, Python and Node members
 * see each other.
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
export { GroupMember } from './group-member.js';
export type { GroupMemberEvents } from './group-member.js';
export { Party } from './party.js';
export type { PartyOptions } from './party.js';
export { SetPartitioner, kazooPartition } from './set-partitioner.js';
export type {
  Partition,
  PartitionFunction,
  PartitionState,
  SetPartitionerEvents,
  SetPartitionerOptions,
} from './set-partitioner.js';
export { GroupClosedError, PartitionFailedError } from './errors.js';
