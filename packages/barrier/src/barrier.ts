import {
  InvalidArgumentError,
  NodeExistsError,
  NoNodeError,
  SessionExpiredError,
  waitSignal,
  ZkTimeoutError,
  isRetryable,
  validateTimeout,
  type ReadOptions,
  type WaitOptions,
  type ZkClient,
  defaultNodeData,
  endWhenSettled,
} from '@zkit/core';
import { checkBarrierArgs, wake } from './wake.js';

/** Options of {@link Barrier.wait}. */
export interface BarrierWaitOptions extends WaitOptions {
  /**
   * Reject with `SessionExpiredError` when the client's session is lost while waiting. Default
   * `false`: the wait carries on under the client's next session, because the barrier node is
   * persistent and outlives any session.
   */
  readonly failOnSessionLoss?: boolean;
}

/**
 * A barrier that holds waiters back while its node exists: `raise()` creates the node, `lower()`
 * deletes it, and `wait()` resolves once it is gone. The layout is Curator's `DistributedBarrier`
 * (the node at `path` is persistent, its parents are containers), so Java and Node processes can
 * raise, lower and wait on the same barrier.
 *
 * A wait resolves only on a read that finds the node missing: a fired watch, a reconnect or any
 * other session event only makes it look again.
 *
 * On `suspended` the wait keeps waiting; requests wait for the connection, and every reconnect
 * triggers a fresh read. On `lost` it carries on under the new session, unless
 * `failOnSessionLoss` asks for a `SessionExpiredError`.
 *
 * @example
 * ```ts
 * const gate = new Barrier(client, '/deploy/gate');
 * await gate.raise();            // the coordinator holds everybody back
 * // … elsewhere, in each worker:
 * await new Barrier(client, '/deploy/gate').wait({ timeout: 60_000 });
 * // … and when it is time:
 * await gate.lower();
 * ```
 */
export class Barrier {
  /** The barrier node; it exists while the barrier is up. */
  readonly path: string;
  readonly #client: ZkClient;

  /**
   * No request is sent before a method is called.
   *
   * @throws `InvalidArgumentError` when `client` is not a `ZkClient`, `InvalidPathError` for a
   * malformed path or the root
   */
  constructor(client: ZkClient, path: string) {
    this.path = checkBarrierArgs(client, path);
    this.#client = client;
  }

  /**
   * Puts the barrier up: creates its node (and missing parents, as containers). Raising a barrier
   * that is already up does nothing.
   *
   * @throws the client's errors (`NoAuthError`, `SessionExpiredError`, `ClientClosedError`, …),
   * the signal's reason on abort
   */
  async raise(options: ReadOptions = {}): Promise<void> {
    try {
      await this.#client.create(this.path, defaultNodeData(), {
        parents: 'container',
        signal: options.signal,
      });
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  /**
   * Takes the barrier down: deletes its node, which releases every waiter. Lowering a barrier
   * that is not up does nothing.
   *
   * @throws the client's errors (`NoAuthError`, `SessionExpiredError`, `ClientClosedError`, …),
   * the signal's reason on abort
   */
  async lower(options: ReadOptions = {}): Promise<void> {
    try {
      await this.#client.delete(this.path, { signal: options.signal });
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  }

  /** Whether the barrier is up right now (one `exists`). */
  async isRaised(options: ReadOptions = {}): Promise<boolean> {
    return (await this.#client.exists(this.path, options)) !== null;
  }

  /**
   * Resolves once the barrier node does not exist: at once when it is not up.
   *
   * @throws `InvalidArgumentError` synchronously for a bad timeout or a `failOnSessionLoss` that
   * is not a boolean; rejects with a `ZkTimeoutError` (`name` `'TimeoutError'`; "Barrier /b: still
   * up within 5000 ms") on timeout — with `timeout: 0` after one look, at once — the signal's reason
   * on abort, `SessionExpiredError` on session loss when `failOnSessionLoss` is set, and
   * `ClientClosedError` when the client closes
   */
  wait(options: BarrierWaitOptions = {}): Promise<void> {
    validateTimeout(options.timeout);
    const failOnSessionLoss = options.failOnSessionLoss ?? false;
    // A string such as 'false' would otherwise count as set.
    if (typeof failOnSessionLoss !== 'boolean') {
      throw new InvalidArgumentError('failOnSessionLoss must be a boolean');
    }
    const what = `Barrier ${this.path}: still up`;
    const signal = waitSignal(what, options);
    if (options.timeout === 0) return this.#check(what, options.signal);
    return endWhenSettled(this.#wait(signal, failOnSessionLoss), signal, options);
  }

  /** `timeout: 0`: one look, no wait. */
  async #check(what: string, signal: AbortSignal | undefined): Promise<void> {
    const stat = await this.#client.exists(this.path, signal ? { signal } : {});
    if (stat !== null) throw new ZkTimeoutError(what, 0);
  }

  async #wait(signal: AbortSignal | undefined, failOnSessionLoss: boolean): Promise<void> {
    const client = this.#client;
    const session = client.sessionId;
    const lost = () =>
      client.state === 'lost' || (session !== undefined && client.sessionId !== session);
    for (;;) {
      signal?.throwIfAborted();
      if (failOnSessionLoss && lost()) throw new SessionExpiredError({ path: this.path });
      try {
        const watched = await client.existsWatched(this.path, { signal });
        try {
          if (watched.value === null) return;
          await wake(client, watched.changed, signal);
        } finally {
          watched.cancel();
        }
      } catch (error) {
        if (!(error instanceof SessionExpiredError) && !isRetryable(error)) throw error;
        if (failOnSessionLoss && error instanceof SessionExpiredError) throw error;
        await client.whenConnected({ signal });
      }
    }
  }
}
