/**
 * `@zkit/lock` — distributed locks on ZooKeeper: {@link Mutex}, {@link ReadWriteLock} and
 * {@link Semaphore}, with fencing tokens and leases that report their own loss. The znode
 * layouts are Apache Curator's, so Java and Node services can share a lock.
 *
 * @packageDocumentation
 */
export { Mutex } from './mutex.js';
export type { MutexOptions } from './mutex.js';
export { ReadWriteLock } from './read-write-lock.js';
export type { ReadWriteLockOptions } from './read-write-lock.js';
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
export { LockLostError } from './errors.js';
export type { LockLostReason } from './errors.js';
