import diagnostics from 'node:diagnostics_channel';
import {
  anySignal,
  ClientClosedError,
  Emitter,
  defaultNodeData,
  InvalidArgumentError,
  waitSignal,
  type WaitOptions,
  type ZkClient,
  sendNow,
} from '@zkit/core';
import { Candidate, checkElectionArgs } from './candidate.js';
import { ElectionClosedError, ElectionStateError } from './errors.js';
import type { ElectionMessage } from './leader-latch.js';
import { observeLeader, readLeader, readParticipants, type Participant } from './participants.js';
import type { ActiveTerm, LeadershipTerm } from './term.js';

/** Options of {@link LeaderSelector}. */
export interface LeaderSelectorOptions {
  /**
   * This participant's id, stored as its node's data (UTF-8) and reported by `leader()`,
   * `participants()` and `observe()`. Default `''`: the node then stores the local host's address
   * (`defaultNodeData()` of `@zkit/core`), as Curator's `LeaderSelector` does without an id, and
   * that address is what `participants()` reads as this participant's id.
   */
  readonly id?: string;
  /**
   * After each term, join the line again (at its end) and lead again when its turn comes,
   * until `close()` or the run's signal. Default `false`: `run()` leads once.
   */
  readonly autoRequeue?: boolean;
}

/**
 * The work done while leading. Leadership lasts until it returns (or its promise settles) or
 * throws; it must stop promptly when `term.signal` aborts.
 */
export type Leadership = (term: LeadershipTerm) => unknown;

/** Life cycle of a selector: `latent` → `started` (first `run()`) → `closed`. */
export type LeaderSelectorState = 'latent' | 'started' | 'closed';

/** Typed events of {@link LeaderSelector}. */
export interface LeaderSelectorEvents {
  /**
   * An unexpected error while waiting for leadership once this run has taken its place in line
   * at least once (the selector retries with backoff; a failure before that rejects the run
   * instead), or, with `autoRequeue`, an error thrown by the leadership function while its term
   * was live (the selector requeues). A throwing or rejecting `error` listener changes nothing
   * (see core's `Emitter`).
   */
  error: [error: unknown];
}

const electedChannel = diagnostics.channel('zkit:election:elected');
const revokedChannel = diagnostics.channel('zkit:election:revoked');

/**
 * Leader election around a function: `run(fn)` waits for this participant's turn, calls `fn`
 * with the term, and leads exactly as long as `fn` runs. For work that has a natural end, or
 * that should rotate between replicas (`autoRequeue`).
 *
 * **Layout.** Curator's `LeaderSelector`, which is its `InterProcessMutex` layout with the
 * participant id as node data: `<path>/_c_<uuid>-lock-<seq>` ephemeral-sequential, sorted by the
 * text after the last `lock-`, first = leader. Curator selectors and zkit selectors on the same
 * path take turns correctly.
 *
 * **Terms.** `fn` receives a {@link LeadershipTerm}. Its `signal` aborts when leadership can no
 * longer be assumed (the client's error policy fired — by default as soon as the connection is
 * suspended —, the session was lost, our node was deleted, `close()`); `fn` must then stop. The
 * term ends when `fn` returns or throws: its node is deleted, and the next participant takes
 * over. A term starts only when a listing answered in the session that created our node puts
 * it first; an `exists` then confirms its owner and watches it while `fn` runs.
 *
 * **Connection trouble.** While waiting, a reconnect to the same session keeps our node and
 * re-reads the line; after a session loss the selector joins again once with a new node. A
 * term interrupted by the connection ends when `fn` returns; with `autoRequeue` the selector then
 * joins the line again.
 *
 * @example
 * ```ts
 * import { LeaderSelector } from '@zkit/election';
 *
 * const selector = new LeaderSelector(client, '/election/compaction', {
 *   id: 'worker-7',
 *   autoRequeue: true,
 * });
 * const running = selector.run(async (term) => {
 *   // Lead for one batch, then let the next replica take a turn.
 *   await compactNextBatch({ signal: term.signal, fencingToken: term.fencingToken });
 * });
 * // … on shutdown:
 * await selector.close();
 * await running;
 * ```
 */
export class LeaderSelector extends Emitter<LeaderSelectorEvents> {
  /** The election path. */
  readonly path: string;
  /** This participant's id. */
  readonly id: string;
  /** Whether the selector joins the line again after each term. */
  readonly autoRequeue: boolean;
  readonly #client: ZkClient;
  readonly #candidate: Candidate;
  readonly #stop = new AbortController();
  #state: LeaderSelectorState = 'latent';
  #term: ActiveTerm | undefined;
  #running: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /**
   * @param client - a `ZkClient`; borrowed, never closed by the selector
   * @param path - the election path, shared by every participant (created as container nodes)
   * @param options - see {@link LeaderSelectorOptions}
   * @throws `InvalidPathError` for a bad path or the root, `InvalidArgumentError` for a missing
   *   client or bad options, `DataTooLargeError` for an id larger than the client's `maxDataBytes`
   */
  constructor(client: ZkClient, path: string, options: LeaderSelectorOptions = {}) {
    super();
    const id = checkElectionArgs(client, path, options.id);
    const autoRequeue = options.autoRequeue ?? false;
    if (typeof autoRequeue !== 'boolean') {
      throw new InvalidArgumentError('autoRequeue must be a boolean');
    }
    this.path = path;
    this.id = id;
    this.autoRequeue = autoRequeue;
    this.#client = client;
    // Without an id, the node carries the local address, as Curator's selector's does: Curator
    // stores the id only when there is one, else its client's default data.
    this.#candidate = new Candidate(client, path, 'lock-', id, id === '' ? defaultNodeData() : id);
  }

  /** `latent` until the first `run()`, `closed` after `close()`, else `started`. */
  get state(): LeaderSelectorState {
    return this.#state;
  }

  /** Whether this participant leads right now: a term is held and its signal has not aborted. */
  get hasLeadership(): boolean {
    return this.#term?.live ?? false;
  }

  /** The current term while this participant leads, else `undefined`. */
  get term(): LeadershipTerm | undefined {
    const term = this.#term;
    return term?.live ? term.value : undefined;
  }

  /** Full path of this participant's node while it stands in line or leads, else `undefined`. */
  get nodePath(): string | undefined {
    return this.#candidate.nodePath;
  }

  /**
   * Waits for this participant's turn and runs `leadership` with the term; the term (and the
   * node in line) ends when it returns or throws. With `autoRequeue`, joins the line again and
   * repeats until `close()` or the signal. Waits for the client to connect if it is not yet.
   *
   * Resolves when the run is over: after the one term, or — with `autoRequeue` — once the
   * selector is closed. An error thrown by `leadership` while its term was live rejects the run
   * (without `autoRequeue`) or is emitted as `error` (with it); an error thrown after the term's
   * signal aborted is taken as the function's way of stopping and ignored.
   *
   * A server error on the way into the line the first time (e.g. `NoAuthError`: the election path
   * refuses this client) rejects the run, as it would every retry; later ones are emitted as
   * `error` and retried with backoff.
   *
   * @param options - `signal`/`timeout` end this run: the term is revoked, the node deleted, and
   *   the run rejects with the signal's reason (a `ZkTimeoutError`, `name` `'TimeoutError'`, on
   *   timeout)
   * @throws {@link ElectionStateError} while another run is in progress,
   *   {@link ElectionClosedError} after `close()`, `ClientClosedError` when the client closes, a
   *   server error such as `NoAuthError` before the first place in line;
   *   `InvalidArgumentError` (synchronously) when `leadership` is not a function
   */
  run(leadership: Leadership, options: WaitOptions = {}): Promise<void> {
    if (typeof leadership !== 'function') {
      throw new InvalidArgumentError('leadership must be a function');
    }
    // Checked before anything changes: a bad signal must not leave the selector started.
    const own = waitSignal(`LeaderSelector ${this.path}: run not finished`, options);
    if (this.#state === 'closed') return Promise.reject(new ElectionClosedError(this.path));
    if (this.#running) {
      return Promise.reject(new ElectionStateError(this.path, 'a run is already in progress'));
    }
    this.#state = 'started';
    this.#candidate.attach();
    const stop = own ? anySignal([own, this.#stop.signal]) : this.#stop.signal;
    const onStop = () => this.#term?.revoke('closed');
    stop.addEventListener('abort', onStop, { once: true });
    const running = this.#loop(leadership, stop).finally(() => {
      stop.removeEventListener('abort', onStop);
      this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  /**
   * The current leader's id, read from the server, or `null` when nobody takes part (the first
   * node in order whose data can be read, as in Curator).
   */
  async leader(options: { signal?: AbortSignal } = {}): Promise<string | null> {
    return (await readLeader(this.#client, this.path, 'lock-', options.signal))?.id ?? null;
  }

  /** Every participant, in election order, read from the server (`1 + n` requests). */
  participants(options: { signal?: AbortSignal } = {}): Promise<Participant[]> {
    return readParticipants(this.#client, this.path, 'lock-', options.signal);
  }

  /**
   * The leader now, then each time it changes (`null` while there is none), for processes that
   * do not take part. Ends when `signal` aborts, the selector is closed, or the client is closed.
   * See `LeaderLatch.observe` for the details.
   */
  observe(options: { signal?: AbortSignal } = {}): AsyncIterable<Participant | null> {
    const stop = options.signal
      ? anySignal([options.signal, this.#stop.signal])
      : this.#stop.signal;
    return observeLeader(this.#client, this.path, 'lock-', stop);
  }

  /**
   * Stops for good: revokes the current term (its signal aborts), leaves the line, waits for the
   * leadership function to return, and deletes the node (retrying across reconnects until it or
   * its session is gone). A pending `run()` resolves. Idempotent.
   *
   * Do not await `close()` from inside the leadership function — it waits for that function to
   * return; return from it instead.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#state = 'closed';
    this.#term?.revoke('closed');
    this.#stop.abort(new ElectionClosedError(this.path));
    this.#candidate.detach();
    this.#closing = (async () => {
      await this.#running?.catch(() => undefined);
      await this.#candidate.release();
    })();
    return this.#closing;
  }

  /** Same as `close()`; enables `await using selector = …`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #loop(leadership: Leadership, stop: AbortSignal): Promise<void> {
    // Until this run has stood in line once, a failure (NoAuthError, …) would only repeat: it
    // rejects the run, as LeaderLatch.start does, instead of retrying unseen.
    let joined = false;
    const hooks = {
      joined: () => {
        joined = true;
      },
      failed: (error: unknown) => {
        if (!joined) throw error;
        this.#emit(error);
      },
    };
    let thrown: { error: unknown } | undefined;
    try {
      for (;;) {
        const win = await this.#candidate.campaign(stop, hooks);
        joined = true;
        const term = win.term;
        this.#term = term;
        if (electedChannel.hasSubscribers) electedChannel.publish(message(this.path, term.value));
        const holding = this.#candidate.hold(term, win.scope.signal);
        let failure: { error: unknown } | undefined;
        try {
          await leadership(term.value);
        } catch (error) {
          if (term.live) failure = { error };
        }
        // The node goes first, then the term ends, in one synchronous step: a hand-off waits
        // for the deletion and for nothing else done here.
        const released = this.#candidate.release();
        sendNow(this.#client);
        term.revoke('ended');
        win.scope.done();
        await holding;
        if (this.#term === term) this.#term = undefined;
        if (revokedChannel.hasSubscribers) revokedChannel.publish(message(this.path, term.value));
        await released;
        if (failure && !this.autoRequeue) {
          thrown = failure;
          throw failure.error;
        }
        if (failure) this.#emit(failure.error);
        if (!this.autoRequeue) return;
      }
    } catch (error) {
      if (error instanceof ClientClosedError && !this.#stop.signal.aborted) void this.close();
      if (thrown || !stop.aborted) throw error;
      // Ended by close(): a normal end. Ended by the run's own signal: reject with its reason.
      if (this.#stop.signal.aborted) return;
      throw stop.reason;
    } finally {
      await this.#candidate.release();
    }
  }

  #emit(error: unknown): void {
    this.emit('error', error);
  }
}

function message(path: string, term: LeadershipTerm): ElectionMessage {
  return { path, participantId: term.participantId, fencingToken: term.fencingToken };
}
