import { NoNodeError, type ZkClient } from '@zkit/core';

/** The children of `path`, or `[]` when it does not exist (or was reaped as a container). */
export async function children(client: ZkClient, path: string): Promise<string[]> {
  try {
    return (await client.getChildren(path)).sort();
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}

/** Whether a promise has settled, without waiting for it. */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const result = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<symbol>((resolve) => setImmediate(() => resolve(marker))),
  ]);
  return result !== marker;
}

/** The rejection reason of a promise that must reject. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Settles the promise in the background, so a test's early end leaves no unhandled rejection. */
export function track<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
