import diagnostics from 'node:diagnostics_channel';
import {
  ClientClosedError,
  NoNodeError,
  isRetryable,
  type WaitOptions,
  type ZkClient,
} from '@zkit/core';
import { LockLostError, RevocationRequestedError } from './errors.js';

/**
 * A held lock: a mutex, one side of a read-write lock, or one of a semaphore's n slots.
 *
 * A lease is a value, not a property of the caller: whoever holds the object holds the lock, and
 * nothing else in the process does. Hand it to the work it protects, and release it exactly once
 * (`await using` does that for you).
 *
 * @example
 * ```ts
 * await using lease = await mutex.acquire({ timeout: 5_000 });
 * await store.write(record, { fencingToken: lease.fencingToken, signal: lease.signal });
 * ```
 */
export interface Lease extends AsyncDisposable {
  /** Full path of the lease's own ephemeral node (relative to the client's chroot/namespace). */
  readonly path: string;
  /**
   * A ZooKeeper zxid that is strictly greater than the token of every earlier holder of the same
   * lock, also after the lock's parent node was removed and recreated. Pass it to the storage the
   * lock protects so it can reject writes from a holder that lost the lock without knowing it.
   */
  readonly fencingToken: bigint;
  /**
   * Aborts with a {@link LockLostError} when ownership can no longer be guaranteed: the client's
   * error policy fired (connection suspended under the default policy, session lost), the
   * session changed, the client closed, or the lease's node was deleted by someone else.
   *
   * Watching for deletion costs one request (an `exists` with a watch), made the first time this
   * property is read, so a lease whose signal is never read stays at zero extra requests and
   * then learns about loss from the session only. Releasing costs nothing more: the watch is
   * left to fire at the release's own delete. It does not abort on {@link Lease.release}.
   */
  readonly signal: AbortSignal;
  /**
   * Aborts, with a {@link RevocationRequestedError}, when someone asks this holder to give the
   * lock up (Apache Curator's revocation: {@link Mutex.revoke}, a waiter acquiring with
   * `revoke: true`, or Curator's `Revoker.attemptRevoke`). Nothing is taken away: the holder
   * decides, and releases when it is ready. Also published on the diagnostics channel
   * `zkit:lock:revocation` ({@link LockMessage}).
   *
   * Listening costs one read with a watch on the lease's node, made the first time this
   * property is read; a request made before that is seen by that read. It never aborts once the
   * lease is released or lost.
   */
  readonly revocationRequested: AbortSignal;
  /** `false` once released or lost. */
  readonly held: boolean;
  /**
   * Deletes the lease's node and resolves once it is gone, so the next waiter can take over.
   * Idempotent: later calls return the same promise. After the session was lost, the node is
   * already gone with it and release resolves at once without a request. While the connection
   * is down, it resolves when the delete finally lands or the session is lost.
   *
   * @throws `ClientClosedError` is never thrown (the closed session took the node with it);
   *   unexpected server errors such as `NoAuthError` are.
   */
  release(): Promise<void>;
  /** Same as {@link Lease.release}; enables `await using lease = await lock.acquire()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * What every lock in this package offers: {@link Mutex}, both sides of a {@link ReadWriteLock},
 * and {@link Semaphore}. Code that only needs "a lock" can take this type. Waiting survives a
 * suspended connection and re-queues after a lost session; holding does not (see
 * {@link Lease.signal}).
 *
 * @example
 * ```ts
 * async function exclusively<T>(lock: Lock, work: (signal: AbortSignal) => Promise<T>) {
 *   await using lease = await lock.acquire({ timeout: 10_000 });
 *   return work(lease.signal);
 * }
 * await exclusively(new Mutex(client, '/locks/report'), buildReport);
 * await exclusively(new ReadWriteLock(client, '/locks/catalog').writeLock, rebuildCatalog);
 * ```
 */
export interface Lock {
  /** Full path of the lock's node. */
  readonly path: string;
  /**
   * Waits until the lock is granted and returns the lease. Rejects with a `TimeoutError`
   * DOMException on `timeout`, with the signal's reason on abort; either way nothing is left
   * behind on the server.
   */
  acquire(options?: AcquireOptions): Promise<Lease>;
  /** Takes the lock if that is possible right now, else resolves `null`. Never waits for it. */
  tryAcquire(options?: TryAcquireOptions): Promise<Lease | null>;
}

/**
 * One node of a lock, as {@link Mutex.participants} and its siblings report it.
 *
 * @example
 * ```ts
 * for (const p of await mutex.participants()) {
 *   console.log(`${p.role} ${p.name} session 0x${p.sessionId} ${p.data.toString()}`);
 * }
 * ```
 */
export interface Participant {
  /** The node's name, e.g. `_c_0f5b…-lock-0000000007`. */
  readonly name: string;
  /** Its full path. */
  readonly path: string;
  /** The data its creator stored (zkit: the `data` option; Curator: by default an IP address). */
  readonly data: Buffer;
  /** The session that owns the node (hex, as `ZkClient.sessionId` prints it). */
  readonly sessionId: string;
  /** Whether the node holds the lock right now or waits for it. */
  readonly role: 'holder' | 'waiter';
  /** For {@link ReadWriteLock}: which side the node is on. */
  readonly mode?: 'read' | 'write';
}

/** Options of every `acquire` call. */
export type AcquireOptions = WaitOptions;

/** Options of every `tryAcquire` call: it never waits for the lock, but requests may be aborted. */
export interface TryAcquireOptions {
  /** Aborts the attempt; the call rejects with the signal's reason and leaves no node behind. */
  readonly signal?: AbortSignal | undefined;
}

const acquiredChannel = diagnostics.channel('zkit:lock:acquired');
const releasedChannel = diagnostics.channel('zkit:lock:released');
const lostChannel = diagnostics.channel('zkit:lock:lost');
const revocationChannel = diagnostics.channel('zkit:lock:revocation');

/**
 * The data that asks the holder of a lease node to give the lock up: Curator's revocation
 * message, the ASCII bytes of `__REVOKE__`, written over the node's data.
 */
const REVOKE_MESSAGE = Buffer.from('__REVOKE__', 'ascii');

/**
 * Asks the holder of the lease node at `path` to give the lock up (see
 * {@link Lease.revocationRequested}). Resolves `false` when the node is gone (nothing to ask).
 *
 * @internal
 */
export async function requestRevocation(client: ZkClient, path: string): Promise<boolean> {
  try {
    await client.set(path, REVOKE_MESSAGE);
    return true;
  } catch (error) {
    if (error instanceof NoNodeError) return false;
    throw error;
  }
}

/**
 * Published on `zkit:lock:acquired`, `zkit:lock:released`, `zkit:lock:lost` and
 * `zkit:lock:revocation`.
 */
export interface LockMessage {
  /** The client the lock uses. */
  readonly client: ZkClient;
  /** The lease's own node. */
  readonly path: string;
  /** The lease's fencing token. */
  readonly fencingToken: bigint;
  /** Set on `zkit:lock:lost`; on `zkit:lock:revocation`, the request. */
  readonly error?: LockLostError | RevocationRequestedError;
}

/**
 * Deletes one of our ephemeral nodes through core's guaranteed delete: it keeps trying across
 * reconnects and ends, without a request, once the node's session is gone (the node went with
 * it). Resolves without a request when the node belongs to a session that is no longer current.
 *
 * @internal
 */
export async function removeNode(client: ZkClient, path: string, session: string): Promise<void> {
  if (client.state === 'closed' || client.state === 'lost' || client.sessionId !== session) return;
  try {
    await client.deleteGuaranteed(path, { ephemeral: true });
  } catch (error) {
    if (!(error instanceof ClientClosedError)) throw error;
  }
}

/**
 * How long a failed or cancelled acquire waits for its own node's removal before rejecting. The
 * removal goes on in the background after that; the node can never be granted meanwhile, since
 * nobody waits on it.
 */
const CLEANUP_WAIT_MS = 1000;

/**
 * Waits for `work` while connected, for at most {@link CLEANUP_WAIT_MS}: a caller that gave up
 * should not wait for a connection that is gone. Never rejects.
 *
 * @internal
 */
export async function settleSoon(client: ZkClient, work: Promise<unknown>): Promise<void> {
  work.catch(() => undefined);
  if (!client.isConnected) return;
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLEANUP_WAIT_MS);
    timer.unref();
  });
  try {
    await Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      bound,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Removes a node we own without making the caller wait for a dead connection: one request while
 * connected, otherwise in the background.
 *
 * @internal
 */
export function discardNode(client: ZkClient, path: string, session: string): Promise<void> {
  return settleSoon(client, removeNode(client, path, session));
}

/** Why the deletion watch stops; never surfaces. */
const STOPPED = Object.freeze(new Error('lease no longer held'));

/** @internal */
export class HeldLease implements Lease {
  readonly path: string;
  readonly fencingToken: bigint;
  readonly #client: ZkClient;
  readonly #session: string;
  readonly #sessionSignal: AbortSignal;
  // Created on demand: most leases are released without anyone reading their signal, and an
  // uncontended cycle should cost as little as the three requests it makes.
  #lost: AbortController | undefined;
  #lostError: LockLostError | undefined;
  /** Aborted on release or loss: stops the deletion and revocation watches. */
  #stop: AbortController | undefined;
  #revocation: AbortController | undefined;
  #held = true;
  #release: Promise<void> | undefined;
  readonly #onSessionAbort = () => this.#lose('session', this.#sessionSignal.reason);

  constructor(
    client: ZkClient,
    path: string,
    fencingToken: bigint,
    session: string,
    sessionSignal: AbortSignal,
  ) {
    this.#client = client;
    this.path = path;
    this.fencingToken = fencingToken;
    this.#session = session;
    this.#sessionSignal = sessionSignal;
    if (sessionSignal.aborted) this.#onSessionAbort();
    else sessionSignal.addEventListener('abort', this.#onSessionAbort, { once: true });
    if (acquiredChannel.hasSubscribers) {
      acquiredChannel.publish({ client, path, fencingToken } satisfies LockMessage);
    }
  }

  get signal(): AbortSignal {
    if (this.#lost === undefined) {
      this.#lost = new AbortController();
      if (this.#lostError !== undefined) this.#lost.abort(this.#lostError);
      else if (this.#held) {
        this.#stop ??= new AbortController();
        void this.#watchNode(this.#stop.signal);
      }
    }
    return this.#lost.signal;
  }

  get revocationRequested(): AbortSignal {
    if (this.#revocation === undefined) {
      this.#revocation = new AbortController();
      if (this.#held) {
        this.#stop ??= new AbortController();
        void this.#watchRevocation(this.#stop.signal);
      }
    }
    return this.#revocation.signal;
  }

  /** The session that owns the node. */
  get session(): string {
    return this.#session;
  }

  get held(): boolean {
    return this.#held;
  }

  release(): Promise<void> {
    this.#release ??= this.#doRelease();
    return this.#release;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  async #doRelease(): Promise<void> {
    this.#detach();
    await removeNode(this.#client, this.path, this.#session);
    if (releasedChannel.hasSubscribers) {
      releasedChannel.publish({
        client: this.#client,
        path: this.path,
        fencingToken: this.fencingToken,
      } satisfies LockMessage);
    }
  }

  #detach(): void {
    this.#held = false;
    this.#sessionSignal.removeEventListener('abort', this.#onSessionAbort);
    this.#stop?.abort(STOPPED);
  }

  #lose(reason: 'session' | 'deleted', cause?: unknown): void {
    if (!this.#held) return;
    this.#detach();
    const error = new LockLostError(this.path, reason, cause);
    this.#lostError = error;
    this.#lost?.abort(error);
    if (lostChannel.hasSubscribers) {
      lostChannel.publish({
        client: this.#client,
        path: this.path,
        fencingToken: this.fencingToken,
        error,
      } satisfies LockMessage);
    }
  }

  /** Watches our own node's data while held, for a revocation request. */
  async #watchRevocation(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        // `signal` ends at release: the server's watch is left to fire at our own delete, so
        // that a release costs no removal request.
        const watched = await this.#client.getWatched(this.path, {
          signal,
          keepServerWatch: true,
        });
        if (watched.value.data.equals(REVOKE_MESSAGE)) {
          // Left on the server: it fires at our delete.
          watched.cancel({ keepServerWatch: true });
          if (!this.#held) return;
          const request = new RevocationRequestedError(this.path);
          this.#revocation?.abort(request);
          if (revocationChannel.hasSubscribers) {
            revocationChannel.publish({
              client: this.#client,
              path: this.path,
              fencingToken: this.fencingToken,
              error: request,
            } satisfies LockMessage);
          }
          return;
        }
        await watched.changed;
      } catch (error) {
        // A deleted node or a lost session ends the lease, which its signal reports; retryable
        // errors mean the connection came and went, so look again.
        if (signal.aborted || !isRetryable(error)) return;
      }
    }
  }

  /** Watches our own node while held; its deletion by anyone but us means the lock is gone. */
  async #watchNode(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const watched = await this.#client.existsWatched(this.path, {
          signal,
          keepServerWatch: true,
        });
        if (watched.value === null || watched.value.ephemeralOwner !== this.#session) {
          this.#lose('deleted');
          return;
        }
        const event = await watched.changed;
        if (event.type === 'deleted') {
          this.#lose('deleted');
          return;
        }
      } catch (error) {
        // Session trouble reaches us through the session signal; retryable errors mean the
        // connection came and went, so look again.
        if (signal.aborted || !isRetryable(error)) return;
      }
    }
  }
}
