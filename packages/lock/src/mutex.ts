import {
  InvalidArgumentError,
  checkLineArgs,
  combineSignals,
  defaultNodeData,
  endWhenSettled,
  lineKey,
  tryOnce,
  waitSignal,
  type Data,
  type ZkClient,
} from '@zkit/core';
import { LockDriver, checkLockArgs, type LockRules } from './driver.js';
import {
  requestRevocation,
  type AcquireOptions,
  type Lease,
  type Lock,
  type Participant,
  type TryAcquireOptions,
} from './lease.js';

/** Options of {@link Mutex}. */
export interface MutexOptions {
  /**
   * Data stored in each lease node, shown by {@link Mutex.participants} and `inspectLock`.
   * Default: the local host's address (`defaultNodeData()` of `@zkit/core`), as Apache Curator
   * writes by default.
   */
  readonly data?: Data;
}

/** Options of {@link Mutex.acquire}: those of every `acquire`, and `revoke`. */
export type MutexAcquireOptions = AcquireOptions & {
  /**
   * While waiting, ask each holder found in the way, once, to give the lock up (Apache Curator's
   * revocation: its {@link Lease.revocationRequested} aborts; a Curator holder made revocable
   * hears it too). The holder decides; this only asks. Default `false`.
   */
  readonly revoke?: boolean;
};

const LOCK_NAME = 'lock-';

/** Curator's `InterProcessMutex` rules: ordered by sequence, the first node holds. */
export const mutexRules: LockRules = Object.freeze({
  name: LOCK_NAME,
  sortKey: (child: string) => lineKey(child, LOCK_NAME),
  blocker: (sorted: readonly string[], ourIndex: number) =>
    ourIndex === 0 ? null : (sorted[ourIndex - 1] ?? null),
});

/**
 * A distributed mutual-exclusion lock: at most one lease on `path` exists at a time, across every
 * process and session that uses the same path — including Java services using Apache Curator's
 * `InterProcessMutex`, which shares this layout (`path/_c_<uuid>-lock-<seq>`, ephemeral-sequential
 * nodes under container parents, the lowest sequence holds).
 *
 * **Costs.** An uncontended acquire + release is three requests (create, list, delete). A waiter
 * watches only its predecessor, so a release wakes exactly one waiter, which re-lists once: five
 * requests per contended acquisition. The fencing token comes with the listing, at no extra cost.
 *
 * **Connection trouble.** A waiter keeps waiting through a suspended connection; if the session is
 * lost, its node went with it and it queues again with a new node on the new session (at the
 * back). A holder learns of trouble through {@link Lease.signal}: it aborts with a
 * {@link LockLostError} as soon as the client's error policy fires (on `suspended` under the
 * default policy, on `lost` under `'lost'`), because another process may then get the lock once
 * the server expires the session. Releasing a lost lease is a harmless no-op.
 *
 * **Not reentrant.** Each `acquire` queues a new node, even from the same process: a second
 * `acquire` while holding a lease waits for that lease to be released (and times out if it never
 * is). JavaScript has no thread identity to attach ownership to — concurrent async tasks share
 * one — so reentrancy by process or by object would let two tasks believe they hold the lock at
 * once. Pass the lease to the code that needs it instead.
 *
 * Errors: invalid path or data throw `InvalidPathError` / `InvalidArgumentError` from the
 * constructor; a negative timeout throws `InvalidArgumentError` from `acquire`, before any I/O.
 * Requests can fail with `@zkit/core` errors (`ClientClosedError`, `NoAuthError`, …).
 *
 * @example
 * ```ts
 * import { ZkClient } from '@zkit/core';
 * import { Mutex } from '@zkit/lock';
 *
 * const client = new ZkClient('127.0.0.1:2181');
 * await client.start();
 * const mutex = new Mutex(client, '/locks/invoice-42');
 * {
 *   await using lease = await mutex.acquire({ timeout: 5_000 });
 *   await writeToStore(data, { fencingToken: lease.fencingToken, signal: lease.signal });
 * } // released here
 * ```
 */
export class Mutex implements Lock {
  /** The client the mutex borrows (never closed by it). */
  readonly client: ZkClient;
  /** The lock's node; lease nodes are its children. */
  readonly path: string;
  readonly #driver: LockDriver;

  /**
   * Local and cheap: nothing is sent until `acquire`.
   *
   * @throws `InvalidPathError` for a malformed path or the root, `InvalidArgumentError` for a
   *   missing client or bad data
   */
  constructor(client: ZkClient, path: string, options: MutexOptions = {}) {
    this.path = checkLockArgs(client, path, options.data);
    this.client = client;
    this.#driver = new LockDriver(client, this.path, mutexRules, options.data ?? defaultNodeData());
  }

  /**
   * Waits for the lock and resolves with its lease.
   *
   * While the connection is suspended the wait goes on (the node and its place in the queue
   * survive a reconnect to the same session); when the session is lost the node is gone, and the
   * wait queues again with a new node once the client has a new session. A grant is only made on
   * a connected, trusted session, after checking that our node is listed and was created by it.
   *
   * Rejects with a `ZkTimeoutError` (`name` `'TimeoutError'`; "Mutex /locks/a: not acquired
   * within 5000 ms") after `timeout` ms, with the signal's reason on abort — in both cases after
   * removing our node (when the connection is down, the removal finishes in the background as
   * soon as possible; the node can never be granted meanwhile). Rejects with `ClientClosedError`
   * when the client closes, and with the client's request errors (`ConnectionLossError` once its
   * retry policy gives up, `NoAuthError`, …). A timeout of 0 tries once, as
   * {@link Mutex.tryAcquire} does, and rejects with the `ZkTimeoutError` at once when the lock is
   * held.
   *
   * @throws `InvalidArgumentError` synchronously for a negative or non-finite timeout
   */
  acquire(options: MutexAcquireOptions = {}): Promise<Lease> {
    const what = `Mutex ${this.path}: not acquired`;
    const signal = waitSignal(what, options);
    if (options.revoke !== undefined && typeof options.revoke !== 'boolean') {
      throw new InvalidArgumentError('revoke must be a boolean');
    }
    if (options.timeout === 0) return tryOnce(what, this.tryAcquire({ signal: options.signal }));
    return endWhenSettled(this.#driver.wait(signal, options.revoke === true), signal, options);
  }

  /**
   * Asks the holder of the lease node at `nodePath` to give the lock up: writes Curator's
   * revocation message (`__REVOKE__`) into the node, which the holder watches (zkit:
   * {@link Lease.revocationRequested}; Curator: a mutex made revocable). Resolves `true` once
   * the request is written, `false` when the node is already gone. For operators and waiters;
   * the holder decides whether and when to release. Node paths are listed by
   * {@link Mutex.participants}.
   *
   * @example
   * ```ts
   * const [holder] = await mutex.participants();
   * if (holder) await Mutex.revoke(client, holder.path);
   * ```
   * @throws `InvalidPathError` / `InvalidArgumentError` synchronously for a bad path or client
   */
  static revoke(client: ZkClient, nodePath: string): Promise<boolean> {
    const path = checkLineArgs(client, nodePath, 'a revocation');
    return requestRevocation(client, path);
  }

  /**
   * Takes the lock if it is free right now (three requests either way: create, list, and delete
   * when someone else holds it), else resolves `null`.
   *
   * @throws `InvalidArgumentError` synchronously when `signal` is not an `AbortSignal`
   */
  tryAcquire(options: TryAcquireOptions = {}): Promise<Lease | null> {
    // combineSignals checks the signal before anything is sent.
    return this.#driver.try(combineSignals({ signal: options.signal }));
  }

  /**
   * Every node of the lock in queue order: the holder first, then the waiters. For operators:
   * it is a snapshot that may be stale by the time it returns. Nodes of Curator processes are
   * included.
   */
  async participants(): Promise<Participant[]> {
    const { sorted, nodes } = await this.#driver.list();
    return sorted.map((name, i) => {
      const node = nodes.get(name);
      return {
        name,
        path: `${this.path}/${name}`,
        data: node?.data ?? Buffer.alloc(0),
        sessionId: node?.owner ?? '0',
        role: i === 0 ? 'holder' : 'waiter',
      };
    });
  }
}
