import {
  InvalidArgumentError,
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
import { ANY_CHILD, LockDriver, STALE, checkLockArgs, type LockRules } from './driver.js';
import type { AcquireOptions, Lease, Lock, Participant, TryAcquireOptions } from './lease.js';
import { mutexRules } from './mutex.js';

/** Options of {@link Semaphore}. */
export interface SemaphoreOptions {
  /**
   * Data stored in each lease node (and in its node in the queue of waiters), shown by
   * {@link Semaphore.participants} and `inspectSemaphore`. Default: the local host's address
   * (`defaultNodeData()` of `@zkit/core`), as Apache Curator writes by default.
   */
  readonly data?: Data;
}

const LEASE_NAME = 'lease-';

/**
 * A distributed counting semaphore: at most `n` leases on `path` exist at a time. Compatible with
 * Apache Curator's `InterProcessSemaphoreV2` (fixed count): an acquirer first takes the mutex at
 * `path/locks`, then creates `path/leases/_c_<uuid>-lease-<seq>` (ephemeral-sequential, container
 * parents) and holds a lease while the lease nodes number at most `n`, waiting for a child change
 * otherwise; it releases the mutex either way. `n` is not stored anywhere: every party on the
 * path must use the same value.
 *
 * **Costs.** An uncontended acquire + release is six requests (mutex create/list/delete, lease
 * create/list, and the lease's delete); `acquire` waits for two round trips of them: each create
 * goes out with its listing, and the mutex's delete is not waited for once the lease is held. Waiters queue on the mutex, so only the first of them
 * watches the leases: a release wakes one process, never all of them.
 *
 * **Connection trouble** is handled as in {@link Mutex}: leases carry a signal that aborts with
 * {@link LockLostError} when ownership can no longer be guaranteed (connection suspended under
 * the default error policy, session lost, lease node deleted); waiters keep waiting through a
 * suspended connection and start over on a new session; timeout and abort remove every node the
 * attempt created. A lease's `fencingToken` increases with every grant on the semaphore; with
 * n > 1, concurrent holders have different tokens and none of them is exclusive.
 *
 * **Not reentrant**: every `acquire` takes one more of the n slots, even from the same process.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(client, '/limits/payment-api', 4);
 * await using lease = await slots.acquire({ timeout: 10_000 });
 * await callPaymentApi({ signal: lease.signal });
 * ```
 */
export class Semaphore implements Lock {
  /** The client the semaphore borrows (never closed by it). */
  readonly client: ZkClient;
  /** The semaphore's node; `locks` and `leases` are its children. */
  readonly path: string;
  /** How many leases may exist at once. */
  readonly permits: number;
  readonly #mutex: LockDriver;
  readonly #leases: LockDriver;

  /**
   * Local and cheap: nothing is sent until `acquire`.
   *
   * @param permits - how many leases may be held at once, an integer ≥ 1 that every party on
   *   this path agrees on
   * @throws `InvalidPathError` for a malformed path or the root, `InvalidArgumentError` for a
   *   missing client, bad data or `permits` < 1
   */
  constructor(client: ZkClient, path: string, permits: number, options: SemaphoreOptions = {}) {
    this.path = checkLockArgs(client, path, options.data);
    if (!Number.isSafeInteger(permits) || permits < 1) {
      throw new InvalidArgumentError('a semaphore needs an integer number of permits ≥ 1');
    }
    this.client = client;
    this.permits = permits;
    const data = options.data ?? defaultNodeData();
    this.#mutex = new LockDriver(client, join(this.path, 'locks'), mutexRules, data);
    const leaseRules: LockRules = Object.freeze({
      name: LEASE_NAME,
      sortKey: (child: string) => lineKey(child, LEASE_NAME),
      blocker: (sorted: readonly string[]) => (sorted.length <= permits ? null : ANY_CHILD),
      watchChildren: true,
    });
    this.#leases = new LockDriver(client, join(this.path, 'leases'), leaseRules, data);
  }

  /**
   * Waits for one of the `permits` leases. The wait survives a suspended connection; after a
   * lost session it starts over (mutex first) on the client's new session.
   *
   * Rejects with a `ZkTimeoutError` (`name` `'TimeoutError'`; "Semaphore /s: no lease within
   * 5000 ms") after `timeout` ms and with the signal's reason on abort, after removing the nodes
   * the attempt created; with `ClientClosedError` when the client closes. A timeout of 0 tries
   * once, as {@link Semaphore.tryAcquire} does, and rejects with the `ZkTimeoutError` at once
   * when no lease is free.
   *
   * @throws `InvalidArgumentError` synchronously for a negative or non-finite timeout
   */
  acquire(options: AcquireOptions = {}): Promise<Lease> {
    const what = `Semaphore ${this.path}: no lease`;
    const signal = waitSignal(what, options);
    if (options.timeout === 0) return tryOnce(what, this.tryAcquire({ signal: options.signal }));
    return endWhenSettled(this.#acquire(signal, 'wait') as Promise<Lease>, signal, options);
  }

  /**
   * Takes a lease if one is free right now, else resolves `null`. Also `null` while another
   * process is inside its own acquire (holding the semaphore's internal mutex), which it does
   * briefly when leases are free and for as long as it waits when they are not.
   */
  tryAcquire(options: TryAcquireOptions = {}): Promise<Lease | null> {
    return this.#acquire(combineSignals({ signal: options.signal }), 'try');
  }

  async #acquire(signal: AbortSignal | undefined, mode: 'wait' | 'try'): Promise<Lease | null> {
    for (;;) {
      const gate = await this.#mutex.acquire(signal, mode);
      if (gate === null) return null;
      if (gate === STALE) continue;
      let lease: Lease | null | typeof STALE;
      try {
        // Bound to the gate's session: counting leases is only safe while we hold the gate, and
        // a new session has lost it.
        lease = await this.#leases.acquire(signal, mode, gate.session);
      } catch (error) {
        await gate.release();
        throw error;
      }
      if (lease !== null && lease !== STALE) {
        // The gate's delete is sent now and lands after our lease node, which is all the next
        // acquirer needs (one session's requests are applied in order); its reply is not ours
        // to wait for. A delete that fails for good (say, no permission) leaves the gate to the
        // session, as an awaited one would have, but without losing the lease just taken.
        gate.release().catch(() => undefined);
        return lease;
      }
      await gate.release();
      if (lease !== STALE) return lease;
    }
  }

  /**
   * The current leases (role `holder`) followed by the processes queued to get one (role
   * `waiter`; the first of them is the one watching for a free lease). A snapshot for
   * operators; Curator's nodes are included.
   */
  async participants(): Promise<Participant[]> {
    const [leases, queue] = await Promise.all([this.#leases.list(), this.#mutex.list()]);
    const out: Participant[] = [];
    for (const [{ sorted, nodes }, base, role] of [
      [leases, this.#leases.base, 'holder'],
      [queue, this.#mutex.base, 'waiter'],
    ] as const) {
      for (const name of sorted) {
        const node = nodes.get(name);
        out.push({
          name,
          path: join(base, name),
          data: node?.data ?? Buffer.alloc(0),
          sessionId: node?.owner ?? '0',
          role,
        });
      }
    }
    return out;
  }
}
