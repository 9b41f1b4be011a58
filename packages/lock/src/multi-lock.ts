import {
  InvalidArgumentError,
  anySignal,
  combineSignals,
  tryOnce,
  waitSignal,
  type ZkClient,
  endWhenSettled,
} from '@zkit/core';
import type { AcquireOptions, Lease, Lock, TryAcquireOptions } from './lease.js';
import { Mutex } from './mutex.js';

/**
 * All the locks of a {@link MultiLock}, held together: one lease, one signal, one fencing token.
 *
 * @example
 * ```ts
 * await using lease = await new MultiLock(client, ['/locks/a', '/locks/b']).acquire();
 * await transfer(from, to, { signal: lease.signal, fencingToken: lease.fencingToken });
 * ```
 */
export interface MultiLease extends Lease {
  /** Each part's lease, in lock order (sorted by path). */
  readonly leases: readonly Lease[];
}

/**
 * Several locks taken as one: all of them or none (Apache Curator's `InterProcessMultiLock`).
 * Each part keeps its own layout — a {@link Mutex}, a side of a {@link ReadWriteLock}, a
 * {@link Semaphore} — so a Curator process taking one of the parts alone excludes us as usual.
 *
 * **No deadlock between multi-locks.** The parts are always taken in the same order, sorted by
 * path, whatever order they were given in, and released in the reverse order: two processes
 * asking for `[a, b]` and `[b, a]` both queue on `a` first. (Curator takes them in the order
 * given, so a Curator multi-lock over the same paths should list them sorted too.) Two parts on
 * the same path are refused: a lease is not reentrant, so the second would wait for the first
 * forever.
 *
 * **All or none.** When a part fails, times out or is aborted, the parts already taken are
 * released before the call rejects. The lease's {@link Lease.signal} aborts as soon as any part's
 * does (with that part's {@link LockLostError}), and its {@link Lease.revocationRequested} when
 * any part's does; its fencing token is the largest of the parts'
 * tokens, so it grows from one holder of any part to the next.
 *
 * @example
 * ```ts
 * import { MultiLock } from '@zkit/lock';
 *
 * const both = new MultiLock(client, ['/locks/account-7', '/locks/account-3']);
 * await using lease = await both.acquire({ timeout: 5_000 });
 * await moveMoney(3, 7, { signal: lease.signal });
 * ```
 */
export class MultiLock {
  /** The parts, in lock order (sorted by path). */
  readonly locks: readonly Lock[];

  /**
   * Local and cheap: nothing is sent until `acquire`.
   *
   * @param locks - the parts: locks of this package, or paths for a {@link Mutex} each (then
   *   `client` comes first)
   * @throws `InvalidArgumentError` for an empty list, a part that is not a lock, or two parts on
   *   one path; `InvalidPathError` for a malformed path
   */
  constructor(locks: readonly Lock[]);
  constructor(client: ZkClient, paths: readonly string[]);
  constructor(first: ZkClient | readonly Lock[], paths?: readonly string[]) {
    let parts: Lock[];
    if (Array.isArray(first)) {
      parts = [...(first as readonly Lock[])];
    } else {
      if (!Array.isArray(paths)) throw new InvalidArgumentError('paths must be an array');
      parts = paths.map((p) => new Mutex(first as ZkClient, p));
    }
    if (parts.length === 0) throw new InvalidArgumentError('a multi-lock needs at least one lock');
    for (const part of parts) {
      if (
        typeof part !== 'object' ||
        part === null ||
        typeof part.acquire !== 'function' ||
        typeof part.path !== 'string'
      ) {
        throw new InvalidArgumentError('every part must be a lock (Mutex, Semaphore, …)');
      }
    }
    parts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (let i = 1; i < parts.length; i++) {
      if (parts[i]?.path === parts[i - 1]?.path) {
        throw new InvalidArgumentError(`two parts on one path: ${parts[i]?.path}`);
      }
    }
    this.locks = Object.freeze(parts);
  }

  /** The parts' paths, in lock order. */
  get paths(): string[] {
    return this.locks.map((l) => l.path);
  }

  /**
   * Takes every part, in lock order, and resolves with their joint lease. One `timeout` and one
   * `signal` bound the whole: when they fire part-way, the parts taken are released and the call
   * rejects (`ZkTimeoutError`, or the signal's reason), as it does with a part's own error. A
   * timeout of 0 tries once, as {@link MultiLock.tryAcquire} does.
   *
   * @throws `InvalidArgumentError` synchronously for a negative or non-finite timeout
   */
  acquire(options: AcquireOptions = {}): Promise<MultiLease> {
    const what = `MultiLock ${this.paths.join(', ')}: not acquired`;
    const signal = waitSignal(what, options);
    if (options.timeout === 0) return tryOnce(what, this.tryAcquire({ signal: options.signal }));
    const taken = this.#take((lock) => lock.acquire({ signal })) as Promise<MultiLease>;
    return endWhenSettled(taken, signal, options);
  }

  /**
   * Takes every part if each is free right now; else releases what it took and resolves `null`.
   *
   * @throws `InvalidArgumentError` synchronously when `signal` is not an `AbortSignal`
   */
  tryAcquire(options: TryAcquireOptions = {}): Promise<MultiLease | null> {
    const signal = combineSignals({ signal: options.signal });
    return this.#take((lock) => lock.tryAcquire({ signal }));
  }

  async #take(take: (lock: Lock) => Promise<Lease | null>): Promise<MultiLease | null> {
    const taken: Lease[] = [];
    try {
      for (const lock of this.locks) {
        const lease = await take(lock);
        if (lease === null) {
          await releaseAll(taken);
          return null;
        }
        taken.push(lease);
      }
    } catch (error) {
      await releaseAll(taken).catch(() => undefined);
      throw error;
    }
    return new JointLease(taken);
  }
}

/** Releases in reverse lock order; every part is released even if one fails. */
async function releaseAll(leases: readonly Lease[]): Promise<void> {
  let failure: { error: unknown } | undefined;
  for (const lease of [...leases].reverse()) {
    try {
      await lease.release();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

class JointLease implements MultiLease {
  readonly leases: readonly Lease[];
  readonly path: string;
  readonly fencingToken: bigint;
  #signal: AbortSignal | undefined;
  #revocation: AbortSignal | undefined;
  #release: Promise<void> | undefined;

  constructor(leases: readonly Lease[]) {
    this.leases = Object.freeze([...leases]);
    this.path = (leases[0] as Lease).path;
    this.fencingToken = leases.reduce(
      (max, l) => (l.fencingToken > max ? l.fencingToken : max),
      0n,
    );
  }

  get signal(): AbortSignal {
    // Each part's signal costs a watch on its node; made when first asked for, as a part's is.
    this.#signal ??= anySignal(this.leases.map((l) => l.signal));
    return this.#signal;
  }

  get revocationRequested(): AbortSignal {
    this.#revocation ??= anySignal(this.leases.map((l) => l.revocationRequested));
    return this.#revocation;
  }

  get held(): boolean {
    return this.#release === undefined && this.leases.every((l) => l.held);
  }

  release(): Promise<void> {
    this.#release ??= releaseAll(this.leases);
    return this.#release;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
