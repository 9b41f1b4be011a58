/**
 * The one async iterator behind every async iterable zkit returns: a producer pushes values, a
 * consumer pulls them with `for await`, and ending the loop stops the producer and releases
 * everything it holds.
 *
 * @module
 */

/**
 * The work behind a {@link QueuedIterator}: pushes values until it is done, or until
 * `iterator.signal` aborts. Its promise settling ends the iteration (a rejection is thrown to
 * the consumer once the values pushed before it have been pulled).
 */
export type Producer<T> = (iterator: QueuedIterator<T>) => Promise<void>;

/** Options of a {@link QueuedIterator}. */
export interface QueuedIteratorOptions {
  /**
   * Ends the iteration when it aborts: values not pulled yet are dropped and the loop ends
   * without an error. The iterator adds one listener to it while it runs and removes it when the
   * iteration ends.
   */
  readonly signal?: AbortSignal | undefined;
}

const ENDED: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** Compacting the buffer costs a copy; do it only once the dead head is large and most of it. */
const COMPACT_AT = 1024;

interface Pull<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

/**
 * An async iterator fed by pushes: `push()` queues a value (or hands it to a waiting `next()`),
 * `stop()` ends the iteration after the queued values, with or without an error, and the
 * consumer pulls with `for await`. Leaving the loop (`break`, `return`, a throw), or the
 * `signal` option aborting, ends it at once: {@link QueuedIterator.signal} aborts so the producer
 * stops, queued values are dropped, and `return()` resolves once the producer has settled, so
 * whatever the producer held has been released when the loop is left.
 *
 * Waiting never leaks: every wait of the iterator and of {@link QueuedIterator.until} removes
 * what it added to a signal when it ends, so a loop that runs for days keeps a constant number of
 * listeners and a constant heap.
 *
 * A producer given to the constructor starts on the first `next()` (like an async generator's
 * body): an iterator that is never iterated costs nothing.
 *
 * @example
 * ```ts
 * function ticks(ms: number, options: { signal?: AbortSignal } = {}): QueuedIterator<number> {
 *   return new QueuedIterator<number>(async (it) => {
 *     for (let n = 0; !it.signal.aborted; n++) {
 *       it.push(n);
 *       if (!(await it.wanted())) return; // the consumer left
 *       await it.until(delay(ms, it.signal).catch(() => undefined));
 *     }
 *   }, options);
 * }
 * for await (const n of ticks(1000)) if (n === 3) break; // stops the producer
 * ```
 */
export class QueuedIterator<T> implements AsyncIterableIterator<T, undefined>, AsyncDisposable {
  readonly #controller = new AbortController();
  readonly #produce: Producer<T> | undefined;
  readonly #userSignal: AbortSignal | undefined;
  /** Queued values from `#head` on; the dead prefix is cut off now and then. */
  #values: T[] = [];
  #head = 0;
  #pulls: Pull<T>[] = [];
  #wanted: ((wanted: boolean) => void)[] = [];
  #started = false;
  /** No more values will be queued. */
  #stopped = false;
  #failure: { error: unknown } | undefined;
  #producing: Promise<void> | undefined;

  /**
   * @param produce - started on the first `next()`; when it settles the iteration ends (see
   *   {@link Producer})
   * @param options - see {@link QueuedIteratorOptions}
   * @throws `TypeError` if `produce` is given and is not a function
   */
  constructor(produce?: Producer<T>, options: QueuedIteratorOptions = {}) {
    if (produce !== undefined && typeof produce !== 'function') {
      throw new TypeError('produce must be a function');
    }
    this.#produce = produce;
    this.#userSignal = options.signal;
  }

  /**
   * Aborts once the iteration has ended: the consumer left the loop, `stop()` was called, or the
   * `signal` option aborted. Producers pass it to their waits (or wait with
   * {@link QueuedIterator.until}) so they stop with the consumer.
   */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** `true` once no more values will be queued. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The number of values pushed and not pulled yet. */
  get size(): number {
    return this.#values.length - this.#head;
  }

  /** Queues a value, or hands it to a waiting `next()`. Ignored once the iterator has stopped. */
  push(value: T): void {
    if (this.#stopped) return;
    const pull = this.#pulls.shift();
    if (pull) pull.resolve({ done: false, value });
    else this.#values.push(value);
  }

  /**
   * Ends the iteration once the values already queued have been pulled; with an `error`, the
   * consumer's next `next()` after them rejects with it. Idempotent: only the first call counts.
   */
  stop(error?: unknown): void {
    if (this.#stopped) return;
    if (error !== undefined) this.#failure = { error };
    this.#finish(new DOMException('iteration stopped', 'AbortError'));
  }

  /**
   * Resolves `true` once the consumer waits for a value and none is queued: a producer that
   * reads on demand (fresh state rather than a backlog) awaits it before its next read.
   * Resolves `false` once the iteration has ended.
   */
  wanted(): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    if (this.#pulls.length > 0 && this.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => this.#wanted.push(resolve));
  }

  /**
   * Settles like `promise`, but resolves with `undefined` as soon as the iteration ends (at once
   * if it has ended). Without a promise it waits for the end. The listener it adds to
   * {@link QueuedIterator.signal} is removed when the wait ends, whichever way.
   */
  until<V>(promise?: PromiseLike<V>): Promise<V | undefined> {
    const signal = this.#controller.signal;
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise<V | undefined>((resolve, reject) => {
      const onAbort = () => resolve(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      promise?.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** The next value; `done` once the iteration has ended and the producer has settled. */
  next(): Promise<IteratorResult<T, undefined>> {
    if (!this.#started) this.#start();
    if (this.size > 0) {
      const value = this.#values[this.#head] as T;
      this.#values[this.#head] = undefined as T;
      this.#head += 1;
      if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#values.length) {
        this.#values = this.#values.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#stopped) return this.#end();
    return new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      this.#pulls.push({ resolve, reject });
      const wanted = this.#wanted;
      this.#wanted = [];
      for (const w of wanted) w(true);
    });
  }

  /**
   * Ends the iteration at once (what `break` calls): drops queued values, aborts
   * {@link QueuedIterator.signal}, and resolves once the producer has settled.
   */
  async return(): Promise<IteratorResult<T, undefined>> {
    this.#drop(new DOMException('iteration ended', 'AbortError'));
    await this.#producing;
    return ENDED;
  }

  /** Same as {@link QueuedIterator.return}: `await using it = ...` ends the iteration. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** The iterator itself: it is iterated once. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  #start(): void {
    this.#started = true;
    if (this.#stopped) return; // ended before the first pull: nothing to start
    const user = this.#userSignal;
    if (user?.aborted) {
      this.#drop(user.reason);
      return;
    }
    user?.addEventListener('abort', this.#onUserAbort, { once: true });
    const produce = this.#produce;
    if (produce) {
      this.#producing = Promise.resolve()
        .then(() => produce(this))
        .then(
          () => this.stop(),
          (error: unknown) => this.stop(error),
        );
    }
  }

  readonly #onUserAbort = (): void => {
    this.#drop(this.#userSignal?.reason);
  };

  /** Ends without delivering what is queued. */
  #drop(reason: unknown): void {
    this.#values = [];
    this.#head = 0;
    this.#failure = undefined;
    this.#finish(reason);
  }

  #finish(reason: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#userSignal?.removeEventListener('abort', this.#onUserAbort);
    this.#controller.abort(reason);
    const wanted = this.#wanted;
    this.#wanted = [];
    for (const w of wanted) w(false);
    // Waiting pulls exist only while nothing is queued: each gets the end.
    const pulls = this.#pulls;
    this.#pulls = [];
    for (const pull of pulls) this.#end().then(pull.resolve, pull.reject);
  }

  /** The end, once the producer has settled: the failure once, then `done`. */
  async #end(): Promise<IteratorResult<T, undefined>> {
    await this.#producing;
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure) throw failure.error;
    return ENDED;
  }
}
