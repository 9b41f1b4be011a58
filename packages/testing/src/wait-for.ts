import { WaitTimeoutError } from './errors.js';
import { sleep } from './sleep.js';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeout?: number;
  /** Pause between two evaluations of the predicate, in milliseconds (default 20). */
  interval?: number;
  /** Describes the condition in the timeout error ("the client to reconnect"). */
  message?: string;
  /** Stop waiting early; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Polls `predicate` until it returns (or resolves to) a truthy value, and resolves with that
 * value. A predicate that throws counts as "not yet"; its last error becomes the `cause` of the
 * timeout error, so a failing assertion inside the predicate explains the timeout.
 *
 * Tests against a real server should wait on conditions like this, with a deadline, rather than
 * sleep for a guessed time: the wait ends as soon as the condition holds, and a timeout says what
 * did not happen.
 *
 * @throws {@link WaitTimeoutError} when `timeout` elapses first.
 * @example
 * ```ts
 * await waitFor(() => client.state === 'suspended', { timeout: 5000, message: 'the client to suspend' });
 * const stat = await waitFor(() => client.exists('/ready'));
 * ```
 */
export async function waitFor<T>(
  predicate: () => T | PromiseLike<T>,
  options: WaitForOptions = {},
): Promise<Exclude<Awaited<T>, false | 0 | 0n | '' | null | undefined>> {
  const { timeout = 10_000, interval = 20, signal } = options;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    signal?.throwIfAborted();
    attempts += 1;
    try {
      const value = await predicate();
      if (value) return value as Exclude<Awaited<T>, false | 0 | 0n | '' | null | undefined>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const what = options.message ?? 'the condition';
      throw new WaitTimeoutError(
        `Timed out after ${timeout} ms (${attempts} checks) waiting for ${what}`,
        lastError === undefined ? undefined : { cause: lastError },
      );
    }
    await sleep(Math.min(interval, left), signal);
  }
}
