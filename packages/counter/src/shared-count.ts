import {
  BadVersionError,
  Emitter,
  InvalidArgumentError,
  NodeExistsError,
  QueuedIterator,
  checkLineArgs,
  combineSignals,
  raceSignal,
  type Stat,
  type WaitOptions,
  type ZkClient,
} from '@zkit/core';
import { CounterDataError, CounterStateError } from './errors.js';

/** A count and the node version it was read at, as {@link SharedCount.get} returns it. */
export interface VersionedCount {
  /** The count, a signed 32-bit integer. */
  readonly value: number;
  /**
   * The node's data version when `value` was read; pass it to {@link SharedCount.trySet}.
   * `-1` before the first read.
   */
  readonly version: number;
}

/** Events of {@link SharedCount}. */
export interface SharedCountEvents {
  /** The count changed (seen through the node's data watch, or written by this object). */
  change: [count: VersionedCount];
  /**
   * Watching failed in a way that will not heal by itself (`NoAuthError`, a
   * {@link CounterDataError} for a node holding something else than a count, a failed listener).
   */
  error: [error: unknown];
}

/** Life cycle of a {@link SharedCount}: `latent` → `started` → `closed`. */
export type SharedCountState = 'latent' | 'started' | 'closed';

/** Settles `start()` with the first read. */
interface Ready {
  resolve(): void;
  reject(error: unknown): void;
}

const MIN = -0x80000000;
const MAX = 0x7fffffff;

/**
 * A 32-bit integer shared by every process that uses the same node, watched so that each one
 * sees the current value: Apache Curator's `SharedCount` layout (the node's data is the count as
 * 4 bytes, big-endian, two's complement), so Java and Node services can share one.
 *
 * `start()` creates the node with the seed value if it is missing (container parents), reads it
 * and watches it; from then on {@link SharedCount.get} is a local read of the last value seen,
 * `change` events and {@link SharedCount.changes} report every new value, and
 * {@link SharedCount.trySet} changes it only if nobody else did since a given version — the
 * building block for any read-modify-write. To count up under contention, {@link AtomicLong}
 * does the retrying for you.
 *
 * **Connection trouble.** While the connection is suspended, `get()` returns the last value seen
 * (it may be stale); after a reconnect, to the same session or a new one, the node is read again
 * and a change reported if it moved. Versions restart at 0 when the node is deleted and
 * recreated, so a version read before that may match again: do not delete a count in use.
 *
 * **Writes.** `trySet` and `set` are retried across connection losses. A `trySet` whose first
 * attempt's reply was lost and whose retry fails the version check cannot know whether it wrote:
 * it rejects with `@zkit/core`'s `UnknownWriteOutcomeError` rather than answering `false`.
 *
 * @example
 * ```ts
 * import { ZkClient } from '@zkit/core';
 * import { SharedCount } from '@zkit/counter';
 *
 * const client = new ZkClient('127.0.0.1:2181');
 * await client.start();
 * await using workers = new SharedCount(client, '/config/workers', 4);
 * await workers.start();
 * workers.on('change', ({ value }) => resize(value));
 * const { value, version } = workers.get();
 * if (!(await workers.trySet(value + 1, version))) {
 *   // someone else changed it first: read the new value and decide again
 * }
 * ```
 */
export class SharedCount extends Emitter<SharedCountEvents> {
  /** The client the count borrows (never closed by it). */
  readonly client: ZkClient;
  /** The count's node. */
  readonly path: string;
  /** The value `start()` creates the node with when it is missing. */
  readonly seed: number;
  #state: SharedCountState = 'latent';
  #current: VersionedCount;
  /** The `mzxid` of the value in `#current`: tells a new write from a re-read of the same one. */
  #mzxid = -1n;
  readonly #stop = new AbortController();
  #watching: Promise<void> | undefined;

  /**
   * Local and cheap: nothing is sent until `start()`.
   *
   * @param seed - the value the node is created with when missing; default 0
   * @throws `InvalidPathError` for a malformed path or the root, `InvalidArgumentError` for a
   *   missing client or a seed that is not a signed 32-bit integer
   */
  constructor(client: ZkClient, path: string, seed = 0) {
    super();
    this.path = checkLineArgs(client, path, 'a shared count');
    checkInt32(seed, 'seed');
    this.client = client;
    this.seed = seed;
    this.#current = Object.freeze({ value: seed, version: -1 });
  }

  /** `latent` until `start()`, `started` until `close()`, then `closed`. */
  get state(): SharedCountState {
    return this.#state;
  }

  /**
   * The last value seen and its version, without a request: the seed with version `-1` before
   * `start()` resolved. May be stale while the connection is down, or between a change on the
   * server and its watch event.
   */
  get(): VersionedCount {
    return this.#current;
  }

  /**
   * Creates the node with the seed if it is missing, reads it, and starts watching it. Resolves
   * once the value has been read. A `SharedCount` starts once.
   *
   * Rejects with the signal's reason on abort, a `ZkTimeoutError` after `timeout` ms, or the
   * client's request errors (`NoAuthError`, `ClientClosedError`, …); it is then closed.
   *
   * @throws {@link CounterStateError} synchronously unless `latent`; `InvalidArgumentError` for
   *   a bad timeout or signal
   */
  start(options: WaitOptions = {}): Promise<void> {
    if (this.#state !== 'latent') {
      throw new CounterStateError(this.path, `cannot start a shared count that is ${this.#state}`);
    }
    const signal = combineSignals(options, this.#stop.signal);
    this.#state = 'started';
    return this.#start(signal);
  }

  async #start(signal: AbortSignal | undefined): Promise<void> {
    try {
      try {
        await this.client.create(this.path, encode(this.seed), { parents: 'container', signal });
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
      }
      let ready!: Ready;
      const read = new Promise<void>((resolve, reject) => (ready = { resolve, reject }));
      read.catch(() => undefined);
      this.#watching = this.#watch(ready);
      await raceSignal(read, signal);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Follows the node until close: every snapshot that carries a new write updates the value. */
  async #watch(ready: Ready): Promise<void> {
    const signal = this.#stop.signal;
    try {
      for await (const snapshot of this.client.watchData(this.path, { signal })) {
        try {
          if (snapshot !== null) this.#update(snapshot.data, snapshot.stat);
          ready.resolve();
        } catch (error) {
          // A node holding something else than a count: start() fails with it; later, it is
          // reported and the last good value kept.
          ready.reject(error);
          this.emit('error', error);
        }
      }
      ready.reject(signal.reason);
    } catch (error) {
      // Before the first value, start() rejects with it; afterwards it is reported.
      ready.reject(error);
      if (!signal.aborted) this.emit('error', error);
    }
  }

  #update(data: Buffer, stat: Stat): void {
    // zxids only grow: a write of ours, learnt from its reply, may be reported again, or an
    // older value re-read, by the watch afterwards. Never step back.
    if (stat.mzxid <= this.#mzxid) return;
    const value = decode(this.path, data);
    this.#mzxid = stat.mzxid;
    this.#current = Object.freeze({ value, version: stat.version });
    this.emit('change', this.#current);
  }

  /**
   * Sets the count to `value` only if the node is still at `version` (compare-and-set), and
   * resolves whether it did. `false` means someone else wrote first: read {@link SharedCount.get}
   * again (after its `change` event, or {@link SharedCount.read} at once) and decide again.
   *
   * Rejects with `UnknownWriteOutcomeError` (from `@zkit/core`) when the reply of an attempt was
   * lost and a retry failed the version check: the write may or may not have happened. Rejects
   * with the client's request errors otherwise (`NoNodeError` when the node was deleted).
   *
   * @throws {@link CounterStateError} synchronously unless started; `InvalidArgumentError` for a
   *   value that is not a signed 32-bit integer or a version that is not an integer ≥ 0
   */
  trySet(value: number, version: number): Promise<boolean> {
    this.#checkWrite(value);
    if (!Number.isInteger(version) || version < 0 || version > MAX) {
      throw new InvalidArgumentError('version must be an integer ≥ 0');
    }
    return this.#trySet(value, version);
  }

  async #trySet(value: number, version: number): Promise<boolean> {
    let stat: Stat;
    try {
      stat = await this.client.set(this.path, encode(value), { version });
    } catch (error) {
      if (error instanceof BadVersionError) return false;
      throw error;
    }
    this.#wrote(value, stat);
    return true;
  }

  /**
   * Sets the count to `value` whatever it is now (a plain write, safe to retry).
   *
   * @throws {@link CounterStateError} synchronously unless started; `InvalidArgumentError` for a
   *   value that is not a signed 32-bit integer
   */
  set(value: number): Promise<void> {
    this.#checkWrite(value);
    return this.client.set(this.path, encode(value)).then((stat) => this.#wrote(value, stat));
  }

  /** Reads the count from the server now (one request), and updates {@link SharedCount.get}. */
  async read(options: { signal?: AbortSignal } = {}): Promise<VersionedCount> {
    const { data, stat } = await this.client.get(this.path, options);
    const value = decode(this.path, data);
    if (this.#state === 'started') this.#update(data, stat);
    return { value, version: stat.version };
  }

  /**
   * The current count, then each new one, as an async iterable; ends when the count is closed
   * or the signal aborts. Leaving the loop stops it. Values come from the same watch as `change`
   * events: several changes in quick succession may be seen as the last of them only.
   */
  changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<VersionedCount> {
    combineSignals(options);
    return new QueuedIterator<VersionedCount>(async (it) => {
      const onChange = (count: VersionedCount) => it.push(count);
      this.on('change', onChange);
      const stop = this.#stop.signal;
      const stopped = new Promise<void>((resolve) => {
        const onStop = () => resolve();
        stop.addEventListener('abort', onStop, { once: true });
        void it.until().then(() => stop.removeEventListener('abort', onStop));
      });
      try {
        if (this.#current.version >= 0) it.push(this.#current);
        await it.until(stopped);
      } finally {
        this.off('change', onChange);
      }
    }, options);
  }

  /** Stops watching. Idempotent; the node stays. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stop.abort(new CounterStateError(this.path, 'shared count closed'));
    await this.#watching;
  }

  /** Same as `close()`; enables `await using count = new SharedCount(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkWrite(value: number): void {
    checkInt32(value, 'value');
    if (this.#state !== 'started') {
      throw new CounterStateError(this.path, `cannot write a shared count that is ${this.#state}`);
    }
  }

  #wrote(value: number, stat: Stat): void {
    if (this.#state !== 'started' || stat.mzxid <= this.#mzxid) return;
    this.#mzxid = stat.mzxid;
    this.#current = Object.freeze({ value, version: stat.version });
    this.emit('change', this.#current);
  }
}

function checkInt32(value: unknown, name: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN || value > MAX) {
    throw new InvalidArgumentError(`${name} must be a signed 32-bit integer`);
  }
}

function encode(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

function decode(path: string, data: Buffer): number {
  if (data.length !== 4) throw new CounterDataError(path, data, '4');
  return data.readInt32BE(0);
}
