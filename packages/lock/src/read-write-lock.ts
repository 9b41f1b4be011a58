import {
  combineSignals,
  defaultNodeData,
  join,
  lineKey,
  tryOnce,
  waitSignal,
  type Data,
  type ZkClient,
  endWhenSettled,
} from '@zkit/core';
import { LockDriver, checkLockArgs, type LockRules } from './driver.js';
import type { AcquireOptions, Lease, Lock, Participant, TryAcquireOptions } from './lease.js';

/** Options of {@link ReadWriteLock}. */
export interface ReadWriteLockOptions {
  /**
   * Data stored in each lease node, shown by {@link ReadWriteLock.participants} and
   * `inspectReadWriteLock`. Default: the local host's address (`defaultNodeData()` of
   * `@zkit/core`), as Apache Curator writes by default.
   */
  readonly data?: Data;
}

const READ = '__READ__';
const WRITE = '__WRIT__';

/** Readers and writers share one queue, ordered by sequence whatever their side. */
function sortKey(child: string): string {
  return lineKey(lineKey(child, READ), WRITE);
}

function isWriter(child: string): boolean {
  return child.includes(WRITE);
}

/** A writer goes when it is first; it waits for whoever is right before it. */
const writeRules: LockRules = Object.freeze({
  name: WRITE,
  sortKey,
  blocker: (sorted: readonly string[], ourIndex: number) =>
    ourIndex === 0 ? null : (sorted[ourIndex - 1] ?? null),
});

/**
 * A reader goes when no writer is ahead of it. It waits for the nearest writer ahead: when that
 * one leaves, every reader behind it re-checks together, which is the point of a read lock.
 */
const readRules: LockRules = Object.freeze({
  name: READ,
  sortKey,
  blocker: (sorted: readonly string[], ourIndex: number) => {
    for (let i = ourIndex - 1; i >= 0; i--) {
      const child = sorted[i] as string;
      if (isWriter(child)) return child;
    }
    return null;
  },
});

class Side implements Lock {
  readonly path: string;
  readonly #driver: LockDriver;
  /** How timeouts name this side: `ReadWriteLock /p (read)`. */
  readonly #name: string;

  constructor(driver: LockDriver, side: 'read' | 'write') {
    this.#driver = driver;
    this.path = driver.base;
    this.#name = `ReadWriteLock (${side})`;
  }

  acquire(options: AcquireOptions = {}): Promise<Lease> {
    const what = `${this.#name} ${this.path}: not acquired`;
    const signal = waitSignal(what, options);
    if (options.timeout === 0) return tryOnce(what, this.tryAcquire({ signal: options.signal }));
    return endWhenSettled(this.#driver.wait(signal), signal, options);
  }

  tryAcquire(options: TryAcquireOptions = {}): Promise<Lease | null> {
    return this.#driver.try(combineSignals({ signal: options.signal }));
  }
}

/**
 * A distributed read-write lock: any number of readers at once, or one writer alone, in arrival
 * order (a waiting writer holds back the readers that arrive after it, so writers cannot
 * starve). Compatible with Apache Curator's `InterProcessReadWriteLock` on the same path: nodes
 * `path/_c_<uuid>-__READ__<seq>` and `path/_c_<uuid>-__WRIT__<seq>`, ephemeral-sequential under
 * container parents, sorted by sequence across both kinds.
 *
 * Both sides are {@link Lock}s with the same behaviour as {@link Mutex}: leases carry a fencing
 * token and a signal that aborts with {@link LockLostError} when ownership can no longer be
 * guaranteed (connection suspended under the default error policy, session lost, node deleted);
 * waiters keep waiting through a suspended connection and re-queue after a lost session; timeout
 * and abort remove the waiter's node. An uncontended acquire + release is three requests.
 *
 * **Not reentrant, no upgrade or downgrade.** A process holding the write lease that asks for a
 * read lease waits behind its own writer (Curator lets the same thread through; a lease here is a
 * value, not a thread's property — see {@link Mutex}). Release one before taking the other.
 *
 * @example
 * ```ts
 * const rw = new ReadWriteLock(client, '/locks/catalog');
 * {
 *   await using lease = await rw.readLock.acquire({ timeout: 5_000 });
 *   const page = await catalog.read({ signal: lease.signal });
 * }
 * {
 *   await using lease = await rw.writeLock.acquire({ timeout: 5_000 });
 *   await catalog.rebuild({ fencingToken: lease.fencingToken, signal: lease.signal });
 * }
 * ```
 */
export class ReadWriteLock {
  /** The client the lock borrows (never closed by it). */
  readonly client: ZkClient;
  /** The lock's node; lease nodes of both sides are its children. */
  readonly path: string;
  /** Shared side: granted while no writer is ahead in the queue. */
  readonly readLock: Lock;
  /** Exclusive side: granted when first in the queue. */
  readonly writeLock: Lock;
  readonly #reads: LockDriver;

  /**
   * Local and cheap: nothing is sent until an `acquire`.
   *
   * @throws `InvalidPathError` for a malformed path or the root, `InvalidArgumentError` for a
   *   missing client or bad data
   */
  constructor(client: ZkClient, path: string, options: ReadWriteLockOptions = {}) {
    this.path = checkLockArgs(client, path, options.data);
    this.client = client;
    const data = options.data ?? defaultNodeData();
    this.#reads = new LockDriver(client, this.path, readRules, data);
    this.readLock = new Side(this.#reads, 'read');
    this.writeLock = new Side(new LockDriver(client, this.path, writeRules, data), 'write');
  }

  /**
   * Every node of the lock in queue order, with its side and whether it holds the lock now.
   * A snapshot for operators; Curator's nodes are included.
   */
  async participants(): Promise<Participant[]> {
    const { sorted, nodes } = await this.#reads.list();
    let writerSeen = false;
    return sorted.map((name, i) => {
      const node = nodes.get(name);
      const writer = isWriter(name);
      const holder = writer ? i === 0 : !writerSeen;
      if (writer) writerSeen = true;
      return {
        name,
        path: join(this.path, name),
        data: node?.data ?? Buffer.alloc(0),
        sessionId: node?.owner ?? '0',
        role: holder ? 'holder' : 'waiter',
        mode: writer ? 'write' : 'read',
      };
    });
  }
}
