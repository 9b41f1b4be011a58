/**
 * Watched reads and what is built on them: the one-shot watches, `watchOnce`,
 * `waitForDeletion`, and the `watchData` / `watchChildren` iterators that re-read after every
 * change and every reconnect.
 *
 * @internal
 * @module
 */
import type { NodeEventKind, Transport } from './binding.js';
import type { Emitter } from './emitter.js';
import {
  ClientClosedError,
  InvalidArgumentError,
  NoNodeError,
  SessionExpiredError,
  isRetryable,
} from './errors.js';
import type { Executor } from './executor.js';
import type {
  ChildrenSnapshot,
  ConnectionState,
  DataSnapshot,
  ReadOptions,
  WatchedReadOptions,
  Watched,
  ZkClientEvents,
} from './options.js';
import { validatePath } from './paths.js';
import { QueuedIterator } from './queued-iterator.js';
import type { SessionState } from './session-state.js';
import { combineSignals, follow, raceSignal, validateSignal, type WaitOptions } from './signals.js';
import type { Stat } from './stat.js';
import { WatchRegistry, publicEventType, type NodeEvent, type WatchType } from './watches.js';
import { releaseWatch, type WatchRemovalHost } from './watch-removal.js';

const EVENT_TYPES: readonly unknown[] = ['created', 'deleted', 'dataChanged', 'childrenChanged'];

/** The watched reads of one client, and the callers waiting on their watches. */
export class WatchedReads {
  readonly #client: Emitter<ZkClientEvents>;
  readonly #session: SessionState;
  readonly #exec: Executor;
  readonly #watches = new WatchRegistry();

  /** @param client - the client whose state events end a wait or wake an iterator */
  constructor(client: Emitter<ZkClientEvents>, session: SessionState, executor: Executor) {
    this.#client = client;
    this.#session = session;
    this.#exec = executor;
  }

  /** Number of callers waiting on a watch. */
  get size(): number {
    return this.#watches.size;
  }

  /** A node event of the client's transport (path with the namespace). */
  dispatch(kind: NodeEventKind, path: string): void {
    this.#watches.dispatch(kind, path);
  }

  /** The callers waiting on watches, by path (for watch removal). */
  get registry(): WatchRegistry {
    return this.#watches;
  }

  /** What watch removal uses: set by the client on the wire transport. */
  removal: WatchRemovalHost | undefined;

  /** Rejects every waiter: the session's watches are gone, or the client closed. */
  rejectAll(error: Error): void {
    this.#watches.rejectAll(error);
  }

  existsWatched(path: string, options: WatchedReadOptions = {}): Promise<Watched<Stat | null>> {
    validatePath(path);
    checkKeep(options);
    return this.#watched(path, 'data', options, 'exists', (t, full) => t.exists(full, true));
  }

  getWatched(
    path: string,
    options: WatchedReadOptions = {},
  ): Promise<Watched<{ data: Buffer; stat: Stat }>> {
    validatePath(path);
    checkKeep(options);
    return this.#watched(path, 'data', options, 'get', (t, full) => t.get(full, true));
  }

  getChildrenWatched(
    path: string,
    options: WatchedReadOptions = {},
  ): Promise<Watched<{ children: string[]; stat: Stat }>> {
    validatePath(path);
    checkKeep(options);
    return this.#watched(path, 'child', options, 'getChildren', (t, full) =>
      t.getChildren(full, true),
    );
  }

  async watchOnce(
    path: string,
    type: NodeEvent['type'],
    options: WaitOptions = {},
  ): Promise<NodeEvent> {
    validatePath(path);
    if (!EVENT_TYPES.includes(type)) {
      throw new InvalidArgumentError(`unknown event type ${String(type)}`);
    }
    const signal = combineSignals(options);
    const opts = signal ? { signal } : {};
    // Returns the watched stat, and whether the node was missing at some point of the read.
    const read = async (): Promise<[Watched<Stat | null>, boolean]> => {
      if (type !== 'childrenChanged') return [await this.existsWatched(path, opts), false];
      let wasMissing = false;
      for (;;) {
        try {
          const w = await this.getChildrenWatched(path, opts);
          return [{ value: w.value.stat, changed: w.changed, cancel: w.cancel }, wasMissing];
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
        }
        wasMissing = true;
        const ex = await this.existsWatched(path, opts);
        if (ex.value === null) return [ex, true];
        // Created in between: list again, so that a child watch is armed.
        ex.cancel();
      }
    };
    // Events between a firing and the re-arm are not delivered, so each re-read is compared
    // with the first one: a change of the awaited kind counts even if its event was missed.
    let baseline: Stat | null | undefined;
    for (;;) {
      const [watched, wasMissing] = await read();
      if (baseline === undefined) baseline = wasMissing ? null : watched.value;
      if (baseline !== watched.value && happened(type, baseline, watched.value)) {
        watched.cancel();
        return { type, path };
      }
      const event = await watched.changed;
      if (event.type === type) return event;
    }
  }

  async waitForDeletion(path: string, options: WaitOptions = {}): Promise<void> {
    validatePath(path);
    const signal = combineSignals(options);
    for (;;) {
      const watched = await this.existsWatched(path, signal ? { signal } : {});
      if (watched.value === null) {
        watched.cancel();
        return;
      }
      const event = await watched.changed;
      if (event.type === 'deleted') return;
    }
  }

  watchData(path: string, options: ReadOptions = {}): AsyncIterableIterator<DataSnapshot> {
    return this.#watchLoop(path, options.signal, async (signal) => {
      const ex = await this.existsWatched(path, { signal });
      if (ex.value === null) return { value: null, changed: ex.changed, cancel: ex.cancel };
      try {
        const got = await this.getWatched(path, { signal });
        ex.cancel();
        return got;
      } catch (error) {
        if (error instanceof NoNodeError)
          return { value: null, changed: ex.changed, cancel: ex.cancel };
        ex.cancel();
        throw error;
      }
    });
  }

  watchChildren(path: string, options: ReadOptions = {}): AsyncIterableIterator<ChildrenSnapshot> {
    return this.#watchLoop(path, options.signal, async (signal) => {
      try {
        return await this.getChildrenWatched(path, { signal });
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        const ex = await this.existsWatched(path, { signal });
        if (ex.value !== null) {
          ex.cancel();
          return { value: null, changed: Promise.resolve(created(path)), cancel: () => undefined };
        }
        return { value: null, changed: ex.changed, cancel: ex.cancel };
      }
    });
  }

  #watchLoop<T>(
    path: string,
    userSignal: AbortSignal | undefined,
    read: (signal: AbortSignal) => Promise<Watched<T>>,
  ): QueuedIterator<T> {
    const session = this.#session;
    const closed = () => session.state === 'closed';
    return new QueuedIterator<T>(
      async (it) => {
        // Checked on the first pull, as the generators these loops once were did.
        validatePath(path);
        validateSignal(userSignal);
        // A reconnect (same or new session) is a reason to re-read: changes may have been missed.
        let wake: (() => void) | undefined;
        const onState = (now: ConnectionState) => {
          if (now === 'reconnected') wake?.();
        };
        this.#client.on('state', onState);
        try {
          while (!it.signal.aborted && !closed()) {
            // Each turn's reads hang off a signal of their own that dies with the turn, so the
            // iteration's signal gains nothing per snapshot.
            const turn = new AbortController();
            const endTurn = () => turn.abort(it.signal.reason);
            it.signal.addEventListener('abort', endTurn, { once: true });
            try {
              let watched: Watched<T>;
              try {
                watched = await read(turn.signal);
              } catch (error) {
                if (it.signal.aborted || error instanceof ClientClosedError) return;
                if (isRetryable(error) || error instanceof SessionExpiredError) {
                  await session
                    .waitForState(() => session.isConnected, it.signal, false)
                    .catch(() => undefined);
                  continue;
                }
                throw error;
              }
              try {
                it.push(watched.value);
                // The next read is made when the consumer asks for it, so it sees fresh state.
                if (!(await it.wanted())) return;
                await it.until(
                  new Promise<void>((resolve) => {
                    wake = resolve;
                    watched.changed.then(
                      () => resolve(),
                      () => resolve(),
                    );
                  }),
                );
              } finally {
                wake = undefined;
                watched.cancel();
              }
              if (!session.isConnected && !closed()) {
                await session
                  .waitForState(() => session.isConnected, it.signal, false)
                  .catch(() => undefined);
              }
            } finally {
              it.signal.removeEventListener('abort', endTurn);
              turn.abort();
            }
          }
        } finally {
          this.#client.off('state', onState);
        }
      },
      userSignal instanceof AbortSignal ? { signal: userSignal } : {},
    );
  }

  async #watched<T>(
    path: string,
    type: WatchType,
    options: WatchedReadOptions,
    op: string,
    read: (t: Transport, full: string) => Promise<T>,
  ): Promise<Watched<T>> {
    const { signal } = options;
    const keepOnAbort = options.keepServerWatch === true;
    const full = this.#exec.abs(path);
    // Register before the read so an event racing the reply is not missed.
    const registration = this.#watches.add(full, type);
    let value: T;
    let sent: Promise<T> | undefined;
    try {
      value = await this.#exec.exec(op, path, signal, true, (t) => (sent = read(t, full)));
    } catch (error) {
      registration.remove();
      // Given up on while in flight: the server sets the watch when it answers, so remove it
      // then (unless someone else watches the path by that time).
      const removal = this.removal;
      if (signal?.aborted && !keepOnAbort && sent && removal) {
        sent.then(
          () => releaseWatch(removal, full, type),
          () => undefined,
        );
      }
      throw error;
    }
    const { promise, remove } = registration;
    // Linked to `signal` only until the watch settles: a cache's or a queue's lifetime signal
    // sees a watch of theirs every few requests, and must not keep anything of each.
    const cancelled = new AbortController();
    const unlink = signal ? follow(signal, cancelled) : () => undefined;
    const changed = raceSignal(promise, cancelled.signal).then(
      (kind: NodeEventKind) => {
        unlink();
        return { type: publicEventType(kind), path };
      },
      (error: unknown) => {
        unlink();
        remove();
        if (!keepServerWatch && this.removal) releaseWatch(this.removal, full, type);
        throw error;
      },
    );
    changed.catch(() => undefined);
    // Ended by the signal: as the read's options say. By `cancel()`: as its own options say.
    let keepServerWatch = keepOnAbort;
    const cancel = (cancelOptions?: { readonly keepServerWatch?: boolean }) => {
      if (cancelled.signal.aborted) return;
      keepServerWatch = cancelOptions?.keepServerWatch === true;
      cancelled.abort(WATCH_CANCELLED);
    };
    return { value, changed, cancel };
  }
}

/**
 * The reason a cancelled watch's `changed` rejects with. One instance for all: building a
 * `DOMException` (and its stack) at every cancel cost more than the cancel itself.
 */
const WATCH_CANCELLED = new DOMException('watch cancelled', 'AbortError');

/** Whether a re-read shows a change of the awaited kind since the baseline read. */
function happened(type: NodeEvent['type'], before: Stat | null, now: Stat | null): boolean {
  switch (type) {
    case 'created':
      return before === null ? now !== null : now !== null && now.czxid !== before.czxid;
    case 'deleted':
      return before !== null && (now === null || now.czxid !== before.czxid);
    case 'dataChanged':
      return before !== null && now !== null && now.mzxid !== before.mzxid;
    case 'childrenChanged':
      return (
        (now?.cversion ?? 0) !== (before?.cversion ?? 0) || (before === null) !== (now === null)
      );
  }
}

function created(path: string): NodeEvent {
  return { type: 'created', path };
}

/** A watched read's `keepServerWatch`, checked before anything is sent. */
function checkKeep(options: WatchedReadOptions): void {
  const keep = options.keepServerWatch;
  if (keep !== undefined && typeof keep !== 'boolean') {
    throw new InvalidArgumentError('keepServerWatch must be a boolean');
  }
}
