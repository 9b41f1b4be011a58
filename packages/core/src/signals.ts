import { InvalidArgumentError } from './errors.js';

/** Options of every zkit call that can wait. */
export interface WaitOptions {
  /** Aborts the wait; the call rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Upper bound in milliseconds; the call rejects with a `TimeoutError` DOMException when it is
   * reached. Never resolves with `false` instead.
   */
  readonly timeout?: number | undefined;
}

/**
 * The longest wait a timer can express, ms (2^31 − 1, about 24.8 days). Node fires a longer
 * `setTimeout` after 1 ms, so a longer bound would end a wait almost at once.
 */
const MAX_TIMEOUT = 0x7fffffff;

/**
 * Checks a `timeout` option: an integer number of milliseconds in [0, 2^31 − 1], or
 * `undefined` for no bound. Throws {@link InvalidArgumentError} before any I/O otherwise (Node's
 * timers reject fractions with a `RangeError` and cut longer waits to 1 ms).
 */
export function validateTimeout(timeout: unknown, name = 'timeout'): void {
  if (timeout === undefined) return;
  if (
    typeof timeout !== 'number' ||
    !Number.isInteger(timeout) ||
    timeout < 0 ||
    timeout > MAX_TIMEOUT
  ) {
    throw new InvalidArgumentError(
      `${name} must be an integer number of milliseconds in [0, ${MAX_TIMEOUT}]`,
    );
  }
}

/**
 * Checks a `signal` option: an `AbortSignal`, or `undefined`. Throws {@link InvalidArgumentError}
 * before any I/O otherwise (anything else would fail later with a `TypeError`, possibly after a
 * request was sent).
 */
export function validateSignal(signal: unknown, name = 'signal'): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`${name} must be an AbortSignal`);
  }
}

/**
 * One signal that aborts when any of the given ones does, or when `timeout` ms have passed (with
 * a `TimeoutError`). `undefined` entries are skipped.
 */
export function combineSignals(
  options: WaitOptions,
  ...more: (AbortSignal | undefined)[]
): AbortSignal | undefined {
  validateTimeout(options.timeout);
  validateSignal(options.signal);
  const all: AbortSignal[] = [];
  if (options.signal) all.push(options.signal);
  if (options.timeout !== undefined) all.push(AbortSignal.timeout(options.timeout));
  for (const s of more) if (s) all.push(s);
  if (all.length === 0) return undefined;
  if (all.length === 1) return all[0];
  return AbortSignal.any(all);
}

/**
 * Settles with `promise`, or rejects with the signal's reason as soon as it aborts. The work
 * behind `promise` is not cancelled; callers that own resources must clean up themselves.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (!(signal instanceof AbortSignal)) {
    promise.catch(() => undefined);
    return Promise.reject(new InvalidArgumentError('signal must be an AbortSignal'));
  }
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
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

/**
 * Resolves after `ms`, or rejects with the signal's reason if it aborts first. Removes its
 * listener from the signal either way, so delays in a loop on a long-lived signal add nothing to
 * it.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return Promise.reject(new InvalidArgumentError('signal must be an AbortSignal'));
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface Followers {
  readonly controllers: Set<AbortController>;
  readonly onAbort: () => void;
}

const followersOf = new WeakMap<AbortSignal, Followers>();

/**
 * Aborts `child` with `parent`'s reason when `parent` aborts, until the returned function is
 * called. All children of one parent share a single listener on it, removed with the last
 * child: any number of waits on a long-lived signal add at most one listener to it and keep
 * nothing once unlinked. (`AbortSignal.any` cannot serve here: Node 20 keeps an entry in each
 * source signal for every signal combined from it until the source aborts, about 55 bytes a
 * call, so a long-lived source grows with every wait.)
 */
export function follow(parent: AbortSignal, child: AbortController): () => void {
  if (parent.aborted) {
    child.abort(parent.reason);
    return () => undefined;
  }
  let followers = followersOf.get(parent);
  if (!followers) {
    const controllers = new Set<AbortController>();
    const onAbort = () => {
      followersOf.delete(parent);
      for (const c of controllers) c.abort(parent.reason);
    };
    followers = { controllers, onAbort };
    followersOf.set(parent, followers);
    parent.addEventListener('abort', onAbort, { once: true });
  }
  const { controllers, onAbort } = followers;
  controllers.add(child);
  return () => {
    if (!controllers.delete(child) || controllers.size > 0) return;
    if (followersOf.get(parent)?.controllers === controllers) followersOf.delete(parent);
    parent.removeEventListener('abort', onAbort);
  };
}
