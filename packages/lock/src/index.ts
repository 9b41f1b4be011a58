/**
 * `@zkit/lock` — distributed locks on ZooKeeper: {@link Mutex}, {@link ReadWriteLock} and
 * {@link Semaphore}, with fencing tokens and leases that report their own loss. The znode
 * layouts are Apache Curator's, so Java and Node services can share a lock.
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
export { Mutex } from './mutex.js';
export type { MutexAcquireOptions, MutexOptions } from './mutex.js';
export { ReadWriteLock } from './read-write-lock.js';
export type { ReadWriteLockOptions } from './read-write-lock.js';
export { MultiLock } from './multi-lock.js';
export type { MultiLease } from './multi-lock.js';
export { Semaphore } from './semaphore.js';
export type { SemaphoreOptions } from './semaphore.js';
export type {
  AcquireOptions,
  Lease,
  Lock,
  LockMessage,
  Participant,
  TryAcquireOptions,
} from './lease.js';
export { LockLostError, RevocationRequestedError } from './errors.js';
export type { LockLostReason } from './errors.js';
export { MultiPeriodLease, PeriodLease } from './period-lease.js';
export type { PeriodGrant, PeriodLeaseOptions } from './period-lease.js';
export { detectLockKind, inspectLock, inspectReadWriteLock, inspectSemaphore } from './inspect.js';
export type {
  FencingTokenBounds,
  InspectSemaphoreOptions,
  InspectedLease,
  InspectedNode,
  InspectedReadWriteNode,
  LockInspection,
  LockKind,
  ReadWriteLockInspection,
  SemaphoreInspection,
} from './inspect.js';
export { looksLikeLock } from './recognize.js';
