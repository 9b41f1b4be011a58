/**
 * Small waiting helpers shared by the election recipes. Internal: not exported from the package.
 *
 * @module
 */

/** A controller that follows a parent signal; `done()` detaches it and aborts it. */
export interface Scope {
  readonly signal: AbortSignal;
  /** Ends the scope: waits bound to it (and their watch registrations) are dropped. */
  done(): void;
}

const DONE = new Error('scope ended');

/**
 * A signal that aborts with the parent's reason, or when `done()` is called. Reads made with it
 * drop their watch registrations in the client once the scope ends, so nothing accumulates.
 */
export function scope(parent: AbortSignal): Scope {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, done: () => undefined };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    done: () => {
      parent.removeEventListener('abort', onAbort);
      controller.abort(DONE);
    },
  };
}

/**
 * Resolves with the promise's value, or with `undefined` as soon as one of the signals aborts.
 * Rejects only if the promise rejects before any signal aborts.
 */
export function until<T>(promise: Promise<T>, ...signals: AbortSignal[]): Promise<T | undefined> {
  if (signals.some((s) => s.aborted)) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const settle = () => {
      for (const s of signals) s.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      settle();
      resolve(undefined);
    };
    for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}

/** Backoff after `failures` consecutive unexpected errors: 100 ms doubling up to 5 s. */
export function backoff(failures: number): number {
  return Math.min(5000, 100 * 2 ** Math.max(0, failures - 1));
}
