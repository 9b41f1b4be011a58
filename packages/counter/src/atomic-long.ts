import {
  BadVersionError,
  ClientClosedError,
  RequestRefusedError,
  SessionExpiredError,
  UnknownWriteOutcomeError,
  isRetryable,
  InvalidArgumentError,
  NoNodeError,
  NodeExistsError,
  ZkTimeoutError,
  checkLineArgs,
  combineSignals,
  delay,
  validatePath,
  validateTimeout,
  type WaitOptions,
  type ZkClient,
} from '@zkit/core';
import { Mutex } from '@zkit/lock';
import { AtomicOutcomeUnknownError, CounterDataError } from './errors.js';

/**
 * How often an {@link AtomicLong} operation tries again after losing a race to another writer,
 * and how long it waits in between: a random delay up to `minTimeout × 2^attempt` ms, capped at
 * `maxTimeout` (full jitter, so that contending writers spread out).
 */
export interface CounterRetry {
  /** Attempts after the first one. Default 10. */
  readonly retries?: number;
  /** The first delay's upper bound, ms. Default 1. */
  readonly minTimeout?: number;
  /** The largest delay, ms. Default 50. */
  readonly maxTimeout?: number;
}

/**
 * Curator's promoted mode: when the optimistic attempts all lose their races, take a
 * {@link @zkit/lock!Mutex} at `lockPath` (Curator's `InterProcessMutex` layout, so Java
 * processes using the same lock path queue with us) and try again while holding it.
 */
export interface PromotedToLock {
  /** The mutex's node; every process updating the counter should name the same one. */
  readonly lockPath: string;
  /** How long to wait for the mutex, ms; the operation then fails (`succeeded: false`). */
  readonly timeout?: number;
  /** Attempts under the mutex. Default: the same as the optimistic phase. */
  readonly retry?: CounterRetry;
}

/** Options of {@link AtomicLong}. */
export interface AtomicLongOptions {
  /** The optimistic phase's attempts; see {@link CounterRetry}. */
  readonly retry?: CounterRetry;
  /** Fall back to a mutex when the optimistic phase fails; see {@link PromotedToLock}. */
  readonly promoted?: PromotedToLock;
}

/**
 * What an {@link AtomicLong} operation did. When it `succeeded`, the counter went from
 * `preValue` to `postValue` by this operation's own write, applied exactly once. When it did not
 * (every attempt lost its race, or `compareAndSet` found another value), nothing was written;
 * `preValue` is the last value read and `postValue` the value it would have written.
 */
export interface AtomicResult {
  /** Whether this operation changed the counter. */
  readonly succeeded: boolean;
  /** The value before the change (the last value read when it failed). */
  readonly preValue: bigint;
  /** The value after the change (the value it tried to write when it failed). */
  readonly postValue: bigint;
}

const DEFAULT_RETRY = Object.freeze({ retries: 10, minTimeout: 1, maxTimeout: 50 });
const ZERO = Buffer.alloc(8);
/** Another writer won this attempt: read again. */
const LOST = Symbol('lost');

/**
 * A 64-bit counter shared by every process that uses the same node: Apache Curator's
 * `DistributedAtomicLong` layout (the node's data is the value as 8 bytes, big-endian, two's
 * complement; a missing node or empty data reads as 0), so Java and Node services can count
 * together. Arithmetic wraps around at 64 bits, as Java's does.
 *
 * Each operation reads the value and writes the new one on condition that nobody wrote in
 * between (the node's version); when someone did, it waits a random moment and tries again, up
 * to the retry policy. With `promoted`, it then takes a mutex and tries again while holding it,
 * so a writer that keeps losing races is not starved. An operation that runs out of attempts
 * resolves with `succeeded: false` and wrote nothing. Uncontended, an increment is two requests
 * (read, conditional write).
 *
 * **Exactly once, or typed as unknown.** A conditional write whose reply is lost (the connection
 * dropped) may or may not have been applied; a naive retry would count it twice. Here a result
 * with `succeeded: true` was applied exactly once, one with `succeeded: false` not at all, and
 * when the operation cannot know, it rejects with {@link AtomicOutcomeUnknownError}, whose
 * `preValue`/`postValue` say what may have been written.
 *
 * **Connection trouble.** Reads and writes are retried by the client's retry policy across a
 * suspended connection; a write is never abandoned half-way by `signal` or `timeout` (those stop
 * the reading and the waiting between attempts), because its outcome must be known.
 *
 * Errors: invalid path or options throw `InvalidPathError` / `InvalidArgumentError` from the
 * constructor, bad deltas and values from the method, before any I/O. A node holding something
 * else than a long rejects with {@link CounterDataError}. Timeouts reject with `ZkTimeoutError`,
 * aborts with the signal's reason.
 *
 * @example
 * ```ts
 * import { ZkClient } from '@zkit/core';
 * import { AtomicLong } from '@zkit/counter';
 *
 * const client = new ZkClient('127.0.0.1:2181');
 * await client.start();
 * const orders = new AtomicLong(client, '/counters/orders', {
 *   retry: { retries: 20 },
 *   promoted: { lockPath: '/counters/orders-lock', timeout: 5_000 },
 * });
 * const { succeeded, postValue } = await orders.increment();
 * if (succeeded) console.log(`order number ${postValue}`);
 * ```
 */
export class AtomicLong {
  /** The client the counter borrows (never closed by it). */
  readonly client: ZkClient;
  /** The counter's node. */
  readonly path: string;
  readonly #retry: Required<CounterRetry>;
  readonly #promoted:
    { mutex: Mutex; timeout: number | undefined; retry: Required<CounterRetry> } | undefined;

  /**
   * Local and cheap: nothing is sent until an operation runs.
   *
   * @throws `InvalidPathError` for a malformed path or lock path, `InvalidArgumentError` for a
   *   missing client or bad retry numbers
   */
  constructor(client: ZkClient, path: string, options: AtomicLongOptions = {}) {
    this.path = checkLineArgs(client, path, 'an atomic long');
    this.client = client;
    this.#retry = checkRetry(options.retry, DEFAULT_RETRY);
    const promoted = options.promoted;
    if (promoted !== undefined) {
      validatePath(promoted.lockPath);
      validateTimeout(promoted.timeout, 'promoted.timeout');
      this.#promoted = {
        mutex: new Mutex(client, promoted.lockPath),
        timeout: promoted.timeout,
        retry: checkRetry(promoted.retry, this.#retry),
      };
    }
  }

  /** Reads the value (one request): `succeeded` is `true`, `preValue` = `postValue`. */
  async get(options: { signal?: AbortSignal } = {}): Promise<AtomicResult> {
    const { value } = await this.#read(combineSignals(options));
    return { succeeded: true, preValue: value, postValue: value };
  }

  /** Adds one. See {@link AtomicLong.add}. */
  increment(options: WaitOptions = {}): Promise<AtomicResult> {
    return this.add(1n, options);
  }

  /** Subtracts one. See {@link AtomicLong.add}. */
  decrement(options: WaitOptions = {}): Promise<AtomicResult> {
    return this.add(-1n, options);
  }

  /**
   * Adds `delta` (negative to subtract), retrying as the policy allows.
   *
   * @throws `InvalidArgumentError` synchronously for a delta that is not a 64-bit integer (a
   *   `bigint`, or a safe integer `number`), or a bad timeout or signal
   */
  add(delta: bigint | number, options: WaitOptions = {}): Promise<AtomicResult> {
    const by = toLong(delta, 'delta');
    return this.#update((pre) => BigInt.asIntN(64, pre + by), options);
  }

  /**
   * Sets the value to `value` whatever it was, retrying as the policy allows when another writer
   * comes in between (Curator's `trySet`).
   *
   * @throws `InvalidArgumentError` synchronously for a value that is not a 64-bit integer
   */
  trySet(value: bigint | number, options: WaitOptions = {}): Promise<AtomicResult> {
    const next = toLong(value, 'value');
    return this.#update(() => next, options);
  }

  /**
   * Sets the value to `value` only if it is `expected` now: one read and, when it matches, one
   * conditional write. `succeeded: false` with `preValue` ≠ `expected` when it did not match,
   * and with `preValue` = `expected` when another writer changed the node in between. Never
   * retried.
   *
   * @throws `InvalidArgumentError` synchronously for values that are not 64-bit integers
   */
  compareAndSet(
    expected: bigint | number,
    value: bigint | number,
    options: WaitOptions = {},
  ): Promise<AtomicResult> {
    const want = toLong(expected, 'expected');
    const next = toLong(value, 'value');
    const signal = combineSignals(options);
    return (async () => {
      for (;;) {
        const { value: pre, version } = await this.#read(signal);
        if (pre !== want) return { succeeded: false, preValue: pre, postValue: next };
        const result = await this.#write(pre, next, version);
        // The node was deleted and recreated in between: look again.
        if (result === LOST && version < 0) continue;
        return result === LOST ? { succeeded: false, preValue: pre, postValue: next } : result;
      }
    })();
  }

  /**
   * Sets the value unconditionally (one write, creating the node when missing). Returns nothing
   * about the previous value, which it never reads (Curator's `forceSet`).
   *
   * @throws `InvalidArgumentError` synchronously for a value that is not a 64-bit integer
   */
  async forceSet(value: bigint | number, options: { signal?: AbortSignal } = {}): Promise<void> {
    const data = encode(toLong(value, 'value'));
    try {
      await this.client.set(this.path, data, options);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      try {
        await this.client.create(this.path, data, { parents: 'container', ...options });
      } catch (createError) {
        if (!(createError instanceof NodeExistsError)) throw createError;
        await this.client.set(this.path, data, options);
      }
    }
  }

  /** The optimistic phase, then the promoted one. */
  #update(make: (pre: bigint) => bigint, options: WaitOptions): Promise<AtomicResult> {
    const signal = combineSignals(options);
    return (async () => {
      const first = await this.#attempts(make, this.#retry, signal);
      if (first.succeeded || this.#promoted === undefined) return first;
      const { mutex, timeout, retry } = this.#promoted;
      let lease;
      try {
        lease = await mutex.acquire({ signal, timeout });
      } catch (error) {
        // The mutex's own bound ran out: the operation failed, as Curator's does.
        if (error instanceof ZkTimeoutError && !signal?.aborted) return first;
        throw error;
      }
      try {
        return await this.#attempts(make, retry, signal);
      } finally {
        await lease.release();
      }
    })();
  }

  /** Up to `1 + retries` read-modify-write attempts, with jittered waits in between. */
  async #attempts(
    make: (pre: bigint) => bigint,
    retry: Required<CounterRetry>,
    signal: AbortSignal | undefined,
  ): Promise<AtomicResult> {
    let last: AtomicResult | undefined;
    for (let attempt = 0; ; attempt++) {
      const { value: pre, version } = await this.#read(signal);
      const post = make(pre);
      const result = await this.#write(pre, post, version);
      if (result !== LOST) return result;
      last = { succeeded: false, preValue: pre, postValue: post };
      if (attempt >= retry.retries) return last;
      const bound = Math.min(retry.maxTimeout, retry.minTimeout * 2 ** attempt);
      await delay(Math.random() * bound, signal);
    }
  }

  /**
   * The value and its node's version; a missing node reads as 0 at version -1 (it is created on
   * the first write).
   */
  async #read(signal: AbortSignal | undefined): Promise<{ value: bigint; version: number }> {
    try {
      const { data, stat } = await this.client.get(this.path, { signal });
      return { value: decode(this.path, data), version: stat.version };
    } catch (error) {
      if (error instanceof NoNodeError) return { value: 0n, version: -1 };
      throw error;
    }
  }

  /**
   * Writes `post` if the node is still at `version` (creates it when `version` is -1). The write
   * is not tied to the caller's signal: once sent, its outcome must be learnt.
   */
  async #write(pre: bigint, post: bigint, version: number): Promise<AtomicResult | typeof LOST> {
    try {
      if (version < 0) {
        // A create retried after a lost reply finds our own node and cannot tell it from
        // another writer's: so the node is created holding 0, which is harmless to create
        // twice, and the next attempt writes conditionally like any other.
        await this.client.create(this.path, ZERO, { parents: 'container' }).catch((error) => {
          if (!(error instanceof NodeExistsError)) throw error;
        });
        return LOST;
      }
      await this.client.set(this.path, encode(post), { version });
      return { succeeded: true, preValue: pre, postValue: post };
    } catch (error) {
      // Someone else wrote (or deleted) in between: this attempt wrote nothing.
      if (error instanceof BadVersionError || error instanceof NoNodeError) return LOST;
      if (version >= 0 && mayHaveWritten(error)) {
        throw new AtomicOutcomeUnknownError(this.path, pre, post, error);
      }
      throw error;
    }
  }
}

/**
 * Whether a failed conditional write may still have been applied: its request may have reached
 * the server (`UnknownWriteOutcomeError`: a retry failed the version check after a lost reply;
 * a connection error once the client's retries ran out; a session expiry or close while it was
 * in flight). Every other error is the server's answer, so nothing was written.
 */
function mayHaveWritten(error: unknown): boolean {
  return (
    error instanceof UnknownWriteOutcomeError ||
    isRetryable(error) ||
    error instanceof RequestRefusedError ||
    error instanceof SessionExpiredError ||
    error instanceof ClientClosedError
  );
}

function checkRetry(
  retry: CounterRetry | undefined,
  base: Required<CounterRetry>,
): Required<CounterRetry> {
  const merged = { ...base, ...retry };
  for (const [name, n] of Object.entries(merged)) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
      throw new InvalidArgumentError(`retry.${name} must be an integer ≥ 0`);
    }
  }
  return Object.freeze(merged);
}

function toLong(value: unknown, name: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'bigint' && BigInt.asIntN(64, value) === value) return value;
  throw new InvalidArgumentError(
    `${name} must be a signed 64-bit integer (bigint or safe integer)`,
  );
}

function encode(value: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(value);
  return buffer;
}

function decode(path: string, data: Buffer): bigint {
  if (data.length === 0) return 0n;
  if (data.length !== 8) throw new CounterDataError(path, data, '0 or 8');
  return data.readBigInt64BE(0);
}
